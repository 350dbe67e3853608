import DoerTelemetry
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// `GET /metrics`: Prometheus' text format. Metrics tell how busy the server is and which
/// providers and languages it uses, so they are not public: with a metrics token
/// (`[telemetry] metrics_token_file` or `DOER_METRICS_TOKEN`) the scrape must bear it;
/// without one they are served only when the server listens on loopback alone. The API's
/// own tokens do not open them: a scraper needs no right to run code.
struct MetricsRoutes: Sendable {
    let metrics: DoerMetrics
    let hub: SessionHub
    let executions: ExecutionService
    let token: String?
    let listensOnLoopback: Bool

    func register(on router: Router<ServerRequestContext>) {
        router.get("/metrics") { request, _ in try await scrape(request) }
    }

    func scrape(_ request: Request) async throws -> Response {
        if let token {
            guard let presented = Self.bearer(request.headers[.authorization]), Self.same(presented, token) else {
                throw HTTPError(.unauthorized, headers: [.wwwAuthenticate: "Bearer realm=\"doer-metrics\""],
                                message: "the metrics token is required (Authorization: Bearer <token>)")
            }
        } else if !listensOnLoopback {
            throw HTTPError(.forbidden, message: "metrics are served without a token only on loopback; set [telemetry] "
                + "metrics_token_file or DOER_METRICS_TOKEN, or listen on 127.0.0.1")
        }
        metrics.serverState(sseClients: await hub.subscriberCount, sessionsRunning: await hub.runningCount,
                            queueDepth: await executions.slots.waiting)
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8", .cacheControl: "no-store"],
                        body: .init(byteBuffer: ByteBuffer(string: metrics.exposition())))
    }

    static func bearer(_ header: String?) -> String? {
        guard let header, header.count > 7, header.prefix(7).lowercased() == "bearer " else { return nil }
        return String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces)
    }

    /// Looks at every byte whatever matches, so the time taken says nothing about how much
    /// of the token was right.
    static func same(_ presented: String, _ expected: String) -> Bool {
        let a = Array(presented.utf8), b = Array(expected.utf8)
        var difference = UInt8(a.count == b.count ? 0 : 1)
        for index in 0..<max(a.count, b.count) {
            difference |= (index < a.count ? a[index] : 0) ^ (index < b.count ? b[index] : 0)
        }
        return difference == 0
    }

    /// Whether `host` (the address the server binds) reaches this machine only.
    static func isLoopback(_ host: String) -> Bool {
        let bare = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")).lowercased()
        if bare == "localhost" || bare == "::1" { return true }
        let parts = bare.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }
}
