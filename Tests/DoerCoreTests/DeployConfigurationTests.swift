import DoerConfig
import DoerCore
import DoerDeploy
import DoerStore
import Foundation
import Testing

@Suite("audit and deploy configuration")
struct DeployConfigurationTests {
    @Test("[audit] and [deploy] tables are read; DOER_AUDIT_KEY overrides the key file")
    func tables() throws {
        let keyFile = FileManager.default.temporaryDirectory.appendingPathComponent("doer-key-\(UUID())")
        defer { try? FileManager.default.removeItem(at: keyFile) }
        try "from-file\n".write(to: keyFile, atomically: true, encoding: .utf8)
        var configuration = DoerConfiguration()
        try configuration.apply(toml: """
            [audit]
            hmac_key_file = "\(keyFile.path)"
            user = "ana"

            [deploy]
            remote = "git@example.com:team/app.git"
            protected_branches = ["main", "release"]
            allow_protected = false
            base_branch = "develop"
            github_repository = "team/app"
            github_workflow = "ci.yml"
            github_api_url = "http://127.0.0.1:9999"
            webhook_url = "https://ci.example.com/hook"
            webhook_secret_env = "HOOK_SECRET"
            approval_timeout = 30
            """, source: "test")
        #expect(configuration.audit.user == "ana")
        #expect(try configuration.audit.resolvedKey() == Data("from-file".utf8))
        #expect(configuration.audit.actor(environment: ["USER": "root"]) == "ana")
        #expect(configuration.deploy.remote == "git@example.com:team/app.git")
        #expect(configuration.deploy.isProtected("release"))
        #expect(!configuration.deploy.isProtected("master"))
        #expect(configuration.deploy.baseBranch == "develop")
        #expect(configuration.deploy.githubRepository == "team/app")
        #expect(configuration.deploy.approvalTimeoutSeconds == 30)
        #expect(configuration.deploy.resolvedWebhookSecret(environment: ["HOOK_SECRET": "s"]) == "s")
        try configuration.apply(environment: ["DOER_AUDIT_KEY": "from-env"])
        #expect(try configuration.audit.resolvedKey() == Data("from-env".utf8))
    }

    @Test("bad values are errors that name the key", arguments: [
        ("[deploy]\nprotected_branches = \"main\"\n", "deploy.protected_branches"),
        ("[deploy]\ngithub_repository = \"nohslash\"\n", "deploy.github_repository"),
        ("[deploy]\nwebhook_url = \"ftp://x\"\n", "deploy.webhook_url"),
        ("[deploy]\napproval_timeout = -1\n", "deploy.approval_timeout"),
        ("[deploy]\npush_force = true\n", "deploy.push_force"),
        ("[audit]\nhmac_key_file = \"relative\"\n", "audit.hmac_key_file"),
    ])
    func badValues(toml: String, key: String) {
        var configuration = DoerConfiguration()
        #expect {
            try configuration.apply(toml: toml, source: "config.toml")
        } throws: { error in
            (error as? DoerError)?.description.contains(key) == true
        }
    }

    @Test("a key file that cannot be read is an error saying how to make one")
    func missingKeyFile() {
        let settings = AuditSettings(hmacKeyFile: "/nonexistent/doer-key")
        #expect(throws: DoerError.self) { try settings.resolvedKey() }
    }
}
