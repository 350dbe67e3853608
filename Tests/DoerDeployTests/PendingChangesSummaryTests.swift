@testable import DoerDeploy
import DoerCore
import DoerStore
import Foundation
import Testing

/// What a person approving a deploy is shown of the files to be committed.
@Suite("deploy approval: the pending files shown", .serialized)
struct PendingChangesSummaryTests {
    /// Remembers the summary it was asked to approve, and says no.
    final class RecordingApprover: DeployApprover, @unchecked Sendable {
        var summary = ""
        func approve(_ summary: String) async -> ApprovalDecision {
            self.summary = summary
            return ApprovalDecision(approved: false, by: "tester", method: "scripted", reason: "only looking")
        }
    }

    @Test("an un-ignored .env among forty new files is listed first and marked, with the .gitignore change; the rest is counted")
    func secretAmongMany() async throws {
        let fixture = try GitFixture()
        try sh("printf '.env\\n' > .gitignore && git add .gitignore && git commit -q -m ignore && printf 'TOKEN=1\\n' > .env",
               in: fixture.work)
        for index in 0..<40 { try fixture.write(String(format: "module_%02d.py", index), "x = \(index)\n") }
        // What a run would do: stop ignoring it.
        try fixture.write(".gitignore", "\n")
        let approver = RecordingApprover()
        let log = try auditLog(in: fixture.scratch)
        let deployer = Deployer(settings: DeploySettings(), audit: log, actor: "tester", approver: approver, environment: [:])
        await #expect(throws: DeployError.self) {
            try await deployer.deploy(DeployRequest(workspace: fixture.work, branch: "doer/many", session: nil, task: "t"))
        }
        let lines = approver.summary.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(approver.summary.contains("42 uncommitted change(s) to commit"))
        let envLine = try #require(lines.firstIndex { $0.hasSuffix(".env    ⚠ may hold a secret") }, "\(approver.summary)")
        let ignoreLine = try #require(lines.firstIndex { $0.contains(".gitignore") && $0.contains("⚠ changes what git ignores") })
        let firstModule = try #require(lines.firstIndex { $0.contains("module_") })
        #expect(envLine < firstModule && ignoreLine < firstModule, "marked files come before the rest")
        #expect(lines.filter { $0.contains("module_") }.count == 20)
        #expect(lines.contains("… and 20 more"))
        #expect(try sh("git -C '\(fixture.work.path)' status --porcelain").contains(".env"), "a refused deploy commits nothing")
    }

    @Test("names that may hold secrets are marked, ordinary ones are not", arguments: [
        ("?? .env", true), ("?? config/.env.production", true), (" M deploy/server.pem", true), ("?? keys/id_ed25519", true),
        ("?? .npmrc", true), ("A  app/client_secret.json", true), ("R  old.txt -> creds/.git-credentials", true),
        ("?? \"dir with space/prod.key\"", true), ("?? infra/main.tfvars", true),
        ("?? src/app.py", false), ("?? README.md", false), (" M environment.py", false), ("?? docs/keyboard.md", false),
    ])
    func marks(line: String, marked: Bool) {
        let path = PendingChangesSummary.path(of: line)
        #expect((PendingChangesSummary.warning(forPath: path) != nil) == marked, "\(line) → \(path)")
    }

    @Test("files that make something run when pushed or checked out are marked; the same names deeper down or ordinary YAML are not", arguments: [
        ("?? .github/workflows/lint.yml", true), ("?? .GitHub/Workflows/x.yaml", true), (" M .gitlab-ci.yml", true),
        ("?? .circleci/config.yml", true), ("?? Jenkinsfile", true), ("?? .github/actions/setup/action.yml", true),
        ("?? .envrc", true), ("?? sub/.envrc", true), ("?? .husky/pre-commit", true), ("?? .pre-commit-config.yaml", true),
        ("?? .gitattributes", true), ("?? .vscode/tasks.json", true),
        ("?? docs/.github/workflows/x.yml", false), ("?? src/jenkinsfile.py", false), ("?? config/app.yml", false),
        ("?? .github/ISSUE_TEMPLATE/bug.md", false),
    ])
    func marksWhatRuns(line: String, marked: Bool) {
        let path = PendingChangesSummary.path(of: line)
        #expect((PendingChangesSummary.warning(forPath: path) != nil) == marked, "\(line) → \(path)")
    }

    @Test("a new workflow after twenty-six files whose names sort first is still listed, first and marked")
    func workflowAmongMany() {
        let lines = (10...35).map { "?? -notes\($0).md" } + ["?? .github/workflows/lint.yml"]
        let rendered = PendingChangesSummary(lines: lines.sorted()).rendered
        #expect(rendered.first == "?? .github/workflows/lint.yml    ⚠ a CI definition: pushing it runs it, with the repository's secrets")
        #expect(rendered.last == "… and 6 more")
    }

    @Test("a short list is shown whole, with nothing counted")
    func shortList() {
        let rendered = PendingChangesSummary(lines: ["?? a.py", " M b.py"]).rendered
        #expect(rendered == ["?? a.py", " M b.py"])
    }
}
