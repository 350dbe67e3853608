public import DoerCore
public import DoerRuntime
import DoerDeploy
public import DoerLanguages
public import DoerSandbox
public import DoerStore
public import Foundation
import HTTPTypes
public import Hummingbird
import HummingbirdCore
public import Logging
public import NIOCore
import DoerConfig
import DoerAgent
public import DoerTelemetry
import ServiceLifecycle

/// `doer serve`: the HTTP API, its server-sent events, and the browser app, in one process.
///
/// ```swift
/// let server = try DoerHTTPServer(options: options, runtime: try Runtime())
/// try await server.makeApplication().runService()
/// ```
public struct DoerHTTPServer: Sendable {
    public let options: ServerOptions
    public let access: AccessStore
    public let store: SessionStore
    public let hub: SessionHub
    let executions: ExecutionService
    let deploys: DeployService
    let limiter: TokenBucketLimiter
    let webApp = WebAppRoutes()
    let sandbox: any Sandbox
    /// Shared by every connection of the applications this server makes.
    let connections: ConnectionsPerAddress
    /// Metrics (always) and traces (with `[telemetry] otlp_endpoint`) of this server's sessions.
    public let telemetry: Telemetry
    let metricsRoutes: MetricsRoutes
    /// Sends the spans; runs with the server.
    let traceService: (any Service)?
    /// Follows the other replicas on a PostgreSQL store; nil on SQLite.
    let replicaService: ReplicaService?

    /// - Parameters:
    ///   - runtime: the sandbox, model, store, audit trail and settings, built once (`Runtime`).
    ///   - maxIterations: model turns per candidate for session runs.
    ///   - deployEnvironment: the process's environment: deploy credentials, and the
    ///     replicas' lease and poll (`ReplicaSettings`).
    public init(options: ServerOptions, runtime: Runtime, maxIterations: Int = 6,
                deployEnvironment: [String: String] = ProcessInfo.processInfo.environment) throws(DoerError) {
        self.options = options
        var runtime = runtime
        let settings = runtime.configuration.telemetry
        do {
            let traces = settings.otlpEndpoint.map {
                TraceExportSettings(endpoint: $0, encoding: TraceExportSettings.Encoding(rawValue: settings.otlpProtocol) ?? .protobuf)
            }
            (telemetry, traceService) = try Telemetry.serving(traces: traces)
        } catch {
            throw .configuration("telemetry.otlp_endpoint: cannot set up the trace exporter: \(error)")
        }
        runtime.telemetry = telemetry
        let directories = runtime.directories
        let limits = runtime.configuration.limits, audit = runtime.audit, sandbox = runtime.sandbox
        access = runtime.access
        store = runtime.store
        // On PostgreSQL every `doer serve` on the database is a replica: runs go through the
        // shared queue and followers read the table.
        var replicas: SessionHub.Replicas?
        var listener: PostgresNotificationListener?
        if let url = runtime.configuration.store.url {
            let postgres = try PostgresStore.shared(url: url)
            replicas = SessionHub.Replicas(queue: postgres.runQueue, settings: try ReplicaSettings(environment: deployEnvironment))
            listener = postgres.notifications
        }
        // Every change the server's agent would apply waits for a person's answer.
        hub = SessionHub(runtime: runtime, settings: AgentRunSettings(maxIterations: maxIterations, approval: .onRequest),
                         approvalTimeout: .milliseconds(Int(options.approvalTimeoutSeconds * 1000)), replicas: replicas,
                         maxRunsPerUser: options.maxRunsPerUser)
        if let replicas, let listener {
            replicaService = ReplicaService(hub: hub, listener: listener, settings: replicas.settings)
        } else {
            replicaService = nil
        }
        let scratch = directories.cache.appendingPathComponent("executions", isDirectory: true)
        do {
            try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o755])
            try FileManager.default.createDirectory(at: options.workspacesRoot, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o755])
        } catch {
            throw .configuration("cannot create the server's folders: \(error.localizedDescription)")
        }
        self.sandbox = sandbox
        connections = ConnectionsPerAddress(limit: options.maxConnectionsPerAddress)
        executions = ExecutionService(sandbox: telemetry.instrument(sandbox), languageCache: runtime.languageCache, baseLimits: limits,
                                      maxSeconds: options.maxExecutionSeconds ?? limits.wallClockSeconds,
                                      maxConcurrent: options.maxConcurrentExecutions, scratchRoot: scratch)
        deploys = DeployService(hub: hub, store: store, audit: audit, configuration: DeployService.Configuration(
            settings: runtime.configuration.deploy, environment: deployEnvironment,
            scratchRoot: directories.cache.appendingPathComponent("deploys", isDirectory: true), pollSeconds: options.ciPollSeconds))
        limiter = TokenBucketLimiter(ratePerSecond: options.ratePerSecond, burst: options.rateBurst)
        metricsRoutes = MetricsRoutes(metrics: telemetry.metrics ?? DoerMetrics(), hub: hub, executions: executions,
                                      token: try settings.metricsToken(environment: deployEnvironment),
                                      listensOnLoopback: MetricsRoutes.isLoopback(options.host))
    }

    public func makeRouter() -> Router<ServerRequestContext> {
        let router = Router(context: ServerRequestContext.self)
        if MetricsRoutes.isLoopback(options.host) {
            router.add(middleware: LoopbackHostMiddleware(allowed: Set(options.allowedHosts.map { $0.lowercased() })))
        }
        if !options.corsOrigins.isEmpty {
            router.add(middleware: AllowedOriginsMiddleware(origins: Set(options.corsOrigins)))
        }
        router.add(middleware: BodyLimitMiddleware(maxBytes: options.maxBodyBytes))
        webApp.register(on: router)
        metricsRoutes.register(on: router)
        let api = router.group("v1")
            .add(middleware: BearerAuthMiddleware(access: access))
            .add(middleware: RateLimitMiddleware(limiter: limiter))
        SessionRoutes(store: store, access: access, hub: hub, workspacesRoot: options.workspacesRoot).register(on: api)
        ExecutionRoutes(service: executions).register(on: api)
        DeployRoutes(service: deploys, ownership: SessionOwnership(store: store, access: access)).register(on: api)
        return router
    }

    /// The server as a service: bounded connections (see `httpServer`), and on stop the
    /// sandbox's warm pool ended with everything it made.
    public func makeApplication(logger: Logger? = nil,
                                onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }) -> some ApplicationProtocol {
        var log = logger ?? Logger(label: "doer.serve")
        if logger == nil { log.logLevel = .notice }
        return Application(router: makeRouter(), server: httpServer,
                           configuration: ApplicationConfiguration(address: .hostname(options.host, port: options.port),
                                                                   serverName: "doer"),
                           services: [SandboxShutdownService(sandbox: sandbox)] + (traceService.map { [$0] } ?? [])
                               + (replicaService.map { [$0 as any Service] } ?? []),
                           onServerRunning: onServerRunning, logger: log)
    }

    /// HTTP/1 whose connections are bounded: a client must send each request's head within
    /// `headTimeoutSeconds` and its body within `bodyTimeoutSeconds`, and may hold at most
    /// `maxConnectionsPerAddress` connections at once.
    var httpServer: HTTPServerBuilder {
        // At most a day: a larger number of seconds would overflow the nanoseconds.
        func amount(_ seconds: Double) -> TimeAmount { .nanoseconds(Int64(min(max(seconds, 0.001), 86_400) * 1e9)) }
        let head = amount(options.headTimeoutSeconds), body = amount(options.bodyTimeoutSeconds)
        let connections = connections
        return .http1(configuration: HTTP1Channel.Configuration(additionalChannelHandlers: [
            ConnectionLimitHandler(connections: connections),
            RequestDeadlineHandler(headTimeout: head, bodyTimeout: body),
        ]))
    }
}

/// Sets the body limit every decode uses, and refuses a declared-too-large body at once.
struct BodyLimitMiddleware: RouterMiddleware {
    typealias Context = ServerRequestContext
    let maxBytes: Int

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > maxBytes {
            throw HTTPError(.contentTooLarge, message: "request body of \(length) bytes is larger than the limit of \(maxBytes) bytes")
        }
        var context = context
        context.maxUploadSize = maxBytes
        return try await next(request, context)
    }
}

/// CORS only for the origins `--cors-origin` names (or any with `*`); other origins get no
/// CORS headers, so browsers keep other sites' pages out.
struct AllowedOriginsMiddleware: RouterMiddleware {
    typealias Context = ServerRequestContext
    let origins: Set<String>
    let cors = CORSMiddleware<ServerRequestContext>(
        allowOrigin: .originBased,
        allowHeaders: [.authorization, .contentType, HTTPField.Name("Last-Event-ID")!],
        allowMethods: [.get, .post, .options])

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let origin = request.headers[.origin], origins.contains("*") || origins.contains(origin) else {
            return try await next(request, context)
        }
        return try await cors.handle(request, context: context, next: next)
    }
}
