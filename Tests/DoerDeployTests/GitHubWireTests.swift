import DoerCore
import DoerDeploy
import DoerStore
import DoerTestSupport
import Foundation
import Testing

func fixture(_ name: String) throws -> Data {
    let url = try #require(Bundle.module.url(forResource: "Fixtures/github/\(name)", withExtension: "json"))
    return try Data(contentsOf: url)
}

/// A GitHub API stand-in answering from recorded JSON.
func fakeGitHub() throws -> FixtureServer {
    let pull = try fixture("create-pull-request")
    let runs = try fixture("workflow-runs")
    let run = try fixture("workflow-run-completed")
    let badCredentials = try fixture("bad-credentials")
    return try FixtureServer { request in
        guard request.header("Authorization") == "Bearer ghp_testtoken0123456789abcdef" else {
            return .init(status: 401, body: badCredentials)
        }
        switch (request.method, request.uri) {
        case ("POST", "/repos/octo-org/hello/pulls"): return .init(status: 201, body: pull)
        case ("POST", "/repos/octo-org/hello/actions/workflows/ci.yml/dispatches"): return .init(status: 204, body: Data())
        case ("GET", let uri) where uri.hasPrefix("/repos/octo-org/hello/actions/workflows/ci.yml/runs?"): return .init(status: 200, body: runs)
        case ("GET", "/repos/octo-org/hello/actions/runs/30433642"): return .init(status: 200, body: run)
        default: return .init(status: 404, json: #"{"message":"Not Found"}"#)
        }
    }
}

@Suite("GitHub wire formats")
struct GitHubWireTests {
    func settings(_ server: FixtureServer) -> DeploySettings {
        var settings = DeploySettings()
        settings.githubAPIURL = server.baseURL
        settings.githubRepository = "octo-org/hello"
        settings.githubWorkflow = "ci.yml"
        return settings
    }

    let environment = ["GITHUB_TOKEN": "ghp_testtoken0123456789abcdef"]

    @Test("create a pull request: POST /repos/{repo}/pulls with title, head, base, body")
    func pullRequest() async throws {
        let server = try fakeGitHub()
        let client = try GitHubClient(settings: settings(server), environment: environment, remoteURL: nil)
        let pull = try await client.createPullRequest(head: "doer/feature", base: "main", title: "add a greeting script", body: "Plan:\n- write app.py")
        #expect(pull.number == 42)
        #expect(pull.url == "https://github.com/octo-org/hello/pull/42")
        let request = try #require(server.recorded.first)
        #expect(request.header("Accept") == "application/vnd.github+json")
        #expect(request.header("X-GitHub-Api-Version") == "2022-11-28")
        let body = try #require(try JSONSerialization.jsonObject(with: request.data) as? [String: String])
        #expect(body == ["title": "add a greeting script", "head": "doer/feature", "base": "main", "body": "Plan:\n- write app.py"])
    }

    @Test("workflow_dispatch: POST …/dispatches with ref and inputs, then the run is found and followed to its conclusion")
    func workflowDispatch() async throws {
        let server = try fakeGitHub()
        let client = try GitHubClient(settings: settings(server), environment: environment, remoteURL: nil)
        let target = try GitHubActionsTarget(client: client, workflow: "ci.yml")
        let run = try await target.trigger(DeployContext(branch: "doer/feature", commit: "6dcb09b", session: "s-9", remoteURL: "x"))
        #expect(run.id == "30433642")
        #expect(run.status == "queued")
        #expect(run.url == "https://github.com/octo-org/hello/actions/runs/30433642")
        let dispatch = try #require(server.recorded.first)
        #expect(dispatch.method == "POST")
        let body = try #require(try JSONSerialization.jsonObject(with: dispatch.data) as? [String: Any])
        #expect(body["ref"] as? String == "doer/feature")
        #expect(body["inputs"] as? [String: String] == ["doer_session": "s-9"])
        let list = server.recorded[1]
        #expect(list.uri.contains("event=workflow_dispatch"))
        #expect(list.uri.contains("branch=doer/feature") || list.uri.contains("branch=doer%2Ffeature"))
        let finished = try await target.status(of: run)
        #expect(finished.status == "completed")
        #expect(finished.conclusion == "failure")
        #expect(finished.finished && !finished.succeeded)
    }

    @Test("a bad token is reported as such, naming the variable it came from")
    func badToken() async throws {
        let server = try fakeGitHub()
        let client = try GitHubClient(settings: settings(server), environment: ["GITHUB_TOKEN": "nope"], remoteURL: nil)
        let error = await #expect(throws: DeployError.self) {
            try await client.createPullRequest(head: "a", base: "main", title: "t", body: "")
        }
        #expect(error?.description.contains("401") == true)
        #expect(error?.description.contains("GITHUB_TOKEN") == true)
    }

    @Test("a validation error from GitHub carries its message")
    func validationFailed() async throws {
        let body = try fixture("validation-failed")
        let server = try FixtureServer { _ in .init(status: 422, body: body) }
        var settings = DeploySettings()
        settings.githubAPIURL = server.baseURL
        settings.githubRepository = "octo-org/hello"
        let client = try GitHubClient(settings: settings, environment: environment, remoteURL: nil)
        let error = await #expect(throws: DeployError.self) {
            try await client.createPullRequest(head: "a", base: "main", title: "t", body: "")
        }
        #expect(error?.description.contains("Validation Failed") == true)
    }

    @Test("missing token or repository are configuration errors that say what to set")
    func configuration() throws {
        #expect(throws: DeployError.self) { try GitHubClient(settings: DeploySettings(), environment: environment, remoteURL: "file:///x.git") }
        #expect(throws: DeployError.self) { try GitHubClient(settings: DeploySettings(), environment: [:], remoteURL: "git@github.com:a/b.git") }
        #expect(GitHubClient.repository(fromRemote: "git@github.com:octo-org/hello.git") == "octo-org/hello")
        #expect(GitHubClient.repository(fromRemote: "https://github.com/octo-org/hello") == "octo-org/hello")
        #expect(GitHubClient.repository(fromRemote: "ssh://git@github.com/octo-org/hello.git") == "octo-org/hello")
        #expect(GitHubClient.repository(fromRemote: "https://gitlab.com/a/b.git") == nil)
    }

    @Test("a deploy with --pr and --ci github records the pull request and the run; the token never reaches the trail")
    func fullDeploy() async throws {
        let server = try fakeGitHub()
        let git = try GitFixture()
        let log = try auditLog(in: git.scratch)
        try git.write("app.py", "print(1)\n")
        let deployer = Deployer(settings: settings(server), audit: log, actor: "tester",
                                approver: ScriptedApprover(approved: true), environment: environment)
        let report = try await deployer.deploy(DeployRequest(workspace: git.work, branch: "doer/feature", pullRequest: true,
                                                             ci: "github", session: "s-2", task: "add a greeting script"))
        #expect(report.pullRequest?.number == 42)
        let finished = try await deployer.watch(try #require(report.ciRun), target: try #require(report.ciTarget),
                                                session: "s-2", seconds: 30, interval: 0.01)
        #expect(finished.conclusion == "failure")
        let records = try log.records()
        #expect(records.map(\.kind) == ["approval", "git.commit", "git.push", "pull-request", "ci.trigger", "ci.status"])
        #expect(records[3].details["url"] == "https://github.com/octo-org/hello/pull/42")
        #expect(records[5].details["conclusion"] == "failure")
        #expect(!records.contains { $0.canonicalJSON.contains("ghp_testtoken") })
        #expect(try log.verify().intact)
    }
}
