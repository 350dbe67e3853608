public import Foundation

/// How `doer serve` behaves; every limit has a flag.
public struct ServerOptions: Sendable {
    public static let defaultMaxBodyBytes = 1 << 20

    public var host: String
    public var port: Int
    /// Largest request body accepted; larger ones get 413.
    public var maxBodyBytes: Int
    /// Sustained requests per second allowed per token.
    public var ratePerSecond: Double
    /// Requests a token may make at once before the rate applies.
    public var rateBurst: Double
    /// Origins allowed by CORS; empty (the default) sends no CORS headers at all.
    public var corsOrigins: [String]
    /// How long an approval waits for a person before it counts as a no.
    public var approvalTimeoutSeconds: Double
    /// The longest a stateless execution may run; nil: the configured `[limits] timeout`.
    public var maxExecutionSeconds: Double?
    /// Executions allowed to run at once; more wait for a free slot.
    public var maxConcurrentExecutions: Int
    /// Where sessions' workspaces are created, one folder per user.
    public var workspacesRoot: URL
    /// Seconds between two polls of a deploy's CI run.
    public var ciPollSeconds: Double
    /// Seconds a client has to send a request's head (line and headers), from connecting or
    /// from the end of the previous response; slower connections are closed.
    public var headTimeoutSeconds: Double
    /// Seconds a client has to send a request's body once its head is in.
    public var bodyTimeoutSeconds: Double
    /// Connections one client address may hold open at once; more are closed at once.
    public var maxConnectionsPerAddress: Int
    /// Agent runs one user may have queued or under way at once (each holds a workspace copy,
    /// sandboxes and model time); more are refused with 429 until one ends.
    public var maxRunsPerUser: Int
    /// Names a server bound to loopback answers besides the loopback ones (a reverse proxy's
    /// `Host`); any other name gets 421 (`LoopbackHostMiddleware`).
    public var allowedHosts: [String] = []

    public init(host: String = "127.0.0.1", port: Int = 8080, maxBodyBytes: Int = ServerOptions.defaultMaxBodyBytes,
                ratePerSecond: Double = 20, rateBurst: Double = 60, corsOrigins: [String] = [],
                approvalTimeoutSeconds: Double = 900, maxExecutionSeconds: Double? = nil, maxConcurrentExecutions: Int = 8,
                workspacesRoot: URL, ciPollSeconds: Double = 5, headTimeoutSeconds: Double = 10, bodyTimeoutSeconds: Double = 60,
                maxConnectionsPerAddress: Int = 32, maxRunsPerUser: Int = 4) {
        self.host = host
        self.port = port
        self.maxBodyBytes = maxBodyBytes
        self.ratePerSecond = ratePerSecond
        self.rateBurst = rateBurst
        self.corsOrigins = corsOrigins
        self.approvalTimeoutSeconds = approvalTimeoutSeconds
        self.maxExecutionSeconds = maxExecutionSeconds
        self.maxConcurrentExecutions = maxConcurrentExecutions
        self.workspacesRoot = workspacesRoot
        self.ciPollSeconds = ciPollSeconds
        self.headTimeoutSeconds = headTimeoutSeconds
        self.bodyTimeoutSeconds = bodyTimeoutSeconds
        self.maxConnectionsPerAddress = maxConnectionsPerAddress
        self.maxRunsPerUser = maxRunsPerUser
    }
}
