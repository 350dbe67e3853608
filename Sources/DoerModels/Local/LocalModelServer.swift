import DoerCore
import DoerProcess
public import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The llama-server that every Doer process on the machine shares.
///
/// ```swift
/// let server = LocalModelServer()
/// let state = try await server.ensureRunning(model: installation.file, size: "0.5b", options: LocalServerOptions())
/// print(state.openAIBaseURL)   // http://127.0.0.1:PORT/v1
/// ```
///
/// `<runtime>/llama-server.json` records the running server (pid, port, model); a process
/// that finds it alive and healthy uses it. Starting and stopping happen under an `flock` on
/// `<runtime>/llama-server.lock`, so two processes never start two servers. A recorded
/// server that died, stopped answering `/health`, or serves another model is replaced.
/// The server runs in its own session and outlives the process that started it; `stop()`
/// (`doer model stop`) ends it.
public struct LocalModelServer: Sendable {
    public var locations: LocalModelLocations
    public var environment: [String: String]

    public init(locations: LocalModelLocations = LocalModelLocations(),
                environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.locations = locations
        self.environment = environment
    }

    /// What the state file says and whether it is true.
    public struct Status: Sendable, Hashable {
        public var state: LocalServerState?
        /// The recorded process is alive.
        public var running: Bool
        public var health: LocalServerProbe.Health
        public var slots: [LocalServerProbe.Slot]
    }

    /// The recorded server, as it is now; never starts anything.
    public func status() async -> Status {
        guard let state = LocalServerState.read(locations.serverState) else {
            return Status(state: nil, running: false, health: .unreachable, slots: [])
        }
        let running = isServer(state)
        let health: LocalServerProbe.Health = running ? await LocalServerProbe.health(port: state.port) : .unreachable
        let slots = health == .ok ? ((try? await LocalServerProbe.slots(port: state.port)) ?? []) : []
        return Status(state: state, running: running, health: health, slots: slots)
    }

    /// The running server for `model`, started when there is none (or the recorded one is
    /// dead, unhealthy, or serves another model).
    public func ensureRunning(model: URL, size: String, options: LocalServerOptions) async throws -> LocalServerState {
        // A server started with smaller slots would cut prompts sized for these options.
        if let state = LocalServerState.read(locations.serverState), state.modelPath == model.path,
           state.contextPerSlot >= options.contextPerSlot, isServer(state),
           await LocalServerProbe.health(port: state.port) == .ok {
            return state
        }
        return try await FileLock.withLock(locations.serverLock, timeoutSeconds: options.startTimeoutSeconds + 30,
                                           purpose: "starting llama-server") {
            if let state = LocalServerState.read(locations.serverState) {
                if state.modelPath == model.path, state.contextPerSlot >= options.contextPerSlot, isServer(state) {
                    // Its starter may have died while it was loading; give it a moment.
                    if try await waitUntilHealthy(state, seconds: 10, failIfUnhealthy: false) { return state }
                }
                await DetachedProcess.terminate(state.pid, graceSeconds: options.stopGraceSeconds)
                try? FileManager.default.removeItem(at: locations.serverState)
            }
            return try await start(model: model, size: size, options: options)
        }
    }

    /// Stops the recorded server (SIGTERM, SIGKILL after the grace period) and removes the
    /// state file. Returns what was stopped, nil when nothing was recorded.
    @discardableResult
    public func stop(graceSeconds: Double = 5) async throws -> LocalServerState? {
        try await FileLock.withLock(locations.serverLock, timeoutSeconds: 120, purpose: "stopping llama-server") {
            guard let state = LocalServerState.read(locations.serverState) else { return nil }
            if isServer(state) { await DetachedProcess.terminate(state.pid, graceSeconds: graceSeconds) }
            try? FileManager.default.removeItem(at: locations.serverState)
            return state
        }
    }

    /// Whether the recorded process is alive and is that llama-server.
    public func isServer(_ state: LocalServerState) -> Bool {
        DetachedProcess.isRunning(state.pid) && DetachedProcess.runs(state.pid, executable: state.binary)
    }

    /// The last lines of the server's log, for error messages.
    public func logTail(lines: Int = 15) -> String {
        guard let data = try? Data(contentsOf: locations.serverLog) else { return "(no log at \(locations.serverLog.path))" }
        return String(decoding: data.suffix(64 << 10), as: UTF8.self)
            .split(separator: "\n", omittingEmptySubsequences: true).suffix(lines).joined(separator: "\n")
    }

    // MARK: - Starting

    /// Called with the lock held.
    private func start(model: URL, size: String, options: LocalServerOptions) async throws -> LocalServerState {
        guard FileManager.default.fileExists(atPath: model.path) else {
            throw ModelError.localModelUnavailable("\(model.path) does not exist; run `doer model install --size \(size)`")
        }
        guard let binary = try await LlamaServerBinary.locate(locations: locations, environment: environment) else {
            throw ModelError.localModelUnavailable(LlamaServerBinary.missingMessage)
        }
        try FileManager.default.createDirectory(at: locations.runtime, withIntermediateDirectories: true)
        // A port picked here can be taken before the server binds it; one more try then.
        let attempts = options.port == nil ? 2 : 1
        for attempt in 1...attempts {
            let port = try options.port ?? Self.freePort()
            // Another server on that port would answer our health checks in its place.
            guard Self.canListen(on: port) else {
                throw ModelError.localModelUnavailable(
                    "port \(port) on 127.0.0.1 is already in use; choose another (--port) or leave it out to pick a free one")
            }
            rotateLog()
            let pid: pid_t
            do {
                pid = try DetachedProcess.spawn(
                    executable: binary.path, arguments: options.arguments(model: model, port: port),
                    environment: environment, log: locations.serverLog)
            } catch {
                throw ModelError.localModelUnavailable("cannot start llama-server: \(error)")
            }
            let state = LocalServerState(
                pid: pid, port: port, modelPath: model.path, size: size, startedAt: Date(), parallel: options.parallel,
                contextPerSlot: options.contextPerSlot, threads: options.effectiveThreads, binary: binary.path)
            // Recorded before it is healthy, so that a stop (or a test's cleanup) from anywhere finds it.
            try state.write(locations.serverState)
            do {
                _ = try await waitUntilHealthy(state, seconds: options.startTimeoutSeconds, failIfUnhealthy: true)
                return state
            } catch {
                await DetachedProcess.terminate(pid, graceSeconds: 2)
                try? FileManager.default.removeItem(at: locations.serverState)
                let portTaken = logTail(lines: 40).contains("bind") || logTail(lines: 40).contains("in use")
                if attempt < attempts, portTaken { continue }
                if let modelError = error as? ModelError, case .cancelled = modelError { throw modelError }
                if error is CancellationError { throw ModelError.cancelled }
                throw error
            }
        }
        throw ModelError.localModelUnavailable("llama-server did not start")
    }

    /// Polls `/health` until the model is loaded. With `failIfUnhealthy`, a server that
    /// exits or is still not ready at the deadline is an error (with its log's tail);
    /// otherwise that returns false.
    private func waitUntilHealthy(_ state: LocalServerState, seconds: Double, failIfUnhealthy: Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
        while true {
            try Task.checkCancellation()
            guard DetachedProcess.isRunning(state.pid) else {
                guard failIfUnhealthy else { return false }
                throw ModelError.localModelUnavailable(
                    "llama-server exited while loading \(state.modelPath); the end of \(locations.serverLog.path):\n\(logTail())")
            }
            if await LocalServerProbe.health(port: state.port, timeoutSeconds: 1) == .ok, DetachedProcess.isRunning(state.pid) {
                return true
            }
            guard ContinuousClock.now < deadline else {
                guard failIfUnhealthy else { return false }
                throw ModelError.localModelUnavailable(
                    "llama-server did not become ready within \(Int(seconds)) s; the end of \(locations.serverLog.path):\n\(logTail())")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Keeps the previous server's log as `.1` (the reason it died is often in there).
    private func rotateLog() {
        let log = locations.serverLog
        guard FileManager.default.fileExists(atPath: log.path) else { return }
        let previous = log.deletingLastPathComponent().appendingPathComponent(log.lastPathComponent + ".1")
        _ = rename(log.path, previous.path)
    }

    /// Whether a server could listen on `port` now (with SO_REUSEADDR, as llama-server
    /// binds, so a connection lingering in TIME_WAIT does not count as taken).
    static func canListen(on port: Int) -> Bool {
        (try? bindLoopback(port: port)) != nil
    }

    /// A port on 127.0.0.1 nothing listens on right now.
    static func freePort() throws -> Int {
        try bindLoopback(port: 0)
    }

    /// Binds a socket to 127.0.0.1:`port` and closes it; returns the port it got.
    private static func bindLoopback(port: Int) throws -> Int {
        #if canImport(Glibc)
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let descriptor = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard descriptor >= 0 else {
            throw ModelError.localModelUnavailable("cannot open a socket to find a free port: \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        var reuse: Int32 = 1
        setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bind(descriptor, socketAddress, length) == 0 && getsockname(descriptor, socketAddress, &length) == 0
            }
        }
        guard bound else {
            throw ModelError.localModelUnavailable("cannot bind 127.0.0.1:\(port): \(String(cString: strerror(errno)))")
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
