import DoerCore
import Foundation
import MCP
import SystemPackage
import Testing

/// A real MCP session: the swift-sdk client talks over stdio to the built `doer mcp`,
/// started as a child process.
@Suite("doer mcp over stdio with the MCP client")
struct MCPClientTests {
    final class Child: @unchecked Sendable {
        let process = Process()
        let toChild = Pipe()
        let fromChild = Pipe()
        let home: URL

        init(arguments: [String] = []) throws {
            home = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("doer-mcp-\(UUID().uuidString.prefix(8))")
            try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
            chmod(home.path, 0o755)
            let script = home.appendingPathComponent("replies.json")
            try JSONSerialization.data(withJSONObject: ["replies": [Replies.passing]]).write(to: script)
            let exe = URL(fileURLWithPath: try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            let doer = [exe.deletingLastPathComponent(), exe.deletingLastPathComponent().deletingLastPathComponent()]
                .map { $0.appendingPathComponent("doer") }.first { FileManager.default.isExecutableFile(atPath: $0.path) }
            process.executableURL = try #require(doer, "build doer first: swift build --product doer")
            process.arguments = ["mcp", "--scripted-model", script.path] + arguments
            var environment = ProcessInfo.processInfo.environment
            environment["DOER_HOME"] = home.appendingPathComponent("home").path
            process.environment = environment
            // Started in its folder, as an editor starts it in its project: the tools work there.
            process.currentDirectoryURL = home
            process.standardInput = toChild
            process.standardOutput = fromChild
            process.standardError = FileHandle.nullDevice
            try process.run()
        }

        func connect() async throws -> Client {
            let transport = StdioTransport(input: FileDescriptor(rawValue: fromChild.fileHandleForReading.fileDescriptor),
                                           output: FileDescriptor(rawValue: toChild.fileHandleForWriting.fileDescriptor))
            let client = Client(name: "doer-tests", version: "1.0")
            try await client.connect(transport: transport)
            return client
        }

        func stop() {
            try? toChild.fileHandleForWriting.close()
            if process.isRunning { process.terminate() }
            process.waitUntilExit()
            try? FileManager.default.removeItem(at: home)
        }
    }

    static func text(_ content: [Tool.Content]) -> String {
        content.compactMap { if case .text(let text, _, _) = $0 { return text } else { return nil } }.joined()
    }

    @Test("lists the tools and calls execute_code, run_tests and run_task")
    func tools() async throws {
        let child = try Child()
        defer { child.stop() }
        let client = try await child.connect()
        let (tools, _) = try await client.listTools()
        #expect(Set(tools.map(\.name)) == ["execute_code", "run_tests", "run_task", "undo_task"])

        let (executed, executeError) = try await client.callTool(
            name: "execute_code", arguments: ["language": "python", "code": "import sys\nprint(6 * 7)\nprint(sys.stdin.read())", "stdin": "from stdin"])
        let output = try JSONSerialization.jsonObject(with: Data(Self.text(executed).utf8)) as? [String: Any]
        #expect(output?["stdout"] as? String == "42\nfrom stdin\n")
        #expect(output?["exit_code"] as? Int == 0)
        #expect(executeError == false)

        let (failed, failedError) = try await client.callTool(name: "execute_code", arguments: ["language": "shell", "code": "exit 4"])
        #expect(failedError == true)
        #expect(Self.text(failed).contains("\"exit_code\":4"))

        let (bad, badError) = try await client.callTool(name: "execute_code", arguments: ["language": "cobol", "code": "x"])
        #expect(badError == true)
        #expect(Self.text(bad).contains("unknown language"))

        let workspace = child.home.appendingPathComponent("project", isDirectory: true)
        try FileManager.default.createDirectory(at: workspace, withIntermediateDirectories: true)
        chmod(workspace.path, 0o755)
        try Data(Replies.test.utf8).write(to: workspace.appendingPathComponent("test_calc.py"))
        let (failing, failingError) = try await client.callTool(name: "run_tests", arguments: ["workspace": .string(workspace.path)])
        #expect(failingError == true)
        #expect(Self.text(failing).contains("python (pytest)"), "\(Self.text(failing))")

        let (task, taskError) = try await client.callTool(
            name: "run_task", arguments: ["task": "Write add(a, b) in calc.py", "workspace": .string(workspace.path)])
        let summary = Self.text(task)
        #expect(taskError == false, "\(summary)")
        #expect(summary.contains("outcome: passed"))
        #expect(summary.contains("+    return a + b"))
        #expect(summary.contains("applied: no"))
        // Without --apply the workspace is untouched.
        #expect(!FileManager.default.fileExists(atPath: workspace.appendingPathComponent("calc.py").path))

        try Data(Replies.right.utf8).write(to: workspace.appendingPathComponent("calc.py"))
        chmod(workspace.appendingPathComponent("calc.py").path, 0o644)
        chmod(workspace.appendingPathComponent("test_calc.py").path, 0o644)
        let (passing, passingError) = try await client.callTool(name: "run_tests", arguments: ["workspace": .string(workspace.path)])
        #expect(passingError == false, "\(Self.text(passing))")
        #expect(Self.text(passing).contains("python (pytest): passed, 1 passed, 0 failed"), "\(Self.text(passing))")

        let (relative, relativeError) = try await client.callTool(name: "run_tests", arguments: ["workspace": "project"])
        #expect(relativeError == true)
        #expect(Self.text(relative).contains("absolute"))
        let (outside, outsideError) = try await client.callTool(name: "run_tests", arguments: ["workspace": "/etc"])
        #expect(outsideError == true)
        #expect(Self.text(outside).contains("outside the folders this server works in"), "\(Self.text(outside))")
        await client.disconnect()
    }
}
