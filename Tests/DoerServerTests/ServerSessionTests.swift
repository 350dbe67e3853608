import DoerCore
import DoerServer
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@Suite("HTTP API: sessions with a scripted model and the real sandbox")
struct ServerSessionTests {
    static let task = #"{"message": "Write add(a, b) in calc.py with tests"}"#

    @Test("one user's runs at once are bounded: past the limit a new session is refused with 429 and none is made; others still start")
    func runsPerUser() async throws {
        let harness = try ServerHarness(replies: [Replies.passing, Replies.passing, Replies.passing]) { $0.maxRunsPerUser = 2 }
        let (bob, ada) = (try harness.token("bob"), try harness.token("ada"))
        try await harness.test { client in
            var ids: [String] = []
            for _ in 0..<2 {
                let created = try await client.call(.post, "/v1/sessions", token: bob, json: Self.task)
                #expect(created.status == .created)
                ids.append(try #require(created.json["id"] as? String))
            }
            let refused = try await client.call(.post, "/v1/sessions", token: bob, json: Self.task)
            #expect(refused.status == .tooManyRequests, "\(refused.json)")
            #expect((refused.json["error"] as? String ?? refused.text).contains("--max-runs-per-user 2"), "\(refused.text)")
            let listed = try await client.call(.get, "/v1/sessions", token: bob).json
            #expect((listed["sessions"] as? [[String: Any]])?.count == 2, "the refused session was not made")
            let other = try await client.call(.post, "/v1/sessions", token: ada, json: Self.task)
            #expect(other.status == .created, "another user is not held back")
            for id in ids { _ = try await client.call(.post, "/v1/sessions/\(id)/cancel", token: bob) }
            try await harness.eventually("bob's runs ended") {
                let first = await harness.server.hub.isRunning(ids[0]), second = await harness.server.hub.isRunning(ids[1])
                return !first && !second
            }
            let again = try await client.call(.post, "/v1/sessions", token: bob, json: Self.task)
            #expect(again.status == .created, "room again once a run ends")
        }
    }

    @Test("a message runs the agent; approval over the API applies the diff; events resume after Last-Event-ID")
    func runApproveResume() async throws {
        let harness = try ServerHarness()
        let ada = try harness.token("ada")
        try await harness.test { client in
            let created = try await client.call(.post, "/v1/sessions", token: ada, json: Self.task)
            #expect(created.status == .created)
            let id = try #require(created.json["id"] as? String)
            try await harness.eventually("an approval is pending") { await !harness.server.hub.pendingApprovals(id).isEmpty }

            let shown = try await client.call(.get, "/v1/sessions/\(id)", token: ada).json
            #expect(shown["running"] as? Bool == true)
            let pending = try #require((shown["pending_approvals"] as? [[String: Any]])?.first)
            let approvalID = try #require(pending["id"] as? String)
            #expect((pending["diff"] as? String)?.contains("+    return a + b") == true)
            let busy = try await client.call(.post, "/v1/sessions/\(id)/messages", token: ada, json: #"{"text": "more"}"#)
            #expect(busy.status == .conflict)
            let diffBefore = try await client.call(.get, "/v1/sessions/\(id)/diff", token: ada).json
            #expect(diffBefore["applied"] as? Bool == false)
            #expect(try await client.call(.get, "/v1/sessions/\(id)/files/calc.py", token: ada).status == .notFound)

            let answer = try await client.call(.post, "/v1/sessions/\(id)/approvals/\(approvalID)", token: ada, json: #"{"approve": true}"#)
            #expect(answer.status == .ok)
            #expect(answer.json["by"] as? String == "ada")
            await harness.server.hub.waitUntilIdle(id)

            let file = try await client.call(.get, "/v1/sessions/\(id)/files/calc.py", token: ada)
            #expect(file.text == Replies.right)
            let listed = (try await client.call(.get, "/v1/sessions/\(id)/files", token: ada).json["files"] as? [[String: Any]])?
                .compactMap { $0["path"] as? String }
            #expect(listed == ["calc.py", "test_calc.py"])
            let diff = try await client.call(.get, "/v1/sessions/\(id)/diff", token: ada).json
            #expect(diff["applied"] as? Bool == true)
            #expect(try await client.call(.get, "/v1/sessions/\(id)/files/../../access.sqlite", token: ada).status != .ok)

            let all = parseSSE(try await client.call(.get, "/v1/sessions/\(id)/events?follow=false", token: ada).text)
            #expect(all.map(\.id) == Array(1...all.count))
            #expect(all.first?.type == "started")
            #expect(all.last?.type == "done")
            #expect(all.contains { $0.type == "approvalAnswered" && $0.data.contains("\"by\":\"ada\"") })
            #expect(all.contains { $0.type == "changesApplied" })

            let cut = all.count / 2
            let resumed = parseSSE(try await client.call(.get, "/v1/sessions/\(id)/events?follow=false", token: ada,
                                                         headers: [HTTPField.Name("Last-Event-ID")!: String(cut)]).text)
            #expect(resumed.map(\.id) == Array((cut + 1)...all.count))
            func decoded(_ events: some Sequence<(id: Int, type: String, data: String)>) -> [AgentEvent] {
                events.compactMap { try? JSONDecoder().decode(AgentEvent.self, from: Data($0.data.utf8)) }
            }
            #expect(decoded(resumed) == decoded(all.dropFirst(cut)))
            #expect(decoded(resumed).count == resumed.count)
            // The audit trail holds the run, with the person who approved as that record's actor.
            let audit = try await client.call(.get, "/v1/sessions/\(id)/audit", token: ada)
            #expect(audit.status == .ok)
            let records = (audit.json["records"] as? [[String: Any]]) ?? []
            #expect(records.contains { ($0["kind"] as? String)?.contains("approv") == true && $0["actor"] as? String == "ada" }, "\(audit.text)")
            #expect(records.allSatisfy { $0["session"] as? String == id })
            let none = parseSSE(try await client.call(.get, "/v1/sessions/\(id)/events?follow=false&after=\(all.count)", token: ada).text)
            #expect(none.isEmpty)
        }
    }

    @Test("deny over the API: nothing is written to the workspace")
    func deny() async throws {
        let harness = try ServerHarness()
        let ada = try harness.token("ada")
        try await harness.test { client in
            let id = try #require(try await client.call(.post, "/v1/sessions", token: ada, json: Self.task).json["id"] as? String)
            try await harness.eventually("an approval is pending") { await !harness.server.hub.pendingApprovals(id).isEmpty }
            let approvalID = try #require(await harness.server.hub.pendingApprovals(id).first?.id)
            let answer = try await client.call(.post, "/v1/sessions/\(id)/approvals/\(approvalID)", token: ada, json: #"{"approve": false}"#)
            #expect(answer.status == .ok)
            await harness.server.hub.waitUntilIdle(id)
            #expect(try await client.call(.get, "/v1/sessions/\(id)/files", token: ada).json["files"] as? [Any] != nil)
            #expect((try await client.call(.get, "/v1/sessions/\(id)/files", token: ada).json["files"] as? [Any])?.isEmpty == true)
            let session = try await client.call(.get, "/v1/sessions/\(id)", token: ada).json
            #expect((session["message"] as? String)?.contains("not applied") == true)
            // Answering again finds nothing pending.
            let again = try await client.call(.post, "/v1/sessions/\(id)/approvals/\(approvalID)", token: ada, json: #"{"approve": true}"#)
            #expect(again.status == .notFound)
        }
    }

    @Test("an approval nobody answers times out as a no")
    func approvalTimeout() async throws {
        let harness = try ServerHarness(approvalTimeout: 0.5)
        let ada = try harness.token("ada")
        try await harness.test { client in
            let id = try #require(try await client.call(.post, "/v1/sessions", token: ada, json: Self.task).json["id"] as? String)
            try await harness.eventually("the run ends") {
                (try await client.call(.get, "/v1/sessions/\(id)", token: ada).json["outcome"] as? String) != nil
            }
            let events = parseSSE(try await client.call(.get, "/v1/sessions/\(id)/events?follow=false", token: ada).text)
            #expect(events.contains { $0.type == "approvalAnswered" && $0.data.contains("\"approved\":false") })
            #expect(!events.contains { $0.type == "changesApplied" })
            #expect(try await client.call(.get, "/v1/sessions/\(id)/files/calc.py", token: ada).status == .notFound)
        }
    }

    @Test("a second message continues the session with a new run on the same workspace")
    func continueSession() async throws {
        let harness = try ServerHarness()
        let ada = try harness.token("ada")
        try await harness.test { client in
            let id = try #require(try await client.call(.post, "/v1/sessions", token: ada,
                                                        json: #"{"title": "calc", "files": {"test_calc.py": "from calc import add\n\ndef test_add():\n    assert add(2, 3) == 5\n"}}"#).json["id"] as? String)
            #expect(try await client.call(.get, "/v1/sessions/\(id)", token: ada).json["running"] as? Bool == false)
            for round in 1...2 {
                let posted = try await client.call(.post, "/v1/sessions/\(id)/messages", token: ada, json: #"{"text": "make the tests pass"}"#)
                #expect(posted.status == .accepted)
                try await harness.eventually("an approval is pending or the run ended (round \(round))") {
                    let pending = await harness.server.hub.pendingApprovals(id)
                    let running = await harness.server.hub.isRunning(id)
                    return !pending.isEmpty || !running
                }
                if let approval = await harness.server.hub.pendingApprovals(id).first {
                    _ = try await client.call(.post, "/v1/sessions/\(id)/approvals/\(approval.id)", token: ada, json: #"{"approve": true}"#)
                }
                await harness.server.hub.waitUntilIdle(id)
            }
            let events = parseSSE(try await client.call(.get, "/v1/sessions/\(id)/events?follow=false", token: ada).text)
            #expect(events.filter { $0.type == "started" }.count == 2)
            #expect(events.filter { $0.type == "done" }.count == 2)
            #expect(events.map(\.id) == Array(1...events.count))
        }
    }
}

@Suite("HTTP API: stateless executions in the sandbox")
struct ServerExecutionTests {
    @Test("code in, output out")
    func pythonCode() async throws {
        let harness = try ServerHarness()
        let ada = try harness.token("ada")
        try await harness.test { client in
            let response = try await client.call(.post, "/v1/executions", token: ada,
                                                 json: #"{"language": "python", "code": "import sys\nprint(1)\nprint(sys.stdin.read().upper(), file=sys.stderr)\nsys.exit(3)", "stdin": "hi", "timeout_seconds": 10}"#)
            #expect(response.status == .ok)
            let out = response.json
            #expect(out["stdout"] as? String == "1\n")
            #expect(out["stderr"] as? String == "HI\n")
            #expect(out["exit_code"] as? Int == 3)
            #expect(out["timed_out"] as? Bool == false)
            #expect(out["duration_ms"] as? Double != nil)
            #expect(out.keys.contains("memory_peak_bytes"))
        }
    }

    @Test("files with a command or an entrypoint; a timeout is reported; the sandbox has no network")
    func filesAndLimits() async throws {
        let harness = try ServerHarness()
        let ada = try harness.token("ada")
        try await harness.test { client in
            let command = try await client.call(.post, "/v1/executions", token: ada,
                                                json: #"{"files": {"lib/a.py": "X = 41\n", "main.py": "from lib.a import X\nprint(X + 1)\n"}, "command": ["python3", "main.py"]}"#)
            #expect(command.json["stdout"] as? String == "42\n")
            let entry = try await client.call(.post, "/v1/executions", token: ada,
                                              json: #"{"files": {"run.sh": "echo $((6 * 7))"}, "entrypoint": "run.sh"}"#)
            #expect(entry.json["stdout"] as? String == "42\n")
            #expect(entry.json["language"] as? String == "bash")
            let slow = try await client.call(.post, "/v1/executions", token: ada,
                                             json: #"{"language": "python", "code": "import time\ntime.sleep(30)", "timeout_seconds": 1}"#)
            #expect(slow.json["timed_out"] as? Bool == true)
            let network = try await client.call(.post, "/v1/executions", token: ada,
                                                json: #"{"language": "python", "code": "import socket\ns = socket.socket()\ns.settimeout(2)\ns.connect(('127.0.0.1', 22))"}"#)
            #expect(network.json["exit_code"] as? Int != 0)
        }
    }

    @Test("a compiled language: a program that compiles runs; one that does not answers with the compiler's errors")
    func compiled() async throws {
        let harness = try ServerHarness()
        let ada = try harness.token("ada")
        try await harness.test { client in
            let good = try await client.call(.post, "/v1/executions", token: ada,
                                             json: ##"{"language": "c", "code": "#include <stdio.h>\nint main(void) { printf(\"%d\\n\", 6 * 7); return 0; }\n"}"##)
            #expect(good.json["stdout"] as? String == "42\n", "\(good.text)")
            let bad = try await client.call(.post, "/v1/executions", token: ada, json: #"{"language": "c", "code": "int main(void) { return x; }\n"}"#)
            #expect(bad.status == .ok)
            #expect(bad.json["exit_code"] as? Int != 0)
            #expect((bad.json["stderr"] as? String)?.contains("x") == true, "\(bad.text)")
        }
    }

    @Test("bad executions get 400 with the reason")
    func badInput() async throws {
        let harness = try ServerHarness()
        let ada = try harness.token("ada")
        try await harness.test { client in
            let cases: [(String, String)] = [
                (#"{"language": "cobol", "code": "x"}"#, "unknown language"),
                (#"{"code": "print(1)"}"#, "language"),
                (#"{}"#, "nothing to run"),
                (#"{"files": {"a.py": ""}}"#, "command"),
                (#"{"files": {"/etc/passwd": ""}, "command": "true"}"#, "invalid file path"),
                (#"{"files": {"a.py": ""}, "entrypoint": "b.py"}"#, "entrypoint"),
                (#"{"language": "python", "code": "1", "timeout_seconds": 1000}"#, "timeout_seconds"),
                (#"{"language": "python", "code": "1", "timeout_seconds": -1}"#, "timeout_seconds"),
            ]
            for (body, expected) in cases {
                let response = try await client.call(.post, "/v1/executions", token: ada, json: body)
                #expect(response.status == .badRequest, "\(body)")
                #expect(response.errorMessage.contains(expected), "\(body): \(response.errorMessage)")
            }
        }
    }
}
