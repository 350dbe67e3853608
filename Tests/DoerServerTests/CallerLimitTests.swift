import DoerAgent
import DoerCore
import DoerLanguages
import DoerSandbox
@testable import DoerMCP
@testable import DoerServer
import Foundation
import HTTPTypes
import HummingbirdTesting
import MCP
import Testing

/// A caller may lower the server's limits and never raise them, through every entry point
/// that takes limits: POST /v1/executions and the MCP tool execute_code.
@Suite("caller limits only lower the server's")
struct CallerLimitTests {
    /// The server's limits in these tests, all small enough to tell apart.
    static let server = ResourceLimits(wallClockSeconds: 30, cpuSeconds: 20, memoryBytes: 256 << 20, processes: 64,
                                       openFiles: 256, fileSizeBytes: 8 << 20, diskBytes: 48 << 20, tmpSizeBytes: 32 << 20,
                                       outputBytes: 64 << 10)
    /// `ServerHarness` caps executions at 20 seconds.
    static let maxSeconds = 20.0

    /// Each caller-settable limit with the server's value for it.
    static let ceilings: [(String, Double)] = [
        ("timeout_seconds", maxSeconds), ("cpu_seconds", 20), ("memory_bytes", Double(256 << 20)), ("processes", 64),
        ("open_files", 256), ("file_size_bytes", Double(8 << 20)), ("disk_bytes", Double(48 << 20)),
        ("tmp_size_bytes", Double(32 << 20)),
        ("output_bytes", Double(64 << 10)),
    ]

    static func body(_ limits: [String: Any], code: String = "print('ran')") throws -> String {
        var object: [String: Any] = ["language": "python", "code": code]
        object.merge(limits) { _, new in new }
        return String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
    }

    @Test("every limit the table lists is one a caller can send, and the table covers ResourceLimits")
    func tableCoversLimits() {
        #expect(Set(CallerLimits.names).isSuperset(of: Self.ceilings.map(\.0)))
        // Every stored limit of ResourceLimits has a wire name: one left out could not be
        // lowered, and one added later must be added to CallerLimits.fields too.
        let stored = Mirror(reflecting: ResourceLimits()).children.compactMap(\.label)
        #expect(CallerLimits.names.count == stored.count, "ResourceLimits has \(stored), callers can set \(CallerLimits.names)")
    }

    @Test("above the server's limit: 400 naming the limit and its maximum, for each limit")
    func aboveIsRefused() async throws {
        let harness = try ServerHarness(limits: Self.server)
        let ada = try harness.token("ada")
        try await harness.test { client in
            for (name, ceiling) in Self.ceilings {
                for above in [ceiling + 1, ceiling * 2, ceiling * 1024, 68_719_476_736, 9.2e18, 1e300] {
                    let response = try await client.call(.post, "/v1/executions", token: ada, json: try Self.body([name: above]))
                    #expect(response.status == .badRequest, "\(name)=\(above): \(response.text)")
                    #expect(response.errorMessage.contains(name), "\(name)=\(above): \(response.errorMessage)")
                    #expect(response.errorMessage.contains(CallerLimits.shown(ceiling)), "\(name)=\(above): \(response.errorMessage)")
                }
            }
        }
    }

    @Test("the issue's example: 64 GiB of memory asked for a 1.5 GiB allocation is refused under the default 1 GiB")
    func issueExample() async throws {
        let harness = try ServerHarness()
        let ada = try harness.token("ada")
        try await harness.test { client in
            let response = try await client.call(.post, "/v1/executions", token: ada, json: try Self.body(
                ["memory_bytes": 68_719_476_736], code: "b = bytearray(1536 * 1024 * 1024)\nprint('allocated')"))
            #expect(response.status == .badRequest)
            #expect(response.errorMessage.contains("memory_bytes"))
            #expect(response.errorMessage.contains("1g"), "\(response.errorMessage)")
            #expect(!response.text.contains("allocated"))
        }
    }

    @Test("nonsense values are refused: zero, negative, fractions of a whole limit, strings, and several at once")
    func nonsense() async throws {
        let harness = try ServerHarness(limits: Self.server)
        let ada = try harness.token("ada")
        try await harness.test { client in
            let cases: [([String: Any], String)] = [
                (["memory_bytes": 0], "memory_bytes"), (["memory_bytes": -1], "memory_bytes"),
                (["processes": 1.5], "processes"), (["cpu_seconds": -5], "cpu_seconds"),
                (["output_bytes": 10.25], "output_bytes"), (["timeout_seconds": 0], "timeout_seconds"),
                (["memory_bytes": "64g"], "memory_bytes"),
                // One within the limits does not carry one above it.
                (["memory_bytes": 64 << 20, "processes": 65], "processes"),
                (["timeout_seconds": 5, "tmp_size_bytes": Double(64 << 20)], "tmp_size_bytes"),
                // Below the sandbox's own minimum is a clear 400, not a failed run.
                (["memory_bytes": 1024], "memory"),
            ]
            for (limits, expected) in cases {
                let response = try await client.call(.post, "/v1/executions", token: ada, json: try Self.body(limits))
                #expect(response.status == .badRequest, "\(limits): \(response.text)")
                #expect(response.errorMessage.contains(expected) || response.text.contains(expected), "\(limits): \(response.text)")
            }
        }
    }

    @Test("equal to the server's limits, all at once, or left out or null: accepted")
    func equalIsAccepted() async throws {
        let harness = try ServerHarness(limits: Self.server)
        let ada = try harness.token("ada")
        try await harness.test { client in
            let all = Dictionary(uniqueKeysWithValues: Self.ceilings.map { ($0.0, $0.1 as Any) })
            for limits in [all, [:], ["memory_bytes": NSNull(), "timeout_seconds": NSNull()]] {
                let response = try await client.call(.post, "/v1/executions", token: ada, json: try Self.body(limits))
                #expect(response.status == .ok, "\(limits): \(response.text)")
                #expect(response.json["stdout"] as? String == "ran\n", "\(limits): \(response.text)")
            }
        }
    }

    @Test("a lowered limit is the one applied: memory, output, file size, processes and time")
    func lowerIsApplied() async throws {
        let harness = try ServerHarness(limits: Self.server)
        let ada = try harness.token("ada")
        try await harness.test { client in
            let allocate = "b = bytearray(150 * 1024 * 1024)\nfor i in range(0, len(b), 4096): b[i] = 1\nprint('allocated')"
            let roomy = try await client.call(.post, "/v1/executions", token: ada, json: try Self.body([:], code: allocate))
            #expect(roomy.json["stdout"] as? String == "allocated\n", "under the server's 256m: \(roomy.text)")
            let lowered = try await client.call(.post, "/v1/executions", token: ada,
                                                json: try Self.body(["memory_bytes": 64 << 20], code: allocate))
            #expect(lowered.status == .ok)
            #expect(lowered.json["stdout"] as? String != "allocated\n", "64m must not hold 150m: \(lowered.text)")
            #expect(lowered.json["exit_code"] as? Int != 0)

            let flood = try await client.call(.post, "/v1/executions", token: ada,
                                              json: try Self.body(["output_bytes": 1000], code: "print('x' * 20000)"))
            #expect(flood.json["stdout_truncated"] as? Bool == true, "\(flood.text)")
            #expect(((flood.json["stdout"] as? String)?.count ?? 0) < 20000)

            let big = try await client.call(.post, "/v1/executions", token: ada, json: try Self.body(
                ["file_size_bytes": 1 << 20], code: "open('/tmp/f', 'wb').write(b'x' * (2 * 1024 * 1024))\nprint('wrote')"))
            #expect(big.json["stdout"] as? String != "wrote\n", "\(big.text)")

            let forks = try await client.call(.post, "/v1/executions", token: ada, json: try Self.body(
                ["processes": 4],
                code: "import subprocess\nps = [subprocess.Popen(['sleep', '5']) for _ in range(12)]\nprint('forked')"))
            #expect(forks.json["stdout"] as? String != "forked\n", "\(forks.text)")

            // 24 MiB in files of 4 MiB (under the file-size limit) fit the server's 48m, not a lowered 8m.
            let fill = "for i in range(6): open(f'f{i}', 'wb').write(b'x' * (4 * 1024 * 1024))\nprint('filled')"
            let roomyDisk = try await client.call(.post, "/v1/executions", token: ada, json: try Self.body([:], code: fill))
            #expect(roomyDisk.json["stdout"] as? String == "filled\n", "\(roomyDisk.text)")
            let disk = try await client.call(.post, "/v1/executions", token: ada,
                                             json: try Self.body(["disk_bytes": 8 << 20], code: fill))
            #expect(disk.json["stdout"] as? String != "filled\n", "\(disk.text)")
            #expect(disk.json["disk_limit_exceeded"] as? Bool == true, "\(disk.text)")

            let slow = try await client.call(.post, "/v1/executions", token: ada, json: try Self.body(
                ["timeout_seconds": 1], code: "import time\ntime.sleep(15)"))
            #expect(slow.json["timed_out"] as? Bool == true, "\(slow.text)")
        }
    }

    @Test("a server without a limit of some kind still lets a caller set one, and applies it")
    func unlimitedServer() async throws {
        var limits = Self.server
        limits.memoryBytes = nil
        let harness = try ServerHarness(limits: limits)
        let ada = try harness.token("ada")
        try await harness.test { client in
            let allocate = "b = bytearray(150 * 1024 * 1024)\nfor i in range(0, len(b), 4096): b[i] = 1\nprint('allocated')"
            let lowered = try await client.call(.post, "/v1/executions", token: ada,
                                                json: try Self.body(["memory_bytes": 64 << 20], code: allocate))
            #expect(lowered.status == .ok, "\(lowered.text)")
            #expect(lowered.json["stdout"] as? String != "allocated\n", "\(lowered.text)")
            let large = try await client.call(.post, "/v1/executions", token: ada,
                                              json: try Self.body(["memory_bytes": Double(1 << 40)]))
            #expect(large.status == .ok, "no server limit, so any sensible value is a lowering: \(large.text)")
            let absurd = try await client.call(.post, "/v1/executions", token: ada, json: try Self.body(["memory_bytes": 1e300]))
            #expect(absurd.status == .badRequest, "\(absurd.text)")
        }
    }

    @Test("a network, a backend, a mode or a limit by another name is refused and named, never ignored; no network is accepted")
    func otherFieldsRefused() async throws {
        let harness = try ServerHarness(limits: Self.server)
        let ada = try harness.token("ada")
        try await harness.test { client in
            let refused: [([String: Any], String)] = [
                (["network": "full"], "network"), (["network": "registries"], "network"), (["network": "allowlist"], "network"),
                (["network": true], "network"), (["network": ["access": "full"]], "network"), (["net": "full"], "net"),
                (["allow": ["example.org"]], "allow"), (["allowed_hosts": ["10.0.0.1"]], "allowed_hosts"),
                (["backend": "process"], "backend"), (["mode": "full-access"], "mode"),
                (["memory": 68_719_476_736], "memory"), (["Memory_Bytes": 68_719_476_736], "Memory_Bytes"),
                (["limits": ["memory_bytes": 68_719_476_736]], "limits"), (["timeout": 1000], "timeout"),
                (["wall_clock_seconds": 1000], "wall_clock_seconds"), (["max_iterations": 1000], "max_iterations"),
                (["candidates": 50], "candidates"), (["memory_bytes": "64000000"], "memory_bytes"),
                (["memory_bytes": 64 << 20, "pids": 100_000], "pids"),
            ]
            for (fields, named) in refused {
                let response = try await client.call(.post, "/v1/executions", token: ada,
                                                      json: try Self.body(fields, code: "print('ran')"))
                #expect(response.status == .badRequest, "\(fields): \(response.text)")
                #expect(response.errorMessage.contains("'\(named)'") || response.text.contains(named), "\(fields): \(response.text)")
                #expect(!response.text.contains("ran\\n"), "\(fields): \(response.text)")
            }
            // Asking for no network, which is what an execution has, changes nothing; a fraction
            // of a second is a fine timeout.
            for fields: [String: Any] in [["network": "none"], ["network": NSNull()], ["timeout_seconds": 2.5]] {
                let response = try await client.call(.post, "/v1/executions", token: ada, json: try Self.body(fields))
                #expect(response.status == .ok, "\(fields): \(response.text)")
                #expect(response.json["stdout"] as? String == "ran\n", "\(fields): \(response.text)")
            }
        }
    }

    @Test("sessions and their messages take no limits, network or iterations: each is refused and named")
    func sessionFieldsRefused() async throws {
        let harness = try ServerHarness(limits: Self.server)
        let ada = try harness.token("ada")
        try await harness.test { client in
            let asks: [(String, Any)] = [
                ("memory_bytes", 68_719_476_736), ("timeout_seconds", 86_400), ("network", "full"), ("max_iterations", 1000),
                ("candidates", 64), ("backend", "process"), ("limits", ["memory_bytes": 1 << 40]),
            ]
            for (name, value) in asks {
                let create = try await client.call(.post, "/v1/sessions", token: ada,
                                                   json: try Self.json(["title": "t", name: value]))
                #expect(create.status == .badRequest, "\(name): \(create.text)")
                #expect(create.errorMessage.contains("'\(name)'"), "\(name): \(create.errorMessage)")
            }
            let created = try await client.call(.post, "/v1/sessions", token: ada, json: try Self.json(["title": "t"]))
            let id = try #require(created.json["id"] as? String, "\(created.text)")
            for (name, value) in asks {
                let message = try await client.call(.post, "/v1/sessions/\(id)/messages", token: ada,
                                                    json: try Self.json(["text": "go", name: value]))
                #expect(message.status == .badRequest, "\(name): \(message.text)")
                #expect(message.errorMessage.contains("'\(name)'"), "\(name): \(message.errorMessage)")
            }
            // Nothing was started by the refused messages.
            let events = try await client.call(.get, "/v1/sessions/\(id)", token: ada)
            #expect(events.json["running"] as? Bool == false, "\(events.text)")
        }
    }

    static func json(_ object: [String: Any]) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
    }

    @Test("MCP tools refuse an argument they do not list: a network, a backend, iterations, a limit by another name")
    func mcpOtherArguments() async throws {
        let harness = try ServerHarness(limits: Self.server)
        let tools = MCPToolServer(executions: harness.server.executions, runtime: harness.runtime, maxIterations: 3, applyChanges: false,
                                  roots: [URL(fileURLWithPath: NSTemporaryDirectory())])
        let workspace = harness.home.appendingPathComponent("mcp-ws", isDirectory: true)
        try FileManager.default.createDirectory(at: workspace, withIntermediateDirectories: true)
        let calls: [(String, [String: Value], String)] = [
            ("execute_code", ["language": "python", "code": "print(1)", "network": "full"], "network"),
            ("execute_code", ["language": "python", "code": "print(1)", "network": .bool(true)], "network"),
            ("execute_code", ["language": "python", "code": "print(1)", "backend": "process"], "backend"),
            ("execute_code", ["language": "python", "code": "print(1)", "memory": .int(1 << 40)], "memory"),
            ("run_tests", ["workspace": .string(workspace.path), "network": "full"], "network"),
            ("run_tests", ["workspace": .string(workspace.path), "timeout_seconds": .int(86_400)], "timeout_seconds"),
            ("run_task", ["task": "x", "workspace": .string(workspace.path), "max_iterations": .int(1000)], "max_iterations"),
            ("run_task", ["task": "x", "workspace": .string(workspace.path), "memory_bytes": .int(1 << 40)], "memory_bytes"),
        ]
        for (tool, arguments, named) in calls {
            do {
                _ = try await tools.call(tool, arguments)
                Issue.record("\(tool) \(named): accepted")
            } catch let error as ServerError {
                #expect(error.message.contains("'\(named)'"), "\(tool): \(error.message)")
            }
        }
        let none = try await tools.call("execute_code", ["language": "python", "code": "print(6 * 7)", "network": "none"])
        #expect(none.isError != true, "\(MCPClientTests.text(none.content))")
    }

    @Test("MCP execute_code: the same limits, the same refusals, the lowered one applied")
    func mcpTool() async throws {
        let harness = try ServerHarness(limits: Self.server)
        let tools = MCPToolServer(executions: harness.server.executions, runtime: harness.runtime, maxIterations: 3, applyChanges: false,
                                  roots: [URL(fileURLWithPath: NSTemporaryDirectory())])
        let schema = try #require(MCPToolServer.tools.first { $0.name == "execute_code" }?.inputSchema.objectValue)
        let properties = try #require(schema["properties"]?.objectValue)
        #expect(Set(properties.keys).isSuperset(of: CallerLimits.names), "\(properties.keys)")

        for (name, ceiling) in Self.ceilings {
            let arguments: [String: Value] = ["language": "python", "code": "print(1)", name: .double(ceiling * 4)]
            await #expect(throws: ServerError.self, "\(name)") { _ = try await tools.call("execute_code", arguments) }
            do {
                _ = try await tools.call("execute_code", arguments)
            } catch let error as ServerError {
                #expect(error.message.contains(name) && error.message.contains(CallerLimits.shown(ceiling)), "\(error.message)")
            }
        }
        await #expect(throws: ServerError.self) {
            _ = try await tools.call("execute_code", ["language": "python", "code": "print(1)", "timeout": 1000])
        }
        await #expect(throws: ServerError.self) {
            _ = try await tools.call("execute_code", ["language": "python", "code": "print(1)", "memory_bytes": "1g"])
        }
        let allocate = "b = bytearray(150 * 1024 * 1024)\nfor i in range(0, len(b), 4096): b[i] = 1\nprint('allocated')"
        let lowered = try await tools.call("execute_code", ["language": "python", "code": .string(allocate),
                                                            "memory_bytes": .int(64 << 20)])
        #expect(lowered.isError == true)
        #expect(!MCPClientTests.text(lowered.content).contains("allocated\\n\""), "\(MCPClientTests.text(lowered.content))")
        let fine = try await tools.call("execute_code", ["language": "python", "code": "print(6 * 7)", "timeout": 5,
                                                         "memory_bytes": .int(64 << 20)])
        #expect(fine.isError != true, "\(MCPClientTests.text(fine.content))")
    }
}
