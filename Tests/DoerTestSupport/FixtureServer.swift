import Foundation
import NIOConcurrencyHelpers
public import NIOCore
public import NIOHTTP1
import NIOPosix

/// A scripted HTTP server on loopback: each request gets the next scripted reply (or the
/// one `respond` makes for it), sent in the given chunks (so server-sent events arrive split
/// anywhere), and is recorded. The one HTTP stand-in of the test targets.
public final class FixtureServer: Sendable {
    public struct Reply: Sendable {
        public var status: HTTPResponseStatus = .ok
        public var headers: [(String, String)] = [("Content-Type", "text/event-stream")]
        public var chunks: [[UInt8]]
        /// Pause between chunks.
        public var chunkDelay: TimeAmount = .zero
        /// Never finish the response (for idle-timeout and cancellation tests).
        public var hang = false

        public init(status: HTTPResponseStatus = .ok, headers: [(String, String)] = [("Content-Type", "text/event-stream")],
             chunks: [String], chunkDelay: TimeAmount = .zero, hang: Bool = false) {
            self.init(status: status, headers: headers, bytes: chunks.map { Array($0.utf8) }, chunkDelay: chunkDelay, hang: hang)
        }

        public init(status: HTTPResponseStatus = .ok, headers: [(String, String)] = [("Content-Type", "text/event-stream")],
             bytes: [[UInt8]], chunkDelay: TimeAmount = .zero, hang: Bool = false) {
            self.status = status
            self.headers = headers
            self.chunks = bytes
            self.chunkDelay = chunkDelay
            self.hang = hang
        }

        /// A whole body at once, as an API answers.
        public init(status: Int, body: Data, contentType: String = "application/json") {
            self.init(status: HTTPResponseStatus(statusCode: status), headers: [("Content-Type", contentType)],
                      bytes: body.isEmpty ? [] : [Array(body)])
        }

        public init(status: Int, json: String) {
            self.init(status: status, body: Data(json.utf8))
        }
    }

    public struct Recorded: Sendable {
        public var method: String
        public var uri: String
        public var headers: [(String, String)]
        /// The body's exact bytes (a signature is checked over these).
        public var data: Data
        public var body: String { String(decoding: data, as: UTF8.self) }
        public func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
    }

    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private let channel: any Channel
    private let state: NIOLockedValueBox<(replies: [Reply], recorded: [Recorded], open: Int)>
    public typealias Responder = @Sendable (Recorded) -> Reply

    public var port: Int { channel.localAddress!.port! }
    public var baseURL: String { "http://127.0.0.1:\(port)" }
    public var recorded: [Recorded] { state.withLockedValue { $0.recorded } }
    /// Connections currently open (a cancelled client must close its connection).
    public var openConnections: Int { state.withLockedValue { $0.open } }

    public convenience init(replies: [Reply]) throws {
        try self.init(replies: replies, respond: nil)
    }

    /// A server whose every answer is `respond`'s to the request.
    public convenience init(_ respond: @escaping Responder) throws {
        try self.init(replies: [], respond: respond)
    }

    private init(replies: [Reply], respond: Responder?) throws {
        let state = NIOLockedValueBox<(replies: [Reply], recorded: [Recorded], open: Int)>((replies, [], 0))
        self.state = state
        channel = try ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 16)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.pipeline.addHandler(Handler(state: state, respond: respond))
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
        let state: NIOLockedValueBox<(replies: [Reply], recorded: [Recorded], open: Int)>
        let respond: Responder?
        var head: HTTPRequestHead?
        var body = Data()

        init(state: NIOLockedValueBox<(replies: [Reply], recorded: [Recorded], open: Int)>, respond: Responder?) {
            self.state = state
            self.respond = respond
        }

        func channelActive(context: ChannelHandlerContext) {
            state.withLockedValue { $0.open += 1 }
            context.fireChannelActive()
        }

        func channelInactive(context: ChannelHandlerContext) {
            state.withLockedValue { $0.open -= 1 }
            context.fireChannelInactive()
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
                let request = Recorded(method: head.method.rawValue, uri: head.uri,
                                       headers: head.headers.map { ($0.name, $0.value) }, data: body)
                let respond = respond
                let reply: Reply = state.withLockedValue { s in
                    s.recorded.append(request)
                    if let respond { return respond(request) }
                    return s.replies.isEmpty ? Reply(status: .internalServerError, chunks: ["no reply scripted"]) : s.replies.removeFirst()
                }
                send(reply, context: context)
            }
        }

        private func send(_ reply: Reply, context: ChannelHandlerContext) {
            var headers = HTTPHeaders(reply.headers)
            // 204 and 304 carry no body, so no framing either (a chunked terminator would be
            // read as the start of the next response).
            if reply.status != .noContent && reply.status != .notModified {
                headers.add(name: "Transfer-Encoding", value: "chunked")
            }
            context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: reply.status, headers: headers))), promise: nil)
            let loop = context.eventLoop
            var delay = TimeAmount.zero
            for chunk in reply.chunks {
                delay = delay + reply.chunkDelay
                let bound = NIOLoopBound(context, eventLoop: loop)
                let handler = NIOLoopBound(self, eventLoop: loop)
                loop.scheduleTask(in: delay) {
                    let buffer = bound.value.channel.allocator.buffer(bytes: chunk)
                    bound.value.writeAndFlush(handler.value.wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
                }
            }
            guard !reply.hang else { return }
            let bound = NIOLoopBound(context, eventLoop: loop)
            let handler = NIOLoopBound(self, eventLoop: loop)
            loop.scheduleTask(in: delay + .milliseconds(1)) {
                bound.value.writeAndFlush(handler.value.wrapOutboundOut(.end(nil)), promise: nil)
            }
        }
    }
}

/// Splits text into pieces of `size` bytes, so events (and UTF-8 sequences) cross chunk borders.
public func pieces(_ text: String, size: Int) -> [[UInt8]] {
    let bytes = Array(text.utf8)
    return stride(from: 0, to: bytes.count, by: size).map { Array(bytes[$0..<min($0 + size, bytes.count)]) }
}

extension FixtureServer.Reply {
    /// A streamed OpenAI-compatible chat completion that says `text`, in small chunks.
    public static func openAIChat(_ text: String) -> FixtureServer.Reply {
        func event(_ object: [String: Any]) -> String {
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
            return "data: " + String(decoding: data, as: UTF8.self) + "\n\n"
        }
        var events: [String] = []
        var rest = Substring(text)
        while !rest.isEmpty {
            let piece = rest.prefix(24)
            rest = rest.dropFirst(piece.count)
            events.append(event(["id": "c1", "object": "chat.completion.chunk",
                                 "choices": [["index": 0, "delta": ["content": String(piece)]]]]))
        }
        events.append(event(["id": "c1", "object": "chat.completion.chunk",
                             "choices": [["index": 0, "delta": [String: String](), "finish_reason": "stop"]],
                             "usage": ["prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15]]))
        events.append("data: [DONE]\n\n")
        return FixtureServer.Reply(chunks: events)
    }
}
