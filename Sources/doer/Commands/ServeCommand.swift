import ArgumentParser
import DoerConfig
import DoerCore
import DoerRuntime
import DoerSandbox
import DoerServer
import DoerStore
import Foundation
import Hummingbird
import Logging

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the web app and the HTTP API (sessions, events, approvals, executions).",
        discussion: """
            Every API call needs a token from `doer token create`. The server listens on loopback \
            unless --host says otherwise. Open http://HOST:PORT/ in a browser for the web app.
            """
    )

    @Option(help: "Address to listen on; anything but loopback exposes the API to the network.") var host = "127.0.0.1"
    @Option(help: "Port to listen on (0 picks a free one).") var port = 8080
    @Option(help: "Largest request body in bytes; larger ones get 413.") var maxBodyBytes = ServerOptions.defaultMaxBodyBytes
    @Option(help: "Requests per second allowed per token, sustained.") var rateLimit: Double = 20
    @Option(help: "Requests a token may send at once before the rate limit applies.") var rateBurst: Double = 60
    @Option(help: "Allow this browser origin by CORS (repeatable; '*' for any). Off by default.") var corsOrigin: [String] = []
    @Option(help: "Seconds an approval waits for an answer before it counts as a no.") var approvalTimeout: Double = 900
    @Option(help: "Longest run allowed for POST /v1/executions, in seconds (default: the configured [limits] timeout).")
    var maxExecutionSeconds: Double?
    @Option(help: "Executions running at once; more wait.") var maxConcurrentExecutions = 8
    @Option(help: "Model turns per candidate for session runs.") var maxIterations = 6
    @Option(help: ArgumentHelp("On loopback, also answer requests for this host name (a reverse proxy's Host); repeatable.", valueName: "name"))
    var allowedHost: [String] = []
    @Option(help: "Agent runs one user may have queued or under way at once; more are refused (429).") var maxRunsPerUser = 4
    @Option(help: "Seconds a client has to send a request's headers; slower connections are closed.") var headTimeout: Double = 10
    @Option(help: "Connections one client address may hold open at once; more are closed.") var maxConnectionsPerAddress = 32
    @Option(help: "Replay this JSON file of canned model replies instead of a real model (tests, demos); also DOER_SCRIPTED_MODEL.")
    var scriptedModel: String?

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0 to 65535") }
        guard maxBodyBytes >= 1024 else { throw ValidationError("--max-body-bytes must be at least 1024") }
        guard rateLimit > 0, rateBurst >= 1 else { throw ValidationError("--rate-limit must be positive and --rate-burst at least 1") }
        guard approvalTimeout > 0, maxExecutionSeconds ?? 1 > 0, headTimeout > 0, maxConcurrentExecutions > 0,
              maxConnectionsPerAddress > 0, maxRunsPerUser > 0 else {
            throw ValidationError("timeouts, --max-concurrent-executions, --max-connections-per-address and --max-runs-per-user must be positive")
        }
    }

    func run() async throws {
        let directories = DataDirectory()
        let server: DoerHTTPServer
        do {
            let runtime = try Runtime(options: RuntimeOptions(scriptedModel: RuntimeOptions.scriptedModel(scriptedModel)),
                                      directories: directories)
            var options = ServerOptions(
                host: host, port: port, maxBodyBytes: maxBodyBytes, ratePerSecond: rateLimit, rateBurst: rateBurst,
                corsOrigins: corsOrigin, approvalTimeoutSeconds: approvalTimeout, maxExecutionSeconds: maxExecutionSeconds,
                maxConcurrentExecutions: maxConcurrentExecutions,
                workspacesRoot: directories.data.appendingPathComponent("workspaces", isDirectory: true),
                headTimeoutSeconds: headTimeout, maxConnectionsPerAddress: maxConnectionsPerAddress, maxRunsPerUser: maxRunsPerUser)
            options.allowedHosts = allowedHost
            server = try DoerHTTPServer(options: options, runtime: runtime, maxIterations: maxIterations)
        } catch {
            fail(error)
        }
        if !["127.0.0.1", "::1", "localhost"].contains(host) {
            FileHandle.standardError.write(Data("doer: warning: listening on \(host), reachable from the network; only token holders can use it\n".utf8))
        }
        // Stops on SIGTERM or Ctrl-C after the last requests, then ends the sandbox's warm pool.
        let app = server.makeApplication(onServerRunning: { channel in
            let port = channel.localAddress?.port ?? 0
            FileHandle.standardOutput.write(Data("doer: serving http://\(host):\(port)/ (Ctrl-C to stop)\n".utf8))
        })
        try await app.runService()
    }
}
