import DoerStore
import DoerTestSupport
import Foundation
import Testing

/// Several real `doer serve` processes on one PostgreSQL database: a session's events reach
/// followers on every replica, `Last-Event-ID` resumes on another replica, a run is
/// executed once, and a replica killed mid-run has its run failed by another after the lease.
@Suite("doer serve: replicas on one PostgreSQL database", .serialized)
struct ReplicaTests {
    @Test("a follower on A sees a run started through B; it resumes on C with Last-Event-ID, missing nothing, with no duplicate; C's approval reaches B's run")
    func eventsReachEveryReplica() async throws {
        let cluster = try ReplicaCluster()
        defer { cluster.stop() }
        // Only B executes runs: what A's and C's followers get came through the database. The
        // lease is long here: a busy machine must not make a live replica look dead.
        let a = try await cluster.start("a", maxRuns: 0, leaseSeconds: 20)
        let b = try await cluster.start("b", maxRuns: 1, leaseSeconds: 20)
        let c = try await cluster.start("c", maxRuns: 0, leaseSeconds: 20)
        let created = try cluster.call("POST", b, "/v1/sessions", json: #"{"title": "replicas"}"#)
        #expect(created.status == 201)
        let id = try #require(created.json["id"] as? String)

        let onA = try EventFollower(port: a.port, token: cluster.token, session: id, lastEventID: nil)
        let message = try cluster.call("POST", b, "/v1/sessions/\(id)/messages", json: #"{"text": "add a function add(a, b)"}"#)
        #expect(message.status == 202)
        // B's run waits for a person: the request is seen on A's stream and in C's list.
        try await eventually("A's follower sees the approval request") { onA.events.contains { $0.type == "approvalRequested" } }
        var approvalID = ""
        try await eventually("C lists the pending approval") {
            let listed = try cluster.call("GET", c, "/v1/sessions/\(id)/approvals")
            approvalID = ((listed.json["approvals"] as? [[String: Any]])?.first?["id"] as? String) ?? ""
            return !approvalID.isEmpty
        }
        #expect(try cluster.call("GET", a, "/v1/sessions/\(id)").json["running"] as? Bool == true)
        onA.stop()
        let seenOnA = onA.events
        let lastOnA = try #require(seenOnA.last?.id)

        let answer = try cluster.call("POST", c, "/v1/sessions/\(id)/approvals/\(approvalID)", json: #"{"approve": true}"#)
        #expect(answer.status == 200, "\(answer.body)")
        let onC = try EventFollower(port: c.port, token: cluster.token, session: id, lastEventID: lastOnA)
        defer { onC.stop() }
        try await eventually("C's follower sees the run end") { onC.events.contains { $0.type == "done" } }
        let seenOnC = onC.events

        let stored = try cluster.call("GET", a, "/v1/sessions/\(id)/events?follow=false")
        let all = parseSSE(stored.body)
        #expect(seenOnA.map { $0.id } == Array(1...lastOnA))
        #expect(seenOnC.map { $0.id } == seenOnC.indices.map { lastOnA + 1 + $0 })
        #expect((seenOnA + seenOnC).map { $0.id } == all.map { $0.id }, "together the two streams are the stored events, each once")
        #expect((seenOnA + seenOnC).map { $0.type } == all.map { $0.type })
        #expect(all.filter { $0.type == "started" }.count == 1)
        #expect(all.contains { $0.type == "approvalAnswered" && $0.data.contains("\"approved\":true") })
        #expect(all.contains { $0.type == "changesApplied" })
        #expect(all.last?.type == "done")
        // Executed once, by B, and finished.
        #expect(try cluster.psql("SELECT state || ' ' || claimed_by FROM run_queue WHERE session_id = '\(id)'") == "finished b")
        let session = try cluster.call("GET", c, "/v1/sessions/\(id)").json
        #expect(session["running"] as? Bool == false)
        #expect((session["pending_approvals"] as? [Any])?.isEmpty == true)
    }

    @Test("a replica killed mid-run has its run failed by another after the lease, never run again; a later run goes to a live replica and is cancelled from another")
    func killedReplicaFailsItsRun() async throws {
        let cluster = try ReplicaCluster()
        defer { cluster.stop() }
        let a = try await cluster.start("a", maxRuns: 0, leaseSeconds: 3)
        var runners = [try await cluster.start("b", maxRuns: 1, leaseSeconds: 3), try await cluster.start("c", maxRuns: 1, leaseSeconds: 3)]
        let created = try cluster.call("POST", a, "/v1/sessions", json: #"{"message": "add a function add(a, b)"}"#)
        #expect(created.status == 201)
        let id = try #require(created.json["id"] as? String)
        // Waiting means both: the approval is open, and its event is stored (the run records
        // the event just after it opens the approval, so the kill must wait for the event).
        try await eventually("the run waits for an approval") {
            let open = !((try cluster.call("GET", a, "/v1/sessions/\(id)/approvals").json["approvals"] as? [Any]) ?? []).isEmpty
            return try open && parseSSE(try cluster.call("GET", a, "/v1/sessions/\(id)/events?follow=false").body)
                    .contains { $0.type == "approvalRequested" }
        }
        let holder = try cluster.psql("SELECT claimed_by FROM run_queue WHERE session_id = '\(id)' AND state = 'running'")
        let doomed = try #require(runners.first { $0.name == holder }, "claimed by '\(holder)'")
        runners.removeAll { $0.name == holder }
        let survivor = try #require(runners.first)
        doomed.kill()

        try await eventually("another replica fails the run") {
            parseSSE(try cluster.call("GET", a, "/v1/sessions/\(id)/events?follow=false").body).contains { $0.type == "done" }
        }
        let afterFailure = parseSSE(try cluster.call("GET", a, "/v1/sessions/\(id)/events?follow=false").body)
        #expect(afterFailure.filter { $0.type == "started" }.count == 1)
        #expect(afterFailure.filter { $0.type == "approvalRequested" }.count == 1)
        #expect(afterFailure.filter { $0.type == "done" }.count == 1)
        let failure = try #require(afterFailure.last)
        #expect(failure.type == "done")
        #expect(failure.data.contains("\"outcome\":\"error\""), "\(failure.data)")
        #expect(failure.data.contains("(\(holder)) stopped renewing its lease"), "\(failure.data)")
        #expect(failure.data.contains("it was not run again"), "\(failure.data)")
        #expect(try cluster.psql("SELECT state || ' ' || claimed_by FROM run_queue WHERE session_id = '\(id)'") == "failed \(holder)")
        #expect(try cluster.psql("SELECT count(*) FROM run_approval WHERE session_id = '\(id)' AND answered_at IS NULL") == "0")
        let shown = try cluster.call("GET", a, "/v1/sessions/\(id)").json
        #expect(shown["running"] as? Bool == false)
        #expect(shown["outcome"] as? String == "error")

        // The session takes a new message; the live runner claims the new run (queued
        // after the failed one, which it would have claimed first were it claimable).
        let again = try cluster.call("POST", a, "/v1/sessions/\(id)/messages", json: #"{"text": "add a function add(a, b)"}"#)
        #expect(again.status == 202, "\(again.body)")
        try await eventually("the new run waits for an approval") {
            !((try cluster.call("GET", a, "/v1/sessions/\(id)/approvals").json["approvals"] as? [Any]) ?? []).isEmpty
        }
        #expect(try cluster.psql("SELECT string_agg(state || ' ' || claimed_by, ',' ORDER BY queued_at) FROM run_queue WHERE session_id = '\(id)'")
            == "failed \(holder),running \(survivor.name)")
        let during = parseSSE(try cluster.call("GET", a, "/v1/sessions/\(id)/events?follow=false").body)
        #expect(during.filter { $0.type == "started" }.count == 2)
        #expect(during.prefix(afterFailure.count).map { $0.type } == afterFailure.map { $0.type }, "the failed run's record is unchanged")

        // Cancelled on A, stopped by the survivor at its next look at the queue.
        #expect(try cluster.call("POST", a, "/v1/sessions/\(id)/cancel").status == 202)
        try await eventually("the survivor stops the cancelled run") {
            try cluster.psql("SELECT state FROM run_queue WHERE session_id = '\(id)' ORDER BY queued_at DESC LIMIT 1") == "cancelled"
        }
        #expect(try cluster.call("GET", a, "/v1/sessions/\(id)").json["running"] as? Bool == false)
        #expect(try cluster.psql("SELECT count(*) FROM run_queue WHERE session_id = '\(id)'") == "2")
    }
}

/// Waits (at most ten seconds) for a process to be reaped, by polling: `waitUntilExit` did
/// not always come back here for a child that was sent a signal.
private func waitForExit(_ process: Process) {
    for _ in 0..<200 where process.isRunning { usleep(50_000) }
}

/// Waits (bounded, generously) until `condition` holds.
private func eventually(_ what: String, _ condition: () async throws -> Bool) async throws {
    for _ in 0..<1200 {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(100))
    }
    throw ReplicaCluster.Failure(description: "timed out waiting until \(what)")
}

/// A PostgreSQL database, a data folder, a token and the `doer serve` replicas started on them.
final class ReplicaCluster: @unchecked Sendable {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    final class Replica: @unchecked Sendable {
        let name: String
        let process: Process
        let port: Int

        init(name: String, process: Process, port: Int) {
            self.name = name
            self.process = process
            self.port = port
        }

        func kill() {
            Glibc.kill(process.processIdentifier, SIGKILL)
            waitForExit(process)
        }
    }

    let home: URL
    let url: String
    let database: String
    let script: URL
    let token: String
    let doer: URL
    private var replicas: [Replica] = []

    init() throws {
        url = try PostgresServer.shared().makeDatabase()
        database = url.components(separatedBy: "@/").last?.components(separatedBy: "?").first ?? ""
        home = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("doer-replicas-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        chmod(home.path, 0o755)
        script = home.appendingPathComponent("replies.json")
        try JSONSerialization.data(withJSONObject: ["replies": [Replies.passing]]).write(to: script)
        doer = try ServerWarmPoolTests.doerExecutable()
        let tokenProcess = Process()
        let tokenOut = Pipe()
        tokenProcess.executableURL = doer
        tokenProcess.arguments = ["token", "create", "--user", "ada"]
        tokenProcess.environment = Self.environment(home: home, url: url, extra: [:])
        tokenProcess.standardOutput = tokenOut
        try tokenProcess.run()
        let output = tokenOut.fileHandleForReading.readDataToEndOfFile()
        waitForExit(tokenProcess)
        token = String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !tokenProcess.isRunning, tokenProcess.terminationStatus == 0, !token.isEmpty else { throw Failure(description: "doer token create failed") }
    }

    static func environment(home: URL, url: String, extra: [String: String]) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["DOER_HOME"] = home.path
        environment["DOER_STORE_URL"] = url
        environment["DOER_SCRIPTED_MODEL"] = nil
        for (key, value) in extra { environment[key] = value }
        return environment
    }

    /// A `doer serve` replica named `name` (its `claimed_by`), with a short poll.
    func start(_ name: String, maxRuns: Int, leaseSeconds: Int) async throws -> Replica {
        let serve = Process()
        let out = Pipe()
        serve.executableURL = doer
        serve.arguments = ["serve", "--port", "0", "--scripted-model", script.path]
        serve.environment = Self.environment(home: home, url: url, extra: [
            "DOER_REPLICA_ID": name, "DOER_RUN_LEASE_SECONDS": String(leaseSeconds), "DOER_REPLICA_POLL_SECONDS": "0.3",
            "DOER_REPLICA_MAX_RUNS": String(maxRuns),
        ])
        serve.standardOutput = out
        let log = home.appendingPathComponent("serve-\(name).log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        serve.standardError = try FileHandle(forWritingTo: log)
        try serve.run()
        // "doer: serving http://127.0.0.1:PORT/ (Ctrl-C to stop)"
        let line = await ServerWarmPoolTests.firstLine(of: out)
        guard let port = line.split(separator: ":").last.flatMap({ Int($0.prefix { $0.isNumber }) }) else {
            serve.terminate()
            let errors = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            throw Failure(description: "replica \(name) did not start: \(line) \(errors)")
        }
        let replica = Replica(name: name, process: serve, port: port)
        replicas.append(replica)
        return replica
    }

    func stop() {
        for replica in replicas where replica.process.isRunning {
            replica.process.terminate()
            waitForExit(replica.process)
            if replica.process.isRunning { replica.kill() }
        }
        try? FileManager.default.removeItem(at: home)
    }

    struct Answer {
        var status: Int
        var body: String
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]) ?? [:] }
    }

    /// One API call with the cluster's token, through curl.
    func call(_ method: String, _ replica: Replica, _ path: String, json: String? = nil) throws -> Answer {
        var arguments = ["-s", "--max-time", "60", "-w", "\n%{http_code}", "-X", method, "-H", "Authorization: Bearer \(token)"]
        if let json { arguments += ["-H", "Content-Type: application/json", "--data-binary", json] }
        arguments.append("http://127.0.0.1:\(replica.port)\(path)")
        let text = try Self.run("/usr/bin/curl", arguments)
        let cut = text.lastIndex(of: "\n") ?? text.startIndex
        return Answer(status: Int(text[cut...].trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0, body: String(text[..<cut]))
    }

    /// One value from the cluster's database.
    func psql(_ sql: String) throws -> String {
        try PostgresServer.shared().psql(sql, database: database).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func run(_ executable: String, _ arguments: [String]) throws -> String {
        let process = Process()
        let out = Pipe()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        waitForExit(process)
        return String(decoding: data, as: UTF8.self)
    }
}

/// A client following a session's server-sent events (curl -N), as a browser would.
final class EventFollower: @unchecked Sendable {
    private let process = Process()
    private let lock = NSLock()
    private var received = Data()

    init(port: Int, token: String, session: String, lastEventID: Int?) throws {
        var arguments = ["-sN", "-H", "Authorization: Bearer \(token)"]
        if let lastEventID { arguments += ["-H", "Last-Event-ID: \(lastEventID)"] }
        arguments.append("http://127.0.0.1:\(port)/v1/sessions/\(session)/events")
        let out = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        process.arguments = arguments
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        Thread.detachNewThread { [self] in
            let handle = out.fileHandleForReading
            while true {
                let data = handle.availableData
                if data.isEmpty { break }
                lock.lock()
                received.append(data)
                lock.unlock()
            }
        }
    }

    /// The complete frames received so far.
    var events: [(id: Int, type: String, data: String)] {
        lock.lock()
        let text = String(decoding: received, as: UTF8.self)
        lock.unlock()
        guard let end = text.range(of: "\n\n", options: .backwards) else { return [] }
        return parseSSE(String(text[..<end.upperBound]))
    }

    /// Hangs up, as a client that goes away does.
    func stop() {
        if process.isRunning {
            process.terminate()
            waitForExit(process)
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
    }
}
