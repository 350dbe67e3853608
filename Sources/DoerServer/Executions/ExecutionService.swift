public import DoerCore
public import DoerLanguages
public import DoerSandbox
public import Foundation

/// A stateless execution: code or files in, the sandboxed run's outcome out.
public struct ExecutionInput: Sendable, Decodable {
    public var language: String?
    public var code: String?
    public var stdin: String?
    /// Limits the caller asks for (`timeout_seconds`, `memory_bytes`, …); they may only
    /// lower the server's.
    public var limits: CallerLimits
    /// Relative path → content, written into a fresh workspace.
    public var files: [String: String]?
    /// A file of `files` to run with the language's run command.
    public var entrypoint: String?
    /// A command to run instead: a list of arguments, or a string given to `sh -c`.
    public var command: CommandValue?
    public var arguments: [String]?

    public enum CommandValue: Sendable, Decodable {
        case arguments([String])
        case shell(String)

        public init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let list = try? container.decode([String].self) {
                self = .arguments(list)
            } else {
                self = .shell(try container.decode(String.self))
            }
        }
    }

    enum CodingKeys: String, CodingKey {
        case language, code, stdin, files, entrypoint, command, arguments
    }

    public init(language: String? = nil, code: String? = nil, stdin: String? = nil, limits: CallerLimits = CallerLimits(),
                files: [String: String]? = nil, entrypoint: String? = nil, command: CommandValue? = nil,
                arguments: [String]? = nil) {
        self.language = language
        self.code = code
        self.stdin = stdin
        self.limits = limits
        self.files = files
        self.entrypoint = entrypoint
        self.command = command
        self.arguments = arguments
    }

    /// Every field the body may carry: the ones above and the limits a caller may lower.
    static var fields: [String] {
        ["language", "code", "stdin", "files", "entrypoint", "command", "arguments"] + CallerLimits.names
    }

    public init(from decoder: any Decoder) throws {
        // Anything else (a network, a backend, a limit under another name) is refused, not
        // ignored: an execution runs with no network and the server's sandbox whatever it says.
        try BodyFields.check(decoder, taken: Self.fields, route: "POST /v1/executions", allowsNoNetwork: true)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        language = try container.decodeIfPresent(String.self, forKey: .language)
        code = try container.decodeIfPresent(String.self, forKey: .code)
        stdin = try container.decodeIfPresent(String.self, forKey: .stdin)
        files = try container.decodeIfPresent([String: String].self, forKey: .files)
        entrypoint = try container.decodeIfPresent(String.self, forKey: .entrypoint)
        command = try container.decodeIfPresent(CommandValue.self, forKey: .command)
        arguments = try container.decodeIfPresent([String].self, forKey: .arguments)
        limits = try CallerLimits(from: decoder)
    }
}

/// What an execution answers (snake_case on the wire).
public struct ExecutionOutput: Sendable, Codable, Hashable {
    public var stdout: String
    public var stderr: String
    public var exitCode: Int32
    public var signal: Int32?
    public var durationMs: Double
    public var timedOut: Bool
    public var memoryKilled: Bool
    /// The run went over its disk limit (and was stopped, or its writes past it failed).
    public var diskLimitExceeded: Bool
    public var memoryPeakBytes: Int64?
    public var stdoutTruncated: Bool
    public var stderrTruncated: Bool
    public var language: String?
    public var backend: String
    public var warnings: [String]

    enum CodingKeys: String, CodingKey {
        case stdout, stderr, signal, language, backend, warnings
        case exitCode = "exit_code"
        case durationMs = "duration_ms"
        case timedOut = "timed_out"
        case memoryKilled = "memory_killed"
        case diskLimitExceeded = "disk_limit_exceeded"
        case memoryPeakBytes = "memory_peak_bytes"
        case stdoutTruncated = "stdout_truncated"
        case stderrTruncated = "stderr_truncated"
    }
}

/// Runs executions in the sandbox, each in its own temporary workspace that is removed
/// afterwards, at most `maxConcurrent` at once.
///
/// `baseLimits`, with `maxSeconds` as its timeout, are the most any caller gets: a request
/// may lower them (`CallerLimits`), never raise them.
public struct ExecutionService: Sendable {
    let sandbox: any Sandbox
    let runner: FileRunner
    let baseLimits: ResourceLimits
    let scratchRoot: URL
    let slots: ExecutionSlots

    public init(sandbox: any Sandbox, languageCache: LanguageCache, baseLimits: ResourceLimits, maxSeconds: Double,
                maxConcurrent: Int, scratchRoot: URL) {
        self.sandbox = sandbox
        self.runner = FileRunner(sandbox: sandbox, cache: languageCache)
        var ceiling = baseLimits
        ceiling.wallClockSeconds = maxSeconds
        self.baseLimits = ceiling
        self.scratchRoot = scratchRoot
        self.slots = ExecutionSlots(limit: max(1, maxConcurrent))
    }

    public func run(_ input: ExecutionInput) async throws(ServerError) -> ExecutionOutput {
        var requested = input.limits
        // Without a timeout of its own, a run gets a short one: most runs take far less than the most allowed.
        if requested.values["timeout_seconds"] == nil { requested.values["timeout_seconds"] = min(10, baseLimits.wallClockSeconds) }
        let limits = try requested.lowering(baseLimits)
        let plan = try plan(input)
        let workspace = scratchRoot.appendingPathComponent("exec-\(UUID().uuidString.lowercased())", isDirectory: true)
        defer { try? FileManager.default.removeItem(at: workspace) }
        do {
            try WorkspaceFiles.write(plan.files, into: workspace)
        } catch {
            throw .badRequest("cannot write the files: \(error.description)")
        }
        let stdin = Data((input.stdin ?? "").utf8)
        await slots.acquire()
        defer { Task { await slots.release() } }
        let result: ExecutionResult
        do {
            switch plan.program {
            case .command(let command):
                result = try await sandbox.run(ExecutionRequest(command: command, workspace: workspace, stdin: stdin,
                                                                limits: limits, mode: .workspaceWrite, applyChanges: false))
            case .file(let file, let language, let arguments):
                // A program that does not compile answers with the compiler's output and exit code.
                // Its build cache belongs to this one throw-away workspace: drop it afterwards.
                defer { runner.cache.clear(language, workspace: workspace) }
                let outcome = try await runner.run(file, language: language, arguments: arguments, workspace: workspace,
                                                   stdin: stdin, limits: limits, applyChanges: false)
                guard let ran = outcome.failedBuild ?? outcome.run else {
                    throw ServerError.unavailable("the program neither built nor ran")
                }
                result = ran
            }
        } catch let error as ServerError {
            throw error
        } catch let error as DoerError {
            if case .toolchainMissing = error { throw .badRequest(error.description) }
            throw .unavailable("the sandbox could not run the code: \(error.description)")
        } catch {
            throw .unavailable("the sandbox could not run the code: \(error)")
        }
        var signal: Int32?
        if case .signaled(let number) = result.termination { signal = number }
        var warnings = result.warnings
        if case .failedToStart(let reason) = result.termination { warnings.append("did not start: \(reason)") }
        return ExecutionOutput(
            stdout: result.stdout.text, stderr: result.stderr.text, exitCode: result.termination.shellExitCode, signal: signal,
            durationMs: result.durationMs, timedOut: result.timedOut, memoryKilled: result.memoryKilled,
            diskLimitExceeded: result.diskLimitExceeded,
            memoryPeakBytes: result.peakMemoryBytes, stdoutTruncated: result.stdout.truncated,
            stderrTruncated: result.stderr.truncated, language: plan.language, backend: result.backend.rawValue,
            warnings: warnings)
    }

    private enum Program {
        case command([String])
        case file(String, Language, [String])
    }

    private struct Plan {
        var files: [String: String]
        var program: Program
        var language: String?
    }

    private func plan(_ input: ExecutionInput) throws(ServerError) -> Plan {
        var language: Language?
        if let name = input.language {
            do { language = try LanguageCatalogue.language(named: name) } catch { throw .badRequest(error.description) }
        }
        var files = input.files ?? [:]
        try WorkspaceFiles.validate(paths: files.keys)
        let arguments = input.arguments ?? []
        if let code = input.code {
            guard let language else { throw .badRequest("'code' needs a 'language' (\(LanguageCatalogue.all.map(\.name).joined(separator: ", ")))") }
            guard input.command == nil, input.entrypoint == nil else {
                throw .badRequest("give either 'code', or 'files' with 'command' or 'entrypoint', not both")
            }
            let name = "main." + (language.extensions.first ?? "txt")
            files[name] = code
            return Plan(files: files, program: .file(name, language, arguments), language: language.name)
        }
        guard !files.isEmpty else { throw .badRequest("nothing to run: give 'code' and 'language', or 'files' with 'command' or 'entrypoint'") }
        switch (input.command, input.entrypoint) {
        case (.some(.arguments(let list)), nil):
            guard !list.isEmpty, !list[0].isEmpty else { throw .badRequest("'command' must not be empty") }
            return Plan(files: files, program: .command(list + arguments), language: language?.name)
        case (.some(.shell(let line)), nil):
            guard !line.isEmpty else { throw .badRequest("'command' must not be empty") }
            return Plan(files: files, program: .command(["sh", "-c", line]), language: language?.name)
        case (nil, .some(let entry)):
            guard files[entry] != nil else { throw .badRequest("the entrypoint '\(entry)' is not one of the files") }
            let chosen: Language
            if let language {
                chosen = language
            } else {
                do { chosen = try LanguageCatalogue.language(forFile: entry) } catch { throw .badRequest(error.description) }
            }
            return Plan(files: files, program: .file(entry, chosen, arguments), language: chosen.name)
        case (nil, nil):
            throw .badRequest("with 'files', give 'command' (what to run) or 'entrypoint' (which file to run)")
        case (.some, .some):
            throw .badRequest("give 'command' or 'entrypoint', not both")
        }
    }
}

/// A counting semaphore for executions.
actor ExecutionSlots {
    private let limit: Int
    private var inUse = 0
    private var waiters: [CheckedContinuation<Void, Never>] = []

    init(limit: Int) { self.limit = limit }

    /// Executions waiting for a slot (the server's queue depth).
    var waiting: Int { waiters.count }

    func acquire() async {
        if inUse < limit {
            inUse += 1
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    func release() {
        if waiters.isEmpty {
            inUse -= 1
        } else {
            waiters.removeFirst().resume()
        }
    }
}
