import Foundation
import Testing

/// `doer mcp` hands over to `doer-mcp`, a program of its own (so that no other command loads
/// the MCP SDK's networking libraries). The full protocol is `MCPClientTests`; these are the
/// handover's own paths.
@Suite("doer mcp hands over to doer-mcp")
struct McpHandoverTests {
    /// `doer` hard-linked two folders deep in a fresh folder, so that neither its folder nor
    /// the one above holds a doer-mcp (a hard link keeps its own path in /proc/self/exe).
    private func lonelyDoer() throws -> (doer: URL, root: URL) {
        let root = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("doer-mcp-handover-\(UUID().uuidString.prefix(8))")
        let bin = root.appendingPathComponent("a/bin", isDirectory: true)
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        let doer = bin.appendingPathComponent("doer")
        try FileManager.default.linkItem(at: DoerCLI.executable, to: doer)
        return (doer, root)
    }

    private func run(_ doer: URL, _ arguments: [String], environment: [String: String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = doer
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "DOER_MCP")
        env.merge(environment) { _, new in new }
        process.environment = env
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }

    @Test("without doer-mcp beside it, doer mcp says where it looked and how to get it, and starts nothing")
    func missing() throws {
        let (doer, root) = try lonelyDoer()
        defer { try? FileManager.default.removeItem(at: root) }
        let result = try run(doer, ["mcp"], environment: [:])
        #expect(result.status == 2)
        #expect(result.stdout.isEmpty, "nothing but the protocol ever goes to stdout")
        #expect(result.stderr.contains("doer-mcp not found (looked at \(doer.deletingLastPathComponent().path)/doer-mcp"), "\(result.stderr)")
        #expect(result.stderr.contains("swift build --product doer-mcp") && result.stderr.contains("DOER_MCP"), "\(result.stderr)")
    }

    @Test("the program DOER_MCP names gets the client's stdio and the options doer mcp parsed")
    func handsOverWithOptions() throws {
        let (doer, root) = try lonelyDoer()
        defer { try? FileManager.default.removeItem(at: root) }
        let server = root.appendingPathComponent("fake-doer-mcp")
        try "#!/bin/sh\necho \"args: $*\"\n".write(to: server, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: server.path)
        let result = try run(doer, ["mcp", "--apply", "--max-iterations", "3", "--scripted-model", "/tmp/replies.json"],
                             environment: ["DOER_MCP": server.path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "args: --max-iterations 3 --apply --scripted-model /tmp/replies.json\n", "\(result.stdout)")
        let refused = try run(doer, ["mcp", "--max-iterations", "0"], environment: ["DOER_MCP": server.path])
        #expect(refused.status != 0 && refused.stdout.isEmpty, "a bad option is refused before the handover")
    }

    @Test("a client that writes its requests and closes stdin at once still gets every answer")
    func answersAfterTheClientCloses() throws {
        let root = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("doer-mcp-eof-\(UUID().uuidString.prefix(8))")
        let workspace = root.appendingPathComponent("ws", isDirectory: true)
        try FileManager.default.createDirectory(at: workspace, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let requests = [
            #"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-03-26","capabilities":{},"clientInfo":{"name":"pipe","version":"1"}}}"#,
            #"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
            #"{"jsonrpc":"2.0","id":"list","method":"tools/list"}"#,
            #"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"execute_code","arguments":{"language":"python","code":"import time; time.sleep(0.5); print('late answer')"}}}"#,
        ].joined(separator: "\n") + "\n"
        let result = try DoerCLI.run(["mcp"], in: workspace, stdin: requests)
        #expect(result.status == 0, "\(result.stderr)")
        let answers = result.stdout.split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
        }
        let answered = answers.filter { $0["result"] != nil }.map { "\($0["id"] ?? "")" }
        #expect(Set(answered) == ["1", "list", "3"], "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("late answer"), "the sandboxed run finished and its output came back")
    }

    @Test("doer-mcp refuses what doer mcp would never pass it, before starting anything")
    func helperRefusesBadArguments() throws {
        let helper = DoerCLI.executable.deletingLastPathComponent().appendingPathComponent("doer-mcp")
        try #require(FileManager.default.isExecutableFile(atPath: helper.path), "build doer-mcp first: swift build --product doer-mcp")
        for (arguments, message) in [(["--bogus"], "unknown argument '--bogus'"), (["--max-iterations", "0"], "--max-iterations needs a positive number"),
                                     (["--scripted-model"], "--scripted-model needs a path")] {
            let result = try run(helper, arguments, environment: [:])
            #expect(result.status == 2 && result.stdout.isEmpty, "\(arguments)")
            #expect(result.stderr.contains(message), "\(result.stderr)")
        }
    }
}
