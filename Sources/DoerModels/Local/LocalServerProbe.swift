import AsyncHTTPClient
import DoerCore
import Foundation
import NIOCore
import NIOHTTP1

/// What llama-server says about itself: `/health` and `/slots`.
public enum LocalServerProbe {
    public enum Health: Sendable, Hashable {
        /// The model is loaded and requests are served.
        case ok
        /// Listening, still loading the model (HTTP 503).
        case loading
        /// Nothing answers, or not as llama-server would.
        case unreachable
    }

    /// One decoding slot of the server (`--parallel` of them).
    public struct Slot: Sendable, Hashable, Decodable {
        public var id: Int
        /// Context window of this slot, in tokens.
        public var contextSize: Int?
        public var isProcessing: Bool

        enum CodingKeys: String, CodingKey {
            case id
            case contextSize = "n_ctx"
            case isProcessing = "is_processing"
        }
    }

    public static func health(port: Int, timeoutSeconds: Double = 2) async -> Health {
        guard let (status, _) = try? await get("http://127.0.0.1:\(port)/health", timeoutSeconds: timeoutSeconds) else {
            return .unreachable
        }
        switch status {
        case 200: return .ok
        case 503: return .loading
        default: return .unreachable
        }
    }

    public static func slots(port: Int, timeoutSeconds: Double = 5) async throws -> [Slot] {
        let (status, body) = try await get("http://127.0.0.1:\(port)/slots", timeoutSeconds: timeoutSeconds)
        guard status == 200 else {
            throw ModelError.invalidResponse(provider: "local", detail: "llama-server answered /slots with HTTP \(status): \(String(decoding: body.prefix(200), as: UTF8.self))")
        }
        return try JSONDecoder().decode([Slot].self, from: body)
    }

    private static func get(_ url: String, timeoutSeconds: Double) async throws -> (Int, Data) {
        var attempt = 0
        while true {
            do {
                return try await getOnce(url, timeoutSeconds: timeoutSeconds)
            } catch where attempt < 2 && StaleConnection.matches(error) {
                attempt += 1
            }
        }
    }

    private static func getOnce(_ url: String, timeoutSeconds: Double) async throws -> (Int, Data) {
        var request = HTTPClientRequest(url: url)
        request.method = .GET
        let response = try await ModelTransport.client.execute(request, timeout: .milliseconds(Int64(timeoutSeconds * 1000)))
        let body = try await response.body.collect(upTo: 16 << 20)
        return (Int(response.status.code), Data(body.readableBytesView))
    }
}
