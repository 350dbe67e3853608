import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// An HTTP server on loopback whose answers come from a closure; every request is recorded.
final class HTTPFixture: Sendable {
    struct Request: Sendable {
        var method: String
        var uri: String
        var headers: [(String, String)]
        var body: Data
        func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
    }

    struct Response: Sendable {
        var status: Int
        var body: Data
        var contentType = "application/json"

        init(status: Int, body: Data, contentType: String = "application/json") {
            self.status = status
            self.body = body
            self.contentType = contentType
        }

        init(status: Int, json: String) {
            self.init(status: status, body: Data(json.utf8))
        }
    }

    typealias Responder = @Sendable (Request) -> Response

    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private let channel: any Channel
    private let log = NIOLockedValueBox<[Request]>([])

    var port: Int { channel.localAddress!.port! }
    var baseURL: String { "http://127.0.0.1:\(port)" }
    var requests: [Request] { log.withLockedValue { $0 } }

    init(_ respond: @escaping Responder) throws {
        let log = self.log
        channel = try ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 16)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.pipeline.addHandler(Handler(log: log, respond: respond))
                }
            }
            .bind(host: "127.0.0.1", port: 0).wait()
    }

    deinit {
        try? channel.close().wait()
        try? group.syncShutdownGracefully()
    }

    private final class Handler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let log: NIOLockedValueBox<[Request]>
        let respond: Responder
        var head: HTTPRequestHead?
        var body = Data()

        init(log: NIOLockedValueBox<[Request]>, respond: @escaping Responder) {
            self.log = log
            self.respond = respond
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let h):
                head = h
                body = Data()
            case .body(let buffer):
                body.append(contentsOf: buffer.readableBytesView)
            case .end:
                guard let head else { return }
                let request = Request(method: head.method.rawValue, uri: head.uri,
                                      headers: head.headers.map { ($0.name, $0.value) }, body: body)
                log.withLockedValue { $0.append(request) }
                let response = respond(request)
                var headers = HTTPHeaders()
                headers.add(name: "Content-Type", value: response.contentType)
                headers.add(name: "Content-Length", value: String(response.body.count))
                context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: response.status), headers: headers))), promise: nil)
                context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: response.body)))), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            }
        }
    }
}
