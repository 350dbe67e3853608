import DoerAgent
import DoerConfig
import DoerDeploy
import DoerCore
import DoerLanguages
import DoerModels
import DoerRuntime
import DoerSandbox
import DoerServer
import DoerStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore

/// A server on a temporary DOER_HOME with a scripted model and the real sandbox, driven
/// in-process through HummingbirdTesting.
final class ServerHarness: @unchecked Sendable {
    let home: URL
    let directories: DataDirectory
    let server: DoerHTTPServer
    let model: ReplayModelProvider
    let runtime: Runtime

    init(replies: [String] = [Replies.passing], maxBodyBytes: Int = 64 * 1024, rate: Double = 1000, burst: Double = 1000,
         approvalTimeout: Double = 60, corsOrigins: [String] = [], deploy: DeploySettings = DeploySettings(),
         deployEnvironment: [String: String] = [:], limits: ResourceLimits = ResourceLimits(), warmPool: Int = 0,
         telemetry: TelemetrySettings = TelemetrySettings(),
         configure: (inout ServerOptions) -> Void = { _ in }) throws {
        home = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("doer-server-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        chmod(home.path, 0o755)
        directories = DataDirectory(environment: ["DOER_HOME": home.path])
        model = ReplayModelProvider(replies: replies)
        var configuration = DoerConfiguration()
        configuration.limits = limits
        configuration.deploy = deploy
        configuration.stagingDirectory = home.appendingPathComponent("sandbox-staging", isDirectory: true).path
        configuration.warmPoolSize = warmPool
        configuration.telemetry = telemetry
        let sandboxConfiguration = configuration.sandboxConfiguration()
        let sandbox = try SandboxFactory(configuration: sandboxConfiguration).make()
        runtime = try Runtime(configuration: configuration, sandboxConfiguration: sandboxConfiguration, sandbox: sandbox,
                              model: model, directories: directories, scripted: true)
        var options = ServerOptions(maxBodyBytes: maxBodyBytes, ratePerSecond: rate, rateBurst: burst,
                                    corsOrigins: corsOrigins, approvalTimeoutSeconds: approvalTimeout, maxExecutionSeconds: 20,
                                    workspacesRoot: directories.data.appendingPathComponent("workspaces", isDirectory: true),
                                    ciPollSeconds: 0.05)
        configure(&options)
        server = try DoerHTTPServer(options: options, runtime: runtime, maxIterations: 3, deployEnvironment: deployEnvironment)
    }

    deinit { try? FileManager.default.removeItem(at: home) }

    func token(_ user: String) throws -> String { try server.access.createToken(user: user).token }

    func test<Value>(_ body: @Sendable (any TestClientProtocol) async throws -> Value) async throws -> Value {
        let app = Application(router: server.makeRouter())
        return try await app.test(.router, body)
    }

    /// Waits (bounded) until `condition` holds.
    func eventually(_ what: String, _ condition: () async throws -> Bool) async throws {
        for _ in 0..<600 {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw DoerError.invalidArgument("timed out waiting until \(what)")
    }
}

extension TestClientProtocol {
    func call(_ method: HTTPRequest.Method, _ uri: String, token: String?, json: String? = nil,
              headers extra: HTTPFields = [:]) async throws -> TestResponse {
        var headers = extra
        if let token { headers[.authorization] = "Bearer \(token)" }
        if json != nil { headers[.contentType] = "application/json" }
        return try await execute(uri: uri, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) })
    }
}

extension TestResponse {
    var text: String { String(buffer: body) }
    var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]) ?? [:] }
    var errorMessage: String { ((json["error"] as? [String: Any])?["message"] as? String) ?? "" }
}

/// Parsed server-sent events: (id, type, data).
func parseSSE(_ text: String) -> [(id: Int, type: String, data: String)] {
    text.components(separatedBy: "\n\n").compactMap { frame in
        var id: Int?, type = "message", data: String?
        for line in frame.split(separator: "\n") {
            if line.hasPrefix("id: ") { id = Int(line.dropFirst(4)) }
            if line.hasPrefix("event: ") { type = String(line.dropFirst(7)) }
            if line.hasPrefix("data: ") { data = String(line.dropFirst(6)) }
        }
        guard let id, let data else { return nil }
        return (id, type, data)
    }
}

enum Replies {
    static func files(_ files: [String: String], prose: String = "Here is the code.") -> String {
        prose + "\n\n" + files.sorted { $0.key < $1.key }.map { "```file \($0.key)\n\($0.value)```\n" }.joined(separator: "\n")
    }

    static let test = "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"
    static let right = "def add(a, b):\n    return a + b\n"
    static let passing = files(["calc.py": right, "test_calc.py": test])

    static func jsonString(_ value: String) -> String {
        String(decoding: try! JSONEncoder().encode(value), as: UTF8.self)
    }
}
