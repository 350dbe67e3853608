import DoerConfig
import DoerCore
import DoerModels
import DoerServer
import DoerTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@Suite("doer serve: Prometheus metrics and OTLP traces of a scripted-model session")
struct ServerTelemetryTests {
    static let task = #"{"message": "Write add(a, b) in calc.py with tests"}"#

    /// Runs one session to its end, approving the change it asks to apply; returns its id.
    static func runSession(_ harness: ServerHarness, _ client: any TestClientProtocol, token: String) async throws -> String {
        let id = try #require(try await client.call(.post, "/v1/sessions", token: token, json: task).json["id"] as? String)
        try await harness.eventually("an approval is pending") { await !harness.server.hub.pendingApprovals(id).isEmpty }
        let approval = try #require(await harness.server.hub.pendingApprovals(id).first)
        #expect(try await client.call(.post, "/v1/sessions/\(id)/approvals/\(approval.id)", token: token,
                                      json: #"{"approve": true}"#).status == .ok)
        await harness.server.hub.waitUntilIdle(id)
        return id
    }

    /// The value of the series `name{labels}` in a scrape (labels in any order), nil when absent.
    static func value(_ scrape: String, _ name: String, _ labels: [String: String] = [:]) -> Double? {
        for line in scrape.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " ") else { continue }
            let series = line[..<space], number = Double(line[line.index(after: space)...])
            let seriesName = series.split(separator: "{", maxSplits: 1).first.map(String.init) ?? ""
            guard seriesName == name else { continue }
            let present = Set(series.drop { $0 != "{" }.dropFirst().dropLast().split(separator: ",").map(String.init))
            if labels.allSatisfy({ present.contains("\($0.key)=\"\($0.value)\"") }) { return number }
        }
        return nil
    }

    @Test("a scrape after a session: runs, outcome, iterations, tokens, time to first token, approvals, sandbox set-up moved")
    func scrapeAfterSession() async throws {
        let harness = try ServerHarness()
        let ada = try harness.token("ada")
        try await harness.test { client in
            let before = try await client.call(.get, "/metrics", token: nil)
            #expect(before.status == .ok)
            #expect(before.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
            #expect(Self.value(before.text, "doer_sessions_started_total") == nil)

            _ = try await Self.runSession(harness, client, token: ada)
            let scrape = try await client.call(.get, "/metrics", token: nil).text
            let provider = harness.model.name
            #expect(Self.value(scrape, "doer_sessions_started_total") == 1, "\(scrape)")
            #expect(Self.value(scrape, "doer_sessions_total", ["outcome": "passed"]) == 1)
            #expect(Self.value(scrape, "doer_session_iterations_count") == 1)
            #expect(Self.value(scrape, "doer_session_duration_seconds_count", ["outcome": "passed"]) == 1)
            // The candidate's tests ran in the sandbox, labelled with their backend and language.
            let runs = Self.value(scrape, "doer_run_duration_seconds_count", ["backend": "bubblewrap", "language": "python"]) ?? 0
            #expect(runs >= 1, "\(scrape)")
            #expect((Self.value(scrape, "doer_test_runs_total", ["language": "python", "result": "passed"]) ?? 0) >= 1)
            #expect((Self.value(scrape, "doer_sandbox_setup_seconds_count", ["backend": "bubblewrap"]) ?? 0) >= runs)
            #expect((Self.value(scrape, "doer_model_calls_total", ["provider": provider]) ?? 0) >= 1)
            #expect((Self.value(scrape, "doer_model_tokens_total", ["provider": provider, "kind": "prompt"]) ?? 0) >= 100)
            #expect((Self.value(scrape, "doer_model_tokens_total", ["provider": provider, "kind": "completion"]) ?? 0) >= 1)
            #expect((Self.value(scrape, "doer_model_time_to_first_token_seconds_count", ["provider": provider]) ?? 0) >= 1)
            #expect(Self.value(scrape, "doer_approvals_total", ["answer": "approved"]) == 1)
            #expect(Self.value(scrape, "doer_sessions_running") == 0)
            #expect(Self.value(scrape, "doer_queue_depth") == 0)
            #expect(Self.value(scrape, "doer_sse_clients") == 0)

            // A second session adds to the same counters.
            _ = try await Self.runSession(harness, client, token: ada)
            let again = try await client.call(.get, "/metrics", token: nil).text
            #expect(Self.value(again, "doer_sessions_total", ["outcome": "passed"]) == 2)
            #expect(Self.value(again, "doer_approvals_total", ["answer": "approved"]) == 2)
            #expect((Self.value(again, "doer_run_duration_seconds_count", ["backend": "bubblewrap", "language": "python"]) ?? 0) > runs)
        }
    }

    @Test("with a metrics token: no token, a wrong one, a prefix, an API token and other schemes are refused")
    func tokenGuardsMetrics() async throws {
        let secret = "metrics-\(UUID().uuidString)"
        let harness = try ServerHarness(deployEnvironment: ["DOER_METRICS_TOKEN": secret])
        let apiToken = try harness.token("ada")
        try await harness.test { client in
            let refused: [HTTPFields] = [
                [:],
                [.authorization: "Bearer wrong"],
                [.authorization: "Bearer \(secret.dropLast())"],
                [.authorization: "Bearer \(secret)x"],
                [.authorization: "Bearer \(apiToken)"],
                [.authorization: "Basic \(Data("x:\(secret)".utf8).base64EncodedString())"],
                [.authorization: secret],
                [.authorization: "Bearer"],
            ]
            for headers in refused {
                let response = try await client.call(.get, "/metrics", token: nil, headers: headers)
                #expect(response.status == .unauthorized, "\(headers)")
                #expect(!response.text.contains("doer_"), "\(headers)")
            }
            let allowed = try await client.call(.get, "/metrics", token: nil, headers: [.authorization: "Bearer \(secret)"])
            #expect(allowed.status == .ok)
            let lowercase = try await client.call(.get, "/metrics", token: nil, headers: [.authorization: "bearer \(secret)"])
            #expect(lowercase.status == .ok)
        }
    }

    @Test("without a token, metrics are refused when the server listens beyond loopback",
          arguments: ["0.0.0.0", "::", "10.1.2.3", "127.0.0.1.example.org", "::ffff:127.0.0.1", "example.org"])
    func noTokenBeyondLoopback(host: String) async throws {
        let harness = try ServerHarness { $0.host = host }
        try await harness.test { client in
            let response = try await client.call(.get, "/metrics", token: nil)
            #expect(response.status == .forbidden)
            #expect(response.errorMessage.contains("DOER_METRICS_TOKEN"))
            let apiToken = try harness.token("ada")
            let api = try await client.call(.get, "/metrics", token: apiToken)
            #expect(api.status == .forbidden)
        }
    }

    @Test("loopback addresses serve metrics without a token", arguments: ["127.0.0.1", "127.0.0.53", "localhost", "::1", "[::1]"])
    func loopbackServes(host: String) async throws {
        let harness = try ServerHarness { $0.host = host }
        try await harness.test { client in
            let status = try await client.call(.get, "/metrics", token: nil).status
            #expect(status == .ok)
        }
    }

    @Test("traces: a session, its model calls, sandboxed runs and test runs reach an OTLP receiver with the session id")
    func tracesReachCollector() async throws {
        let receiver = try FixtureServer(replies: Array(repeating: FixtureServer.Reply(
            headers: [("Content-Type", "application/json")], chunks: ["{}"]), count: 50))
        var settings = TelemetrySettings()
        settings.otlpEndpoint = URL(string: receiver.baseURL)
        settings.otlpProtocol = "http/json"
        let harness = try ServerHarness(telemetry: settings)
        let ada = try harness.token("ada")
        let id = try await LiveServer.run(harness) { _ in
            try await harness.test { client in try await Self.runSession(harness, client, token: ada) }
        }
        // The server's graceful shutdown flushes the spans still batched.
        let posts = receiver.recorded.filter { $0.method == "POST" }
        #expect(posts.allSatisfy { $0.uri == "/v1/traces" && $0.header("Content-Type") == "application/json" })
        let spans = posts.flatMap { Self.spans(in: $0.body) }
        let bodies = posts.map { (post: FixtureServer.Recorded) in post.body }
        let session = try #require(spans.first { $0.name == "session" }, "\(bodies)")
        #expect(session.attributes["doer.session.id"] == id)
        #expect(session.attributes["doer.outcome"] == "passed")
        #expect(session.parentSpanID.isEmpty)
        for name in ["model.call", "sandbox.run", "test.run"] {
            let children = spans.filter { $0.name == name }
            #expect(!children.isEmpty, "no \(name) span")
            for child in children {
                #expect(child.attributes["doer.session.id"] == id, "\(name)")
                #expect(child.traceID == session.traceID, "\(name)")
                #expect(child.parentSpanID == session.spanID, "\(name)")
            }
        }
        // Arguments are not exported: only the program's name.
        #expect(spans.filter { $0.name == "sandbox.run" }.allSatisfy { ($0.attributes["process.executable.name"] ?? "").contains(" ") == false })
    }

    struct ReceivedSpan {
        var name: String
        var traceID: String
        var spanID: String
        var parentSpanID: String
        var attributes: [String: String]
    }

    /// Decodes OTLP/JSON (ExportTraceServiceRequest) the way a collector reads it.
    static func spans(in body: String) -> [ReceivedSpan] {
        guard let root = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any] else { return [] }
        var found: [ReceivedSpan] = []
        for resource in root["resourceSpans"] as? [[String: Any]] ?? [] {
            for scope in resource["scopeSpans"] as? [[String: Any]] ?? [] {
                for span in scope["spans"] as? [[String: Any]] ?? [] {
                    var attributes: [String: String] = [:]
                    for attribute in span["attributes"] as? [[String: Any]] ?? [] {
                        guard let key = attribute["key"] as? String, let value = attribute["value"] as? [String: Any] else { continue }
                        if let text = value["stringValue"] as? String {
                            attributes[key] = text
                        } else if let other = value["intValue"] ?? value["boolValue"] ?? value["doubleValue"] {
                            attributes[key] = "\(other)"
                        }
                    }
                    found.append(ReceivedSpan(name: span["name"] as? String ?? "", traceID: span["traceId"] as? String ?? "",
                                              spanID: span["spanId"] as? String ?? "",
                                              parentSpanID: span["parentSpanId"] as? String ?? "", attributes: attributes))
                }
            }
        }
        return found
    }
}
