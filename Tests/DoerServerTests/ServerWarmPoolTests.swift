import DoerCore
@testable import DoerSandbox
@testable import DoerServer
import Foundation
import Testing

/// `doer serve` with a warm pool: every execution has a throw-away workspace, so the pool
/// must stay bounded, and stopping the server (SIGTERM) must end what the pool made.
@Suite("doer serve: the warm pool stays bounded and is ended on stop")
struct ServerWarmPoolTests {
    static func execution(_ index: Int, token: String) -> String {
        let body = #"{"language": "python", "code": "print(\#(index))"}"#
        return "POST /v1/executions HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer \(token)\r\n"
            + "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
    }

    static func viewFolders(_ staging: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: staging.path)) ?? []).filter { $0.hasPrefix("ws-") }
    }

    @Test("many executions: the idle sandboxes never pass the bound; after the server stops, no ws-* folder is left")
    func boundedAndEnded() async throws {
        let harness = try ServerHarness(warmPool: 2) { $0.port = 0 }
        let token = try harness.token("ada")
        let staging = harness.home.appendingPathComponent("sandbox-staging", isDirectory: true)
        let pool = try #require((harness.server.sandbox as? SandboxEngine)?.poolForTesting)
        try await LiveServer.run(harness) { port in
            for index in 0..<12 {
                // A connection each: the wait for the refill below can outlast the server's
                // keep-alive idle limit on a loaded machine, which is not what this tests.
                let connection = try RawConnection(port: port)
                connection.send(Self.execution(index, token: token))
                #expect(await connection.response() == "HTTP/1.1 200 OK", "execution \(index)")
                #expect(pool.idleCount <= pool.capacity, "after execution \(index): \(pool.idleCount) idle")
                await pool.waitUntilFilled()
                #expect(pool.idleCount <= pool.capacity, "after execution \(index)'s refill: \(pool.idleCount) idle")
            }
            // Each execution's workspace is gone by now, so the next fill ends the last one's
            // sandboxes; what is idle must be for a workspace that still exists.
            for folder in pool.idleFolders { #expect(FileManager.default.fileExists(atPath: folder.path)) }
            // A workspace that stays (a session's) keeps warm sandboxes until the server stops.
            let kept = harness.home.appendingPathComponent("kept", isDirectory: true)
            try FileManager.default.createDirectory(at: kept, withIntermediateDirectories: true)
            await SandboxFactory(configuration: SandboxConfiguration()).warmUp(
                harness.server.sandbox, for: ExecutionRequest(command: ["true"], workspace: kept))
            #expect(pool.idleCount(workspace: kept.path) == 2)
            #expect(Self.viewFolders(staging).count >= 2)
        }
        #expect(pool.idleCount == 0)
        var left = Self.viewFolders(staging)
        for _ in 0..<200 where !left.isEmpty {
            try await Task.sleep(for: .milliseconds(50))
            left = Self.viewFolders(staging)
        }
        #expect(left.isEmpty, "\(left)")
    }

    @Test("the real `doer serve`: SIGTERM leaves no sandbox folder behind")
    func sigterm() async throws {
        let home = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("doer-serve-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: home) }
        let staging = home.appendingPathComponent("staging", isDirectory: true)
        let config = home.appendingPathComponent("config", isDirectory: true)
        try FileManager.default.createDirectory(at: config, withIntermediateDirectories: true)
        chmod(home.path, 0o755)
        try "[sandbox]\nwarm_pool = 2\nstaging_dir = \"\(staging.path)\"\n".write(
            to: config.appendingPathComponent("config.toml"), atomically: true, encoding: .utf8)
        let script = home.appendingPathComponent("replies.json")
        try JSONSerialization.data(withJSONObject: ["replies": [Replies.passing]]).write(to: script)
        let doer = try Self.doerExecutable()
        var environment = ProcessInfo.processInfo.environment
        environment["DOER_HOME"] = home.path

        let tokenProcess = Process()
        let tokenOut = Pipe()
        tokenProcess.executableURL = doer
        tokenProcess.arguments = ["token", "create", "--user", "ada"]
        tokenProcess.environment = environment
        tokenProcess.standardOutput = tokenOut
        try tokenProcess.run()
        tokenProcess.waitUntilExit()
        let token = String(decoding: tokenOut.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(!token.isEmpty)

        let serve = Process()
        let serveOut = Pipe()
        serve.executableURL = doer
        serve.arguments = ["serve", "--port", "0", "--scripted-model", script.path]
        serve.environment = environment
        serve.standardOutput = serveOut
        let serveLog = home.appendingPathComponent("serve.log")
        FileManager.default.createFile(atPath: serveLog.path, contents: nil)
        serve.standardError = try FileHandle(forWritingTo: serveLog)
        try serve.run()
        defer { if serve.isRunning { serve.terminate() } }
        // "doer: serving http://127.0.0.1:PORT/ (Ctrl-C to stop)"
        let line = await Self.firstLine(of: serveOut)
        let port = try #require(line.split(separator: ":").last.flatMap { Int($0.prefix { $0.isNumber }) }, "\(line)")

        // A connection per request: the server closes a keep-alive connection that stays idle
        // past its head timeout, and on a loaded machine this test may be scheduled late.
        for index in 0..<8 {
            let connection = try RawConnection(port: port)
            connection.send(Self.execution(index, token: token))
            #expect(await connection.response() == "HTTP/1.1 200 OK", "execution \(index): \(connection.lastFailure); server running: \(serve.isRunning); log: \(Self.tail(serveLog))")
            // Idle ones at most 4 shapes of 2, and the run's own view while it is removed.
            #expect(Self.viewFolders(staging).count <= 4 * 2 + 1, "\(Self.viewFolders(staging))")
        }
        // A session's agent works on a workspace that stays (while it waits for approval), so
        // the refill after its runs leaves warm sandboxes waiting.
        let session = #"{"message": "add a function add(a, b)"}"#
        let connection = try RawConnection(port: port)
        connection.send("POST /v1/sessions HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer \(token)\r\n"
            + "Content-Type: application/json\r\nContent-Length: \(session.utf8.count)\r\n\r\n\(session)")
        #expect(await connection.response() == "HTTP/1.1 201 Created", "\(connection.lastFailure); server: \(Self.tail(serveLog))")
        var waiting = Self.viewFolders(staging)
        for _ in 0..<1200 where waiting.count < 2 {
            try await Task.sleep(for: .milliseconds(50))
            waiting = Self.viewFolders(staging)
        }
        #expect(waiting.count >= 2, "\(waiting)")
        kill(serve.processIdentifier, SIGTERM)
        await Self.waitForExit(serve)
        #expect(!serve.isRunning)
        #expect(Self.viewFolders(staging).isEmpty, "\(Self.viewFolders(staging))")
    }

    /// The end of the server's log, to say why a request failed.
    static func tail(_ log: URL) -> String {
        String(((try? String(contentsOf: log, encoding: .utf8)) ?? "").suffix(1500))
    }

    static func doerExecutable() throws -> URL {
        let exe = URL(fileURLWithPath: try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
        let found = [exe.deletingLastPathComponent(), exe.deletingLastPathComponent().deletingLastPathComponent()]
            .map { $0.appendingPathComponent("doer") }.first { FileManager.default.isExecutableFile(atPath: $0.path) }
        return try #require(found, "build doer first: swift build --product doer")
    }

    static func firstLine(of pipe: Pipe) async -> String {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                var bytes: [UInt8] = []
                while true {
                    let data = pipe.fileHandleForReading.readData(ofLength: 1)
                    guard let byte = data.first, byte != 10 else { break }
                    bytes.append(byte)
                }
                continuation.resume(returning: String(decoding: bytes, as: UTF8.self))
            }
        }
    }

    /// Waits, generously, for the process to end after SIGTERM.
    static func waitForExit(_ process: Process) async {
        for _ in 0..<1200 where process.isRunning {
            try? await Task.sleep(for: .milliseconds(50))
        }
    }
}
