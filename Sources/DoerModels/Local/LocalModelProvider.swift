public import DoerCore
public import Foundation

/// The bundled model, served by the shared llama-server Doer manages.
///
/// ```swift
/// let provider = LocalModelProvider(settings: configuration.model)
/// let reply = try await provider.complete(ModelRequest(messages: [.user("Write hello world in C")]))
/// ```
///
/// The first request checks that the model is installed (it never downloads: a missing
/// model is an error that says to run `doer model install`) and that the server runs,
/// starting it when needed; requests then go straight to its OpenAI-compatible API. Before
/// each request the server's process is checked (a few system calls); when it is gone, or a
/// request fails before anything was streamed because it died (connection refused), it is
/// restarted and the request sent again.
public struct LocalModelProvider: ModelProvider {
    public let name = "local"
    public let settings: ModelSettings
    public let installer: LocalModelInstaller
    public let server: LocalModelServer
    public let options: LocalServerOptions
    private let connection: Connection
    /// Each request gets one slot of the server (see `LocalServerOptions`).
    public var contextWindow: Int? { options.contextPerSlot }

    public init(settings: ModelSettings = ModelSettings(), locations: LocalModelLocations = LocalModelLocations(),
                environment: [String: String] = ProcessInfo.processInfo.environment,
                options: LocalServerOptions? = nil) {
        self.settings = settings
        self.installer = LocalModelInstaller(locations: locations, environment: environment)
        self.server = LocalModelServer(locations: locations, environment: environment)
        self.options = options ?? LocalServerOptions(settings: settings)
        self.connection = Connection()
    }

    /// Makes the model and server ready, as the first request would; returns the server.
    @discardableResult
    public func prepare() async throws -> LocalServerState {
        try await connection.current(using: self).state
    }

    public func stream(_ request: ModelRequest) -> AsyncThrowingStream<ModelDelta, any Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    var retries = 0
                    while true {
                        let (state, upstream) = try await connection.current(using: self)
                        var streamed = false
                        do {
                            for try await delta in upstream.stream(request) {
                                streamed = true
                                continuation.yield(delta)
                            }
                            continuation.finish()
                            return
                        } catch let error as ModelError where !streamed && retries < 2 {
                            if serverIsGone(error, state) {
                                await connection.forget(state)
                            } else if !StaleConnection.matches(error) {
                                throw error
                            }
                            retries += 1
                        }
                    }
                } catch {
                    continuation.finish(throwing: Task.isCancelled ? ModelError.cancelled : error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    private func serverIsGone(_ error: ModelError, _ state: LocalServerState) -> Bool {
        switch error {
        case .cancelled: return false
        case .connectionRefused: return true
        default: return !server.isServer(state)
        }
    }

    /// Model and server checks that every request would otherwise repeat.
    fileprivate func connect() async throws -> (LocalServerState, OpenAIChatProvider) {
        guard let installation = try await installer.installedModel(size: settings.localSize) else {
            let model = try installer.catalog.model(size: settings.localSize)
            throw ModelError.localModelUnavailable(
                "\(model.displayName) is not installed in \(installer.locations.models.path); "
                    + "run `doer model install --size \(model.size)`")
        }
        let state = try await server.ensureRunning(model: installation.file, size: installation.size, options: options)
        let provider = OpenAIChatProvider(
            name: name, baseURL: state.openAIBaseURL, apiKey: nil, model: "local",
            idleTimeoutSeconds: settings.requestTimeoutSeconds, maxRetries: settings.maxRetries)
        return (state, provider)
    }
}

/// The server a provider talks to, found once and shared by its concurrent requests.
private actor Connection {
    private var ready: (state: LocalServerState, provider: OpenAIChatProvider)?
    private var connecting: Task<(LocalServerState, OpenAIChatProvider), any Error>?

    func current(using owner: LocalModelProvider) async throws -> (state: LocalServerState, provider: OpenAIChatProvider) {
        // A few system calls; far cheaper than a request to a server that died.
        if let ready, owner.server.isServer(ready.state) { return ready }
        ready = nil
        let task: Task<(LocalServerState, OpenAIChatProvider), any Error>
        if let connecting {
            task = connecting
        } else {
            task = Task { try await owner.connect() }
            connecting = task
        }
        do {
            let result = try await task.value
            if connecting == task {
                ready = result
                connecting = nil
            }
            return result
        } catch {
            if connecting == task { connecting = nil }
            throw error
        }
    }

    /// Drops `state` (when it is still the current one) so the next request finds or
    /// starts a server again.
    func forget(_ state: LocalServerState) {
        if ready?.state == state { ready = nil }
    }
}
