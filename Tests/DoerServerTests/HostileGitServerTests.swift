import DoerCore
import DoerDeploy
import DoerRuntime
@testable import DoerServer
import DoerStore
import DoerTestSupport
import Foundation
import HTTPTypes
import Testing

/// The server's deploys (a fresh clone of the remote, the session's change copied onto it)
/// next to repositories made hostile by hand: a `.git` planted in the session's workspace,
/// and a remote on this machine whose hooks and configuration name programs.
@Suite("HTTP API: deploys next to hostile repositories run nothing of theirs")
struct HostileGitServerTests {
    @Test("denied, then approved: the workspace's planted .git and the remote's hooks and programs never run")
    func hostileWorkspaceAndRemote() async throws {
        let remote = try await BareRemote()
        defer { remote.remove() }
        let trap = try GitTrap(in: remote.folder)
        try trap.plantRemote(gitDirectory: remote.bare, alternate: remote.folder.appendingPathComponent("seed/.git"))
        let harness = try ServerHarness(deploy: ServerDeployTests.settings(remote))
        let ada = try harness.token("ada")
        try await harness.test { client in
            let id = try await ServerDeployTests.appliedSession(harness, client, token: ada)
            let workspace = URL(fileURLWithPath: try harness.runtime.store.session(id).workspace)
            try await BareRemote.git(["init", "-q", workspace.path])
            try trap.plant(workTree: workspace)

            let deploys = "/v1/sessions/\(id)/deploys"
            let first = try #require(try await client.call(.post, deploys, token: ada, json: #"{"branch": "doer/denied"}"#).json["id"] as? String)
            try await harness.eventually("the deploy waits for approval") {
                try await ServerDeployTests.state(client, deploys + "/\(first)", token: ada) == "awaiting_approval"
            }
            #expect(trap.fired.isEmpty, "ran before the approval: \(trap.fired)")
            _ = try await client.call(.post, deploys + "/\(first)/approval", token: ada, json: #"{"approved": false}"#)

            let second = try #require(try await client.call(.post, deploys, token: ada, json: #"{"branch": "doer/approved"}"#).json["id"] as? String)
            try await harness.eventually("the deploy waits for approval") {
                try await ServerDeployTests.state(client, deploys + "/\(second)", token: ada) == "awaiting_approval"
            }
            _ = try await client.call(.post, deploys + "/\(second)/approval", token: ada, json: #"{"approved": true}"#)
            try await harness.eventually("the deploy ends") {
                ["succeeded", "failed"].contains(try await ServerDeployTests.state(client, deploys + "/\(second)", token: ada))
            }
            let final = try await client.call(.get, deploys + "/\(second)", token: ada).json
            #expect(final["state"] as? String == "succeeded", "\(final)")
            #expect(try await remote.show("doer/approved:calc.py") == Replies.right)
            #expect(try await remote.branches().sorted() == ["doer/approved", "main"])
            #expect(trap.fired.isEmpty, "ran: \(trap.fired)")
        }
    }

    @Test("a changed file that became a link in the workspace is refused, and nothing reaches the remote")
    func linkInWorkspace() async throws {
        let remote = try await BareRemote()
        defer { remote.remove() }
        let harness = try ServerHarness(deploy: ServerDeployTests.settings(remote))
        let ada = try harness.token("ada")
        try await harness.test { client in
            let id = try await ServerDeployTests.appliedSession(harness, client, token: ada)
            let workspace = URL(fileURLWithPath: try harness.runtime.store.session(id).workspace)
            let calc = workspace.appendingPathComponent("calc.py")
            try FileManager.default.removeItem(at: calc)
            try FileManager.default.createSymbolicLink(atPath: calc.path, withDestinationPath: "/etc/passwd")
            let deploys = "/v1/sessions/\(id)/deploys"
            let started = try await client.call(.post, deploys, token: ada, json: #"{"branch": "doer/link"}"#)
            let deploy = try #require(started.json["id"] as? String)
            try await harness.eventually("the deploy ends") {
                try await ServerDeployTests.state(client, deploys + "/\(deploy)", token: ada) == "failed"
            }
            let failed = try await client.call(.get, deploys + "/\(deploy)", token: ada).json
            #expect((failed["error"] as? String)?.contains("calc.py") == true, "\(failed)")
            #expect(try await remote.branches() == ["main"])
        }
    }
}
