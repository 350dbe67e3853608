import DoerCore
import DoerDeploy
import DoerStore
import DoerTestSupport
import Foundation
import Testing

func gitlabFixture(_ name: String) throws -> Data {
    let url = try #require(Bundle.module.url(forResource: "Fixtures/gitlab/\(name)", withExtension: "json"))
    return try Data(contentsOf: url)
}

@Suite("GitLab wire formats")
struct GitLabWireTests {
    let environment = ["GITLAB_TOKEN": "glpat-testtoken0123456789abcd"]

    func fakeGitLab() throws -> FixtureServer {
        let mergeRequest = try gitlabFixture("create-merge-request")
        let pipeline = try gitlabFixture("create-pipeline")
        let finished = try gitlabFixture("pipeline-success")
        return try FixtureServer { request in
            guard request.header("PRIVATE-TOKEN") == "glpat-testtoken0123456789abcd" else {
                return .init(status: 401, json: #"{"message":"401 Unauthorized"}"#)
            }
            switch (request.method, request.uri) {
            case ("POST", "/api/v4/projects/team%2Fapp/merge_requests"): return .init(status: 201, body: mergeRequest)
            case ("POST", "/api/v4/projects/team%2Fapp/pipeline"): return .init(status: 201, body: pipeline)
            case ("GET", "/api/v4/projects/team%2Fapp/pipelines/1290001"): return .init(status: 200, body: finished)
            default: return .init(status: 404, json: #"{"message":"404 Project Not Found"}"#)
            }
        }
    }

    func settings(_ server: FixtureServer) -> DeploySettings {
        var settings = DeploySettings()
        settings.gitlabAPIURL = server.baseURL + "/api/v4"
        settings.gitlabProject = "team/app"
        return settings
    }

    @Test("merge request and pipeline: the project path is escaped, the token goes in PRIVATE-TOKEN, statuses are mapped")
    func wire() async throws {
        let server = try fakeGitLab()
        let client = try GitLabClient(settings: settings(server), environment: environment)
        let mergeRequest = try await client.createMergeRequest(source: "doer/feature", target: "main", title: "t", description: "d")
        #expect(mergeRequest.number == 17)
        #expect(mergeRequest.url == "https://gitlab.example.com/team/app/-/merge_requests/17")
        let body = try #require(try JSONSerialization.jsonObject(with: server.recorded[0].data) as? [String: String])
        #expect(body == ["source_branch": "doer/feature", "target_branch": "main", "title": "t", "description": "d"])

        let target = GitLabPipelineTarget(client: client)
        let run = try await target.trigger(DeployContext(branch: "doer/feature", commit: "6dcb09b", session: "s-3", remoteURL: "x"))
        #expect(run.id == "1290001")
        #expect(run.status == "queued")
        let pipelineBody = try #require(try JSONSerialization.jsonObject(with: server.recorded[1].data) as? [String: Any])
        #expect(pipelineBody["ref"] as? String == "doer/feature")
        #expect(pipelineBody["variables"] as? [[String: String]] == [["key": "DOER_SESSION", "value": "s-3"]])
        let finished = try await target.status(of: run)
        #expect(finished.status == "completed")
        #expect(finished.conclusion == "success")
        #expect(finished.succeeded)
    }

    @Test("a bad token and an unknown project are reported with what to check")
    func errors() async throws {
        let server = try fakeGitLab()
        let bad = try GitLabClient(settings: settings(server), environment: ["GITLAB_TOKEN": "nope"])
        let unauthorized = await #expect(throws: DeployError.self) { try await bad.pipeline(id: "1") }
        #expect(unauthorized?.description.contains("GITLAB_TOKEN") == true)
        var other = settings(server)
        other.gitlabProject = "team/missing"
        let missing = await #expect(throws: DeployError.self) {
            try await GitLabClient(settings: other, environment: environment).pipeline(id: "1")
        }
        #expect(missing?.description.contains("team/missing exists") == true)
        #expect(throws: DeployError.self) { try GitLabClient(settings: DeploySettings(), environment: environment) }
    }

    @Test("--pr with a GitLab project opens a merge request; the audit record names the forge")
    func deploy() async throws {
        let server = try fakeGitLab()
        let git = try GitFixture()
        let log = try auditLog(in: git.scratch)
        try git.write("app.py", "print(1)\n")
        let deployer = Deployer(settings: settings(server), audit: log, actor: "tester",
                                approver: ScriptedApprover(approved: true), environment: environment)
        let report = try await deployer.deploy(DeployRequest(workspace: git.work, branch: "doer/feature", pullRequest: true, ci: "gitlab"))
        #expect(report.pullRequest?.number == 17)
        #expect(report.ciRun?.id == "1290001")
        let records = try log.records()
        #expect(records.map(\.kind) == ["approval", "git.commit", "git.push", "pull-request", "ci.trigger"])
        #expect(records[3].details["forge"] == "gitlab")
        #expect(!records.contains { $0.canonicalJSON.contains("glpat-testtoken") })
    }
}
