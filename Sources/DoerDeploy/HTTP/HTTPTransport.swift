import AsyncHTTPClient
public import Foundation
import NIOCore
import NIOHTTP1

/// One JSON request and its whole answer, with errors mapped to `DeployError`.
public struct HTTPTransport: Sendable {
    public struct Response: Sendable {
        public var status: Int
        public var body: Data
        public var text: String { String(decoding: body, as: UTF8.self) }
    }

    /// One client for the process; requests share its connection pool.
    static let client = HTTPClient(
        eventLoopGroup: HTTPClient.defaultEventLoopGroup,
        configuration: HTTPClient.Configuration(timeout: .init(connect: .seconds(10))))

    public var timeoutSeconds: Int64

    public init(timeoutSeconds: Int64 = 30) {
        self.timeoutSeconds = timeoutSeconds
    }

    /// `what` names the request in errors ("creating the pull request").
    public func send(_ method: String, _ url: String, headers: [(String, String)] = [], body: Data? = nil,
                     what: String) async throws(DeployError) -> Response {
        var request = HTTPClientRequest(url: url)
        request.method = HTTPMethod(rawValue: method)
        request.headers.add(name: "User-Agent", value: "doer")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body {
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        do {
            let response = try await Self.client.execute(request, timeout: .seconds(timeoutSeconds))
            let buffer = try await response.body.collect(upTo: 16 << 20)
            return Response(status: Int(response.status.code), body: Data(buffer.readableBytesView))
        } catch {
            throw .unreachable(what: "\(what) (\(url))", reason: "\(error)")
        }
    }
}
