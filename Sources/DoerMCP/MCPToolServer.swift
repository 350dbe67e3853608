import DoerAgent
public import DoerCore
import DoerLanguages
public import DoerRuntime
import DoerSandbox
import Foundation
public import MCP
import Synchronization
import DoerStore
import DoerConfig
import DoerServer

/// `doer mcp`: Doer's sandbox and agent as Model Context Protocol tools over stdio.
///
/// The tools run code only in the sandbox. `run_task` shows the agent's diff but applies
/// it to the workspace only when the person who started the server allowed that
/// (`doer mcp --apply`): the MCP client may be a model, and a model never approves.
///
/// A workspace must lie inside one of the server's roots (`doer mcp --root DIR`; by default
/// the folder it was started in): a client told to "fix the tests in /root" or steered to
/// `/etc/cron.d` would otherwise have Doer copy that folder into a sandbox, show its files
/// in a diff, and with `--apply` write there.
public struct MCPToolServer: Sendable {
    let executions: ExecutionService
    let runtime: Runtime
    let maxIterations: Int
    let applyChanges: Bool
    let tests: ProjectTestRunner
    /// The folders workspaces may be in (resolved: no links).
    let roots: [URL]
    /// The sessions this server's `run_task` ran: the only ones `undo_task` may touch.
    private let ownSessions = SharedSessionIDs()

    /// - Parameters:
    ///   - runtime: the sandbox, model, store and audit trail (`Runtime`); `run_task` runs are
    ///     sessions of its store, so they show in `doer sessions` and the audit trail.
    ///   - roots: the folders a workspace may be in, at any depth.
    public init(runtime: Runtime, maxIterations: Int = 6, applyChanges: Bool, maxConcurrentExecutions: Int = 4,
                roots: [URL]) throws(DoerError) {
        let scratch = runtime.directories.cache.appendingPathComponent("executions", isDirectory: true)
        try? FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        let limits = runtime.configuration.limits
        self.init(executions: ExecutionService(sandbox: runtime.sandbox, languageCache: runtime.languageCache, baseLimits: limits,
                                               maxSeconds: limits.wallClockSeconds, maxConcurrent: maxConcurrentExecutions,
                                               scratchRoot: scratch),
                  runtime: runtime, maxIterations: maxIterations, applyChanges: applyChanges, roots: roots)
    }

    init(executions: ExecutionService, runtime: Runtime, maxIterations: Int, applyChanges: Bool, roots: [URL]) {
        self.executions = executions
        self.runtime = runtime
        self.tests = ProjectTestRunner(sandbox: runtime.sandbox, cache: runtime.languageCache)
        self.maxIterations = maxIterations
        self.applyChanges = applyChanges
        self.roots = roots.map { $0.standardizedFileURL.resolvingSymlinksInPath() }
    }

    public static let tools: [Tool] = [
        Tool(name: "execute_code", description: "Run a snippet of code in Doer's sandbox (no network, limited memory and time) and return stdout, stderr and the exit code.",
             inputSchema: .object([
                "type": "object",
                "properties": .object([
                    "language": .object(["type": "string", "description": .string("The language: " + LanguageCatalogue.all.map(\.name).joined(separator: ", "))]),
                    "code": .object(["type": "string", "description": "The program's source"]),
                    "stdin": .object(["type": "string", "description": "Standard input for the program"]),
                    "timeout": .object(["type": "number", "description": "Seconds before the run is killed (default 10)"]),
                ].merging(lowerableLimits) { first, _ in first }),
                "required": .array(["language", "code"]),
             ])),
        Tool(name: "run_tests", description: "Run a project's tests in the sandbox, every language it has tests in (pytest, go test, cargo test, JUnit…); the workspace is not changed. Answers a report per language with each test's result.",
             inputSchema: .object([
                "type": "object",
                "properties": .object([
                    "workspace": .object(["type": "string", "description": "Absolute path of the project folder"]),
                ]),
                "required": .array(["workspace"]),
             ])),
        Tool(name: "run_task", description: "Have Doer's agent carry out a coding task on a workspace: plan, write, test in the sandbox, repair. Returns the summary and the diff.",
             inputSchema: .object([
                "type": "object",
                "properties": .object([
                    "task": .object(["type": "string", "description": "What to do, in plain language"]),
                    "workspace": .object(["type": "string", "description": "Absolute path of the project folder"]),
                ]),
                "required": .array(["task", "workspace"]),
             ])),
        Tool(name: "undo_task", description: "Put a workspace back as it was before a run_task session's changes were applied (only with `doer mcp --apply`, which is what applies them).",
             inputSchema: .object([
                "type": "object",
                "properties": .object([
                    "session": .object(["type": "string", "description": "The session id run_task answered"]),
                ]),
                "required": .array(["session"]),
             ])),
    ]

    /// Registers the tools on `server`.
    public func register(on server: Server) async {
        await server.withMethodHandler(ListTools.self) { _ in .init(tools: Self.tools) }
        await server.withMethodHandler(CallTool.self) { params in
            do {
                return try await call(params.name, params.arguments ?? [:])
            } catch let error as ServerError {
                return .init(content: [.text(text: error.message, annotations: nil, _meta: nil)], isError: true)
            } catch let error as DoerError {
                return .init(content: [.text(text: error.description, annotations: nil, _meta: nil)], isError: true)
            }
        }
    }

    /// Serves on stdin/stdout until the client disconnects and every request it sent is answered.
    public func runStdio() async throws {
        let server = Server(name: "doer", version: "0.1.0", capabilities: .init(tools: .init(listChanged: false)))
        await register(on: server)
        try await server.start(transport: AnsweringTransport(StdioTransport()))
        await server.waitUntilCompleted()
        await runtime.sandbox.shutDown()
    }

    func call(_ name: String, _ arguments: [String: Value]) async throws -> CallTool.Result {
        // An argument the tool does not list (a network, a backend, max_iterations, a limit
        // under another name) is refused, not ignored, as in the HTTP API (`BodyFields`).
        if let properties = Self.tools.first(where: { $0.name == name })?.inputSchema.objectValue?["properties"]?.objectValue,
           let why = BodyFields.refusal(names: Array(arguments.keys), taken: Array(properties.keys), route: "the tool \(name)",
                                        value: { key -> String?? in
                                            guard let value = arguments[key] else { return nil }
                                            if value.isNull { return .some(nil) }
                                            return value.stringValue.map { .some($0) } ?? nil
                                        }, allowsNoNetwork: name == "execute_code") {
            throw ServerError.badRequest(why)
        }
        switch name {
        case "execute_code":
            let input = ExecutionInput(language: try string(arguments, "language"), code: try string(arguments, "code"),
                                       stdin: arguments["stdin"]?.stringValue, limits: try limits(arguments))
            let output = try await executions.run(input)
            return .init(content: [.text(text: try json(output), annotations: nil, _meta: nil)], isError: output.exitCode != 0 || output.timedOut)
        case "run_tests":
            let workspace = try directory(arguments)
            try runtime.checkWorkspace(workspace)
            let report = await tests.run(workspace: workspace)
            let lines = report.languages.map {
                "\($0.language) (\($0.framework)): \($0.outcome.rawValue), \($0.passedCount) passed, \($0.failedCount) failed"
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let output = (lines.isEmpty ? "no tests found" : lines.joined(separator: "\n"))
                + "\n\n" + String(decoding: try encoder.encode(report), as: UTF8.self)
            return .init(content: [.text(text: output, annotations: nil, _meta: nil)], isError: !report.passed)
        case "run_task":
            let task = try string(arguments, "task")
            let root = try directory(arguments)
            // The MCP client may be a model, and a model never approves: changes are applied
            // only when the person who started the server said so (`--apply`).
            let approvals: any ApprovalHandler = applyChanges ? PolicyApproval() : DenyAllApprovals()
            let settings = AgentRunSettings(maxIterations: maxIterations, approval: applyChanges ? .never : .onRequest)
            let session = try runtime.store.createSession(task: task, workspace: root.path)
            ownSessions.insert(session.id)
            let summary = try await SessionRunner(runtime: runtime).run(task: task, workspace: root, session: session.id,
                                                                        settings: settings, approvals: approvals) { _ in }
            guard let summary else { throw ServerError.unavailable("the agent ended without a summary") }
            let text = """
                session: \(session.id)
                outcome: \(summary.outcome.rawValue)
                \(summary.message)
                applied: \(summary.applied ? "yes" : "no")\(summary.applied || summary.diff.isEmpty ? "" : " (start `doer mcp --apply` to let run_task apply changes)")

                \(summary.diff.isEmpty ? "(no changes)" : summary.diff)
                """
            return .init(content: [.text(text: text, annotations: nil, _meta: nil)], isError: summary.outcome != .passed)
        case "undo_task":
            let session = try string(arguments, "session")
            // Only what this server's own runs applied: a client may not undo a change a
            // person approved elsewhere.
            guard applyChanges else {
                throw ServerError.badRequest("nothing to undo: run_task applies nothing unless `doer mcp --apply` was started")
            }
            guard ownSessions.contains(session) else {
                throw ServerError.badRequest("session \(session) is not a run_task session of this server")
            }
            let undone = try SessionUndo(runtime: runtime).undoLatest(among: [session])
            return .init(content: [.text(text: "undid session \(session): " + undone.paths.joined(separator: ", "),
                                         annotations: nil, _meta: nil)], isError: false)
        default:
            throw ServerError.badRequest("unknown tool '\(name)'; the tools are \(Self.tools.map(\.name).joined(separator: ", "))")
        }
    }

    private func string(_ arguments: [String: Value], _ key: String) throws(ServerError) -> String {
        guard let value = arguments[key]?.stringValue, !value.isEmpty else { throw .badRequest("'\(key)' is required (a string)") }
        return value
    }

    /// The limits the tool's caller asked for; like an API caller, it may only lower the server's.
    private func limits(_ arguments: [String: Value]) throws(ServerError) -> CallerLimits {
        var values: [String: Double] = [:]
        for name in CallerLimits.names + ["timeout"] {
            guard let value = arguments[name], !value.isNull else { continue }
            guard let number = value.doubleValue ?? value.intValue.map(Double.init) else {
                throw .badRequest("'\(name)' must be a number")
            }
            values[name == "timeout" ? "timeout_seconds" : name] = number
        }
        return CallerLimits(values)
    }

    /// `execute_code`'s optional limits, each at most the server's.
    private static var lowerableLimits: [String: Value] {
        Dictionary(uniqueKeysWithValues: CallerLimits.names.map { name in
            (name, Value.object(["type": "number", "description": .string("Lowers the server's \(name); above it is an error")]))
        })
    }

    private func directory(_ arguments: [String: Value]) throws(ServerError) -> URL {
        let path = try string(arguments, "workspace")
        guard path.hasPrefix("/") else { throw .badRequest("'workspace' must be an absolute path, got '\(path)'") }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw .badRequest("the workspace \(path) is not a folder")
        }
        let resolved = URL(fileURLWithPath: path, isDirectory: true).standardizedFileURL.resolvingSymlinksInPath()
        guard roots.contains(where: { Self.folder(resolved.path, isInside: $0.path) }) else {
            throw .badRequest("the workspace \(path) is outside the folders this server works in ("
                + roots.map(\.path).joined(separator: ", ") + "); start it with `doer mcp --root DIR` to allow another")
        }
        return resolved
    }

    static func folder(_ path: String, isInside root: String) -> Bool {
        path == root || root == "/" || path.hasPrefix(root + "/")
    }

    private func json(_ output: ExecutionOutput) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(output), as: UTF8.self)
    }
}

/// A set of session ids shared by the copies of one `MCPToolServer`.
final class SharedSessionIDs: Sendable {
    private let ids = Mutex<Set<String>>([])

    func insert(_ id: String) { ids.withLock { _ = $0.insert(id) } }

    func contains(_ id: String) -> Bool { ids.withLock { $0.contains(id) } }
}

/// Approves because the person who started `doer mcp --apply` said so in advance.
struct PolicyApproval: ApprovalHandler {
    func decide(_ request: ApprovalRequest) async -> String? { "doer mcp --apply" }
}
