import DoerConfig
import DoerCore
import DoerSandbox
import Foundation
import Testing

@Suite("[sandbox.kubernetes] in config.toml")
struct KubernetesConfigurationTests {
    @Test("every key reaches the sandbox's settings")
    func keys() throws {
        var configuration = DoerConfiguration()
        try configuration.apply(toml: """
            [sandbox]
            backend = "kubernetes"
            [sandbox.kubernetes]
            api_server = "https://10.0.0.1:6443"
            namespace = "sandboxes"
            runtime_class = "kata"
            image = "example/doer-sandbox:1"
            token_file = "/etc/doer/token"
            ca_file = "/etc/doer/ca.crt"
            runner_port = 9000
            start_timeout = 30
            server_namespace = "tools"
            server_name = "doer-api"
            provisioning = "claim"
            sandbox_template = "python-sandbox"
            """, source: "config.toml")
        #expect(configuration.sandboxBackend == .kubernetes)
        let settings = configuration.sandboxConfiguration().kubernetes
        #expect(settings == KubernetesSettings(apiServer: "https://10.0.0.1:6443", namespace: "sandboxes", runtimeClass: "kata",
                                               image: "example/doer-sandbox:1", tokenFile: "/etc/doer/token", caFile: "/etc/doer/ca.crt",
                                               runnerPort: 9000, startTimeoutSeconds: 30, serverNamespace: "tools", serverName: "doer-api",
                                               provisioning: .claim, sandboxTemplate: "python-sandbox"))
        #expect(configuration.sandboxConfiguration().backend == .kubernetes)
    }

    @Test("the defaults: namespace doer-sandboxes, RuntimeClass gvisor, in-cluster credentials")
    func defaults() throws {
        let settings = DoerConfiguration().sandboxConfiguration().kubernetes
        #expect(settings.namespace == "doer-sandboxes")
        #expect(settings.runtimeClass == "gvisor")
        #expect(settings.apiServer == nil && settings.tokenFile == nil && settings.caFile == nil && settings.image == nil)
        #expect(settings.provisioning == .auto && settings.sandboxTemplate == "doer-sandbox")
        var environment = DoerConfiguration()
        try environment.apply(environment: ["DOER_SANDBOX_BACKEND": "kubernetes"])
        #expect(environment.sandboxBackend == .kubernetes)
    }

    @Test("bad values and unknown keys are errors that name the key")
    func errors() {
        for (text, key) in [("namespace = \"Not_A_Label\"", "namespace"), ("runner_port = 70000", "runner_port"),
                            ("token_file = \"relative\"", "token_file"), ("api_server = \"10.0.0.1\"", "api_server"),
                            ("imag = \"x\"", "imag"), ("start_timeout = 0", "start_timeout"),
                            ("provisioning = \"pods\"", "provisioning"), ("sandbox_template = \"Bad Name\"", "sandbox_template")] {
            var configuration = DoerConfiguration()
            #expect {
                try configuration.apply(toml: "[sandbox.kubernetes]\n" + text, source: "config.toml")
            } throws: { error in
                (error as? DoerError)?.description.contains("sandbox.kubernetes.\(key)") == true
            }
        }
    }

    @Test("the ConfigMap in deploy/kubernetes holds a config.toml this doer reads")
    func deployedConfiguration() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let manifest = try String(contentsOf: root.appendingPathComponent("deploy/kubernetes/40-doer-config.yaml"), encoding: .utf8)
        // The block scalar under `config.toml: |`, its indentation removed.
        let lines = manifest.components(separatedBy: "\n")
        let start = try #require(lines.firstIndex { $0.trimmingCharacters(in: .whitespaces) == "config.toml: |" })
        let indent = "    "
        let block = lines[(start + 1)...].prefix { $0.isEmpty || $0.hasPrefix(indent) }
        let toml = block.map { $0.hasPrefix(indent) ? String($0.dropFirst(indent.count)) : $0 }.joined(separator: "\n")
        #expect(toml.contains("[sandbox.kubernetes]"))
        var configuration = DoerConfiguration()
        try configuration.apply(toml: toml, source: "40-doer-config.yaml")
        #expect(configuration.sandboxBackend == .kubernetes)
        #expect(configuration.kubernetes.namespace == "doer-sandboxes")
        #expect(configuration.kubernetes.runtimeClass == "gvisor")
        #expect(configuration.kubernetes.image != nil)
        // In the pod, the API server and credentials are the service account's.
        #expect(configuration.kubernetes.apiServer == nil)
    }
}
