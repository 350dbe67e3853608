import DoerCore
import DoerDeploy
import DoerProcess
@testable import DoerServer
import DoerTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOHTTP1
import Testing

/// A bare repository on the local filesystem with one commit on main, the remote deploys
/// push to. Set up with the same git runner the deployer uses (never Foundation's Process,
/// which races with the sandbox's spawning in this test process).
struct BareRemote {
    let folder: URL
    var bare: URL { folder.appendingPathComponent("remote.git") }
    var url: String { "file://\(bare.path)" }

    init() async throws {
        folder = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("doer-remote-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let seed = folder.appendingPathComponent("seed")
        try await Self.git(["init", "-q", "--bare", "-b", "main", bare.path])
        try await Self.git(["init", "-q", "-b", "main", seed.path])
        try Data("hello\n".utf8).write(to: seed.appendingPathComponent("README.md"))
        try await Self.git(["-C", seed.path, "add", "README.md"])
        try await Self.git(["-C", seed.path, "-c", "user.name=Tester", "-c", "user.email=t@example.com", "commit", "-q", "-m", "initial"])
        try await Self.git(["-C", seed.path, "push", "-q", url, "main:main"])
    }

    @discardableResult
    static func git(_ arguments: [String]) async throws -> String {
        let output = try await ProcessRunner().run("git", arguments)
        guard output.succeeded else { throw DoerError.invalidArgument("git \(arguments.joined(separator: " ")): \(output.tail())") }
        return output.stdout
    }

    /// The commit `branch` points to, or nil when the remote has no such branch.
    func head(_ branch: String) async throws -> String? {
        let sha = try await Self.git(["--git-dir", bare.path, "for-each-ref", "--format=%(objectname)", "refs/heads/\(branch)"])
            .trimmingCharacters(in: .whitespacesAndNewlines)
        return sha.isEmpty ? nil : sha
    }

    func show(_ spec: String) async throws -> String {
        try await Self.git(["--git-dir", bare.path, "show", spec])
    }

    func branches() async throws -> [String] {
        try await Self.git(["--git-dir", bare.path, "for-each-ref", "--format=%(refname:short)", "refs/heads"])
            .split(separator: "\n").map(String.init)
    }

    func remove() { try? FileManager.default.removeItem(at: folder) }
}

/// GitHub's answers, in the shapes its REST API documents (trimmed to the fields read).
enum GitHubReplies {
    static let token = "ghp_servertest0123456789"
    static func json(_ status: HTTPResponseStatus, _ body: String) -> FixtureServer.Reply {
        FixtureServer.Reply(status: status, headers: [("Content-Type", "application/json")], chunks: body.isEmpty ? [] : [body])
    }
    static let pullRequest = json(.created, #"{"id": 1, "number": 42, "state": "open", "html_url": "https://github.com/octo-org/hello/pull/42", "head": {"ref": "x"}}"#)
    static let dispatched = json(.noContent, "")
    static let runs = json(.ok, #"{"total_count": 1, "workflow_runs": [{"id": 30433642, "status": "queued", "conclusion": null, "html_url": "https://github.com/octo-org/hello/actions/runs/30433642", "event": "workflow_dispatch"}]}"#)
    static func run(_ status: String, _ conclusion: String?) -> FixtureServer.Reply {
        let value = conclusion.map { "\"\($0)\"" } ?? "null"
        return json(.ok, #"{"id": 30433642, "status": "\#(status)", "conclusion": \#(value), "html_url": "https://github.com/octo-org/hello/actions/runs/30433642"}"#)
    }
}

@Suite("HTTP API: deploys of a session's applied change, approved by a person over HTTP")
struct ServerDeployTests {
    static let task = #"{"message": "Write add(a, b) in calc.py with tests"}"#

    static func settings(_ remote: BareRemote, github: FixtureServer? = nil, approvalTimeout: Double = 60) -> DeploySettings {
        var settings = DeploySettings()
        settings.remote = remote.url
        settings.approvalTimeoutSeconds = approvalTimeout
        settings.ciWaitSeconds = 30
        if let github {
            settings.githubAPIURL = github.baseURL
            settings.githubRepository = "octo-org/hello"
            settings.githubWorkflow = "ci.yml"
        }
        return settings
    }

    /// A session of `user` whose change the agent made and `user` approved.
    static func appliedSession(_ harness: ServerHarness, _ client: any TestClientProtocol, token: String) async throws -> String {
        let id = try #require(try await client.call(.post, "/v1/sessions", token: token, json: task).json["id"] as? String)
        try await harness.eventually("an approval is pending") { await !harness.server.hub.pendingApprovals(id).isEmpty }
        let approval = try #require(await harness.server.hub.pendingApprovals(id).first?.id)
        _ = try await client.call(.post, "/v1/sessions/\(id)/approvals/\(approval)", token: token, json: #"{"approve": true}"#)
        await harness.server.hub.waitUntilIdle(id)
        return id
    }

    static func state(_ client: any TestClientProtocol, _ path: String, token: String) async throws -> String {
        (try await client.call(.get, path, token: token).json["state"] as? String) ?? ""
    }

    @Test("approve: the change is pushed to a branch, the pull request opened, CI followed to success; all of it in events and audit")
    func approveDeploys() async throws {
        let remote = try await BareRemote()
        defer { remote.remove() }
        let github = try FixtureServer(replies: [GitHubReplies.pullRequest, GitHubReplies.dispatched, GitHubReplies.runs,
                                                 GitHubReplies.run("in_progress", nil), GitHubReplies.run("completed", "success")])
        let harness = try ServerHarness(deploy: Self.settings(remote, github: github), deployEnvironment: ["GITHUB_TOKEN": GitHubReplies.token])
        let ada = try harness.token("ada")
        try await harness.test { client in
            let id = try await Self.appliedSession(harness, client, token: ada)

            let targets = try await client.call(.get, "/v1/deploy/targets", token: ada).json
            let listed = (targets["targets"] as? [[String: Any]]) ?? []
            #expect(listed.first { $0["name"] as? String == "github" }?["available"] as? Bool == true)
            #expect(listed.first { $0["name"] as? String == "gitlab" }?["available"] as? Bool == false)
            #expect((targets["pull_request"] as? [String: Any])?["available"] as? Bool == true)

            let started = try await client.call(.post, "/v1/sessions/\(id)/deploys", token: ada,
                                                json: #"{"target": "github", "pull_request": true}"#)
            #expect(started.status == .accepted, "\(started.text)")
            let deployID = try #require(started.json["id"] as? String)
            #expect(started.headers[.location] == "/v1/sessions/\(id)/deploys/\(deployID)")
            let path = "/v1/sessions/\(id)/deploys/\(deployID)"
            try await harness.eventually("the deploy waits for approval") {
                try await Self.state(client, path, token: ada) == "awaiting_approval"
            }
            let pending = try await client.call(.get, path, token: ada).json
            let summary = try #require(pending["summary"] as? String)
            #expect(summary.contains("calc.py") && summary.contains("pull request") && summary.contains("start CI: github"), "\(summary)")
            #expect(summary.contains("applied change of this session") && !summary.contains("/deploys/"), "the server's folders are not shown: \(summary)")
            // Nothing leaves before the answer.
            #expect(try await remote.branches() == ["main"])
            #expect(github.recorded.isEmpty)

            let answer = try await client.call(.post, path + "/approval", token: ada, json: #"{"approved": true}"#)
            #expect(answer.status == .ok, "\(answer.text)")
            try await harness.eventually("the deploy ends") {
                ["succeeded", "failed", "ci_unfinished"].contains(try await Self.state(client, path, token: ada))
            }
            let final = try await client.call(.get, path, token: ada).json
            #expect(final["state"] as? String == "succeeded", "\(final)")
            let branch = try #require(final["branch"] as? String)
            #expect(branch == "doer/\(id.prefix(8))")
            #expect(final["pushed"] as? Bool == true)
            #expect((final["pull_request"] as? [String: Any])?["url"] as? String == "https://github.com/octo-org/hello/pull/42")
            let ci = try #require(final["ci"] as? [String: Any])
            #expect(ci["status"] as? String == "completed")
            #expect(ci["conclusion"] as? String == "success")
            #expect((final["approval"] as? [String: Any])?["by"] as? String == "ada")

            // A real push: the branch holds the change on top of main, with the session trailer.
            let head = try #require(try await remote.head(branch))
            #expect(final["commit"] as? String == head)
            #expect(try await remote.show("\(branch):calc.py") == Replies.right)
            #expect(try await remote.show("\(branch):README.md") == "hello\n")
            let message = try await BareRemote.git(["--git-dir", remote.bare.path, "log", "-1", "--format=%B", branch])
            #expect(message.contains("Doer-Session: \(id)") && message.contains("Doer-Approved-By: ada"), "\(message)")
            #expect(try await BareRemote.git(["--git-dir", remote.bare.path, "rev-parse", "\(branch)~1"])
                .trimmingCharacters(in: .whitespacesAndNewlines) == (try await remote.head("main")))

            // GitHub was asked for exactly the pull request, the dispatch, and the run's status.
            let requests = github.recorded
            #expect(requests.map { "\($0.method) \($0.uri.split(separator: "?").first ?? "")" } == [
                "POST /repos/octo-org/hello/pulls", "POST /repos/octo-org/hello/actions/workflows/ci.yml/dispatches",
                "GET /repos/octo-org/hello/actions/workflows/ci.yml/runs", "GET /repos/octo-org/hello/actions/runs/30433642",
                "GET /repos/octo-org/hello/actions/runs/30433642",
            ])
            #expect(requests.allSatisfy { $0.header("Authorization") == "Bearer \(GitHubReplies.token)" })
            #expect(requests[0].body.contains("\"head\":\"\(branch.replacingOccurrences(of: "/", with: "\\/"))\"")
                    || requests[0].body.contains("\"head\":\"\(branch)\""), "\(requests[0].body)")

            // The session's events carried each step, as followers and reconnecting clients see them.
            try await harness.eventually("the last state is recorded") {
                parseSSE(try await client.call(.get, "/v1/sessions/\(id)/events?follow=false", token: ada).text)
                    .last { $0.type == "deploy" }?.data.contains("\"state\":\"succeeded\"") == true
            }
            // Recorded, the finished deploy leaves the server's memory and is read back from the events, unchanged.
            try await harness.eventually("the finished deploy is let go") { await harness.server.deploys.liveCount == 0 }
            #expect(try await client.call(.get, path, token: ada).json["state"] as? String == "succeeded")
            #expect(try await client.call(.get, path, token: ada).json["commit"] as? String == head)
            let events = parseSSE(try await client.call(.get, "/v1/sessions/\(id)/events?follow=false", token: ada).text)
            #expect(events.map(\.id) == Array(1...events.count))
            let states = events.filter { $0.type == "deploy" }.compactMap { event -> String? in
                let object = try? JSONSerialization.jsonObject(with: Data(event.data.utf8)) as? [String: Any]
                return ((object?["deploy"] as? [String: Any])?["_0"] as? [String: Any])?["state"] as? String
            }
            #expect(states.first == "preparing")
            for expected in ["awaiting_approval", "deploying", "ci_running", "succeeded"] { #expect(states.contains(expected), "\(states)") }
            #expect(events.contains { $0.type == "deploy" && $0.data.contains("in_progress") })
            let list = try await client.call(.get, "/v1/sessions/\(id)/deploys", token: ada).json
            #expect((list["deploys"] as? [[String: Any]])?.map { $0["id"] as? String } == [deployID])

            // The audit trail: the request, the approval by ada, commit, push, pull request, CI trigger and status.
            let records = (try await client.call(.get, "/v1/sessions/\(id)/audit", token: ada).json["records"] as? [[String: Any]]) ?? []
            func details(_ record: [String: Any]) -> [String: Any] { record["details"] as? [String: Any] ?? [:] }
            let kinds = records.compactMap { $0["kind"] as? String }
            for kind in ["git.commit", "git.push", "pull-request", "ci.trigger", "ci.status"] { #expect(kinds.contains(kind), "\(kinds)") }
            #expect(records.contains { $0["kind"] as? String == "approval" && details($0)["subject"] as? String == "deploy"
                    && details($0)["approved"] as? Bool == true && $0["actor"] as? String == "ada" })
            #expect(records.contains { $0["kind"] as? String == "git.push" && details($0)["result"] as? String == "pushed" })
            #expect(records.contains { $0["kind"] as? String == "note" && details($0)["event"] as? String == "requested" })
            // The clone it committed in is gone.
            let scratch = harness.directories.cache.appendingPathComponent("deploys")
            #expect(((try? FileManager.default.contentsOfDirectory(atPath: scratch.path)) ?? []).isEmpty)
        }
    }

    @Test("CI that fails, and a remote that went away before the push: the deploy fails, saying why, and no push is recorded as made")
    func failuresAfterApproval() async throws {
        let remote = try await BareRemote()
        defer { remote.remove() }
        let github = try FixtureServer(replies: [GitHubReplies.dispatched, GitHubReplies.runs, GitHubReplies.run("completed", "failure")])
        let harness = try ServerHarness(deploy: Self.settings(remote, github: github), deployEnvironment: ["GITHUB_TOKEN": GitHubReplies.token])
        let ada = try harness.token("ada")
        try await harness.test { client in
            let id = try await Self.appliedSession(harness, client, token: ada)
            let deploys = "/v1/sessions/\(id)/deploys"
            let first = try #require(try await client.call(.post, deploys, token: ada, json: #"{"target": "github"}"#).json["id"] as? String)
            try await harness.eventually("the deploy waits for approval") {
                try await Self.state(client, deploys + "/\(first)", token: ada) == "awaiting_approval"
            }
            _ = try await client.call(.post, deploys + "/\(first)/approval", token: ada, json: #"{"approved": true}"#)
            try await harness.eventually("the deploy ends") {
                try await Self.state(client, deploys + "/\(first)", token: ada) == "failed"
            }
            let failed = try await client.call(.get, deploys + "/\(first)", token: ada).json
            #expect(failed["pushed"] as? Bool == true)
            #expect((failed["ci"] as? [String: Any])?["conclusion"] as? String == "failure")
            #expect((failed["error"] as? String)?.contains("CI finished without success") == true, "\(failed)")

            // The remote disappears while the second deploy waits for its answer.
            let second = try #require(try await client.call(.post, deploys, token: ada, json: #"{"branch": "doer/second"}"#).json["id"] as? String)
            try await harness.eventually("the deploy waits for approval") {
                try await Self.state(client, deploys + "/\(second)", token: ada) == "awaiting_approval"
            }
            try FileManager.default.removeItem(at: remote.bare)
            _ = try await client.call(.post, deploys + "/\(second)/approval", token: ada, json: #"{"approved": true}"#)
            try await harness.eventually("the deploy ends") {
                try await Self.state(client, deploys + "/\(second)", token: ada) == "failed"
            }
            let lost = try await client.call(.get, deploys + "/\(second)", token: ada).json
            #expect(lost["pushed"] as? Bool == false)
            #expect((lost["error"] as? String)?.contains("pushing 'doer/second'") == true, "\(lost)")
            let records = (try await client.call(.get, "/v1/sessions/\(id)/audit", token: ada).json["records"] as? [[String: Any]]) ?? []
            let pushes = records.filter { $0["kind"] as? String == "git.push" }.compactMap { $0["details"] as? [String: Any] }
            #expect(pushes.map { $0["result"] as? String } == ["pushed", "failed"])
            #expect(records.contains { $0["kind"] as? String == "note" && ($0["details"] as? [String: Any])?["event"] as? String == "failed" })
        }
    }

    @Test("deny, and an approval nobody gives in time: nothing is pushed, nothing reaches GitHub")
    func denyAndTimeout() async throws {
        let remote = try await BareRemote()
        defer { remote.remove() }
        let github = try FixtureServer(replies: [])
        let harness = try ServerHarness(deploy: Self.settings(remote, github: github, approvalTimeout: 1.5),
                                        deployEnvironment: ["GITHUB_TOKEN": GitHubReplies.token])
        let ada = try harness.token("ada")
        try await harness.test { client in
            let id = try await Self.appliedSession(harness, client, token: ada)
            let first = try #require(try await client.call(.post, "/v1/sessions/\(id)/deploys", token: ada,
                                                           json: #"{"target": "github", "pull_request": true}"#).json["id"] as? String)
            let path = "/v1/sessions/\(id)/deploys/\(first)"
            try await harness.eventually("the deploy waits for approval") {
                try await Self.state(client, path, token: ada) == "awaiting_approval"
            }
            let denied = try await client.call(.post, path + "/approval", token: ada, json: #"{"approved": false}"#)
            #expect(denied.status == .ok)
            #expect(denied.json["state"] as? String == "denied")
            let again = try await client.call(.post, path + "/approval", token: ada, json: #"{"approved": true}"#)
            #expect(again.status == .conflict, "\(again.text)")
            #expect(try await Self.state(client, path, token: ada) == "denied")

            // Unanswered: the timeout says no.
            let second = try #require(try await client.call(.post, "/v1/sessions/\(id)/deploys", token: ada,
                                                            json: #"{"target": "github"}"#).json["id"] as? String)
            try await harness.eventually("the deploy times out") {
                try await Self.state(client, "/v1/sessions/\(id)/deploys/\(second)", token: ada) == "denied"
            }
            let timedOut = try await client.call(.get, "/v1/sessions/\(id)/deploys/\(second)", token: ada).json
            #expect((timedOut["approval"] as? [String: Any])?["method"] as? String == "timeout")
            #expect(timedOut["pushed"] as? Bool == false)
            // Both ended: read back from the session's events, with their answers, once let go.
            try await harness.eventually("the finished deploys are let go") { await harness.server.deploys.liveCount == 0 }
            let read = try await client.call(.get, "/v1/sessions/\(id)/deploys", token: ada).json["deploys"] as? [[String: Any]]
            #expect(read?.map { $0["state"] as? String } == ["denied", "denied"])
            #expect(read?.map { ($0["approval"] as? [String: Any])?["method"] as? String } == ["http", "timeout"])

            #expect(try await remote.branches() == ["main"])
            #expect(github.recorded.isEmpty)
            let records = (try await client.call(.get, "/v1/sessions/\(id)/audit", token: ada).json["records"] as? [[String: Any]]) ?? []
            let answers = records.filter { $0["kind"] as? String == "approval" && ($0["details"] as? [String: Any])?["subject"] as? String == "deploy" }
            #expect(answers.compactMap { ($0["details"] as? [String: Any])?["approved"] as? Bool } == [false, false])
            #expect(!records.contains { $0["kind"] as? String == "git.push" || $0["kind"] as? String == "git.commit" })
        }
    }

    @Test("refused with a clear error: no token, another user's session, unknown target, nothing to deploy, a second deploy, bad JSON")
    func failures() async throws {
        let remote = try await BareRemote()
        defer { remote.remove() }
        let harness = try ServerHarness(deploy: Self.settings(remote))
        let ada = try harness.token("ada")
        let bob = try harness.token("bob")
        try await harness.test { client in
            let id = try await Self.appliedSession(harness, client, token: ada)
            let deploys = "/v1/sessions/\(id)/deploys"

            #expect(try await client.call(.post, deploys, token: nil, json: "{}").status == .unauthorized)
            #expect(try await client.call(.post, deploys, token: "doer_wrong", json: "{}").status == .unauthorized)
            #expect(try await client.call(.get, "/v1/deploy/targets", token: nil).status == .unauthorized)

            let foreign = try await client.call(.post, deploys, token: bob, json: "{}")
            #expect(foreign.status == .notFound)
            #expect(foreign.errorMessage == "no session \(id)")
            #expect(try await client.call(.get, deploys, token: bob).status == .notFound)

            let unknown = try await client.call(.post, deploys, token: ada, json: #"{"target": "jenkins"}"#)
            #expect(unknown.status == .badRequest)
            #expect(unknown.errorMessage.contains("no CI target named 'jenkins'") && unknown.errorMessage.contains("github"), "\(unknown.text)")
            let unconfigured = try await client.call(.post, deploys, token: ada, json: #"{"target": "github"}"#)
            #expect(unconfigured.status == .badRequest)
            #expect(unconfigured.errorMessage.contains("github"), "\(unconfigured.text)")
            let protected = try await client.call(.post, deploys, token: ada, json: #"{"branch": "main"}"#)
            #expect(protected.status == .badRequest)
            #expect(protected.errorMessage.contains("protected"), "\(protected.text)")
            let malformed = try await client.call(.post, deploys, token: ada, json: #"{"target": "#)
            #expect(malformed.status == .badRequest)

            let empty = try #require(try await client.call(.post, "/v1/sessions", token: ada, json: #"{"title": "empty"}"#).json["id"] as? String)
            let nothing = try await client.call(.post, "/v1/sessions/\(empty)/deploys", token: ada, json: "{}")
            #expect(nothing.status == .conflict)
            #expect(nothing.errorMessage.contains("nothing to deploy"), "\(nothing.text)")

            // Push only (no CI, no pull request): the first waits for its answer, a second is refused.
            let first = try await client.call(.post, deploys, token: ada, json: #"{"branch": "feature/add"}"#)
            #expect(first.status == .accepted, "\(first.text)")
            let deployID = try #require(first.json["id"] as? String)
            let second = try await client.call(.post, deploys, token: ada, json: "{}")
            #expect(second.status == .conflict)
            #expect(second.errorMessage.contains("already under way"), "\(second.text)")

            // Only the session's owner can see or answer it; unknown deploys are 404.
            #expect(try await client.call(.get, deploys + "/\(deployID)", token: bob).status == .notFound)
            #expect(try await client.call(.post, deploys + "/\(deployID)/approval", token: bob, json: #"{"approved": true}"#).status == .notFound)
            #expect(try await client.call(.get, deploys + "/nope", token: ada).status == .notFound)
            #expect(try await client.call(.post, deploys + "/nope/approval", token: ada, json: #"{"approved": true}"#).status == .notFound)
            #expect(try await client.call(.post, deploys + "/\(deployID)/approval", token: ada, json: #"{"yes": 1}"#).status == .badRequest)

            try await harness.eventually("the deploy waits for approval") {
                try await Self.state(client, deploys + "/\(deployID)", token: ada) == "awaiting_approval"
            }
            #expect(try await client.call(.post, deploys + "/\(deployID)/approval", token: ada, json: #"{"approve": true}"#).status == .ok)
            try await harness.eventually("the deploy ends") {
                try await Self.state(client, deploys + "/\(deployID)", token: ada) == "succeeded"
            }
            #expect(try await remote.head("feature/add") != nil)
            #expect(try await remote.show("feature/add:calc.py") == Replies.right)
            // Ended: another may start.
            #expect(try await client.call(.post, deploys, token: ada, json: #"{"branch": "feature/again"}"#).status == .accepted)
        }
    }

    @Test("a server whose deploy.remote is a remote's name, not a URL, says how to configure it")
    func remoteNameRefused() async throws {
        let harness = try ServerHarness()
        let ada = try harness.token("ada")
        try await harness.test { client in
            let id = try #require(try await client.call(.post, "/v1/sessions", token: ada, json: #"{"title": "x"}"#).json["id"] as? String)
            let refused = try await client.call(.post, "/v1/sessions/\(id)/deploys", token: ada, json: "{}")
            #expect(refused.status == .serviceUnavailable)
            #expect(refused.errorMessage.contains("deploy.remote"), "\(refused.text)")
            #expect(try await client.call(.get, "/v1/deploy/targets", token: ada).json["available"] as? Bool == false)
        }
    }
}
