public import Foundation
import DoerCore
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// doer-sandbox-runner's HTTP server, in the sandbox pod: `GET /healthz` for the pod's
/// readiness probe, and one `POST /run` (a `RunnerRequest` as JSON), answered with a
/// `RunnerResponse` when the command has ended. A second run is refused: a pod serves one.
///
/// ```swift
/// let server = try await RunnerServer.start(host: "0.0.0.0", port: 8787,
///                                           workspace: URL(fileURLWithPath: "/workspace"))
/// await server.served()   // the run's answer has been sent
/// ```
public final class RunnerServer: Sendable {
    private let channel: any Channel
    private let state: RunnerState

    public var port: Int { channel.localAddress?.port ?? 0 }

    private init(channel: any Channel, state: RunnerState) {
        self.channel = channel
        self.state = state
    }

    public static func start(host: String, port: Int, workspace: URL,
                             stagingRoot: URL = URL(fileURLWithPath: "/tmp/doer-runner", isDirectory: true),
                             initHelperPath: String? = nil, runAs: (uid: UInt32, gid: UInt32) = (65534, 65534)) async throws -> RunnerServer {
        let runner = SandboxRunner(workspace: workspace, stagingRoot: stagingRoot, initHelperPath: initHelperPath, runAs: runAs)
        let state = RunnerState()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.pipeline.addHandler(RunnerHandler(runner: runner, state: state))
                }
            }
            .bind(host: host, port: port).get()
        return RunnerServer(channel: channel, state: state)
    }

    /// Returns once a run's answer has been written (or the server was closed).
    public func served() async {
        await state.served()
    }

    public func close() async {
        try? await channel.close()
        state.finish()
    }
}

/// Whether the one run was taken, and who waits for its answer to be sent.
final class RunnerState: Sendable {
    private let inner = NIOLockedValueBox<(taken: Bool, done: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, false, []))

    func take() -> Bool {
        inner.withLockedValue { state in
            if state.taken { return false }
            state.taken = true
            return true
        }
    }

    func finish() {
        let waiters = inner.withLockedValue { state in
            state.done = true
            defer { state.waiters = [] }
            return state.waiters
        }
        waiters.forEach { $0.resume() }
    }

    func served() async {
        await withCheckedContinuation { continuation in
            let ready = inner.withLockedValue { state in
                if state.done { return true }
                state.waiters.append(continuation)
                return false
            }
            if ready { continuation.resume() }
        }
    }
}

private final class RunnerHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// The workspace, base64 in JSON, and the request around it.
    static let maxBodyBytes = Int(SandboxRunner.transferLimitBytes) * 4 / 3 + (16 << 20)

    let runner: SandboxRunner
    let state: RunnerState
    var head: HTTPRequestHead?
    var body: ByteBuffer?
    var tooLarge = false

    init(runner: SandboxRunner, state: RunnerState) {
        self.runner = runner
        self.state = state
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h
            body = context.channel.allocator.buffer(capacity: 0)
            tooLarge = false
        case .body(var chunk):
            if (body?.readableBytes ?? 0) + chunk.readableBytes > Self.maxBodyBytes { tooLarge = true }
            if !tooLarge { body?.writeBuffer(&chunk) }
        case .end:
            guard let head else { return }
            self.head = nil
            route(head, body: body.map { Data($0.readableBytesView) } ?? Data(), context: context)
        }
    }

    private func route(_ head: HTTPRequestHead, body: Data, context: ChannelHandlerContext) {
        let path = head.uri.split(separator: "?").first.map(String.init) ?? head.uri
        switch (head.method, path) {
        case (.GET, "/healthz"):
            respond(.ok, Data(#"{"status":"ok"}"#.utf8), context: context)
        case (.POST, "/run"):
            guard !tooLarge else { return respond(.payloadTooLarge, message: "the request is larger than a run may send", context: context) }
            let request: RunnerRequest
            do {
                request = try JSONDecoder().decode(RunnerRequest.self, from: body)
            } catch {
                return respond(.badRequest, message: "not a run request: \(error)", context: context)
            }
            guard state.take() else { return respond(.conflict, message: "this sandbox has already run its command", context: context) }
            let loop = context.eventLoop
            let bound = NIOLoopBound((self, context), eventLoop: loop)
            let runner = runner, state = state
            Task {
                let answer: (HTTPResponseStatus, Data)
                do {
                    let response = try await runner.run(request)
                    answer = (.ok, try JSONEncoder().encode(response))
                } catch let error as DoerError {
                    answer = (.unprocessableEntity, Self.errorBody(error.description))
                } catch {
                    answer = (.internalServerError, Self.errorBody("\(error)"))
                }
                loop.execute {
                    let (handler, context) = bound.value
                    handler.respond(answer.0, answer.1, context: context) { state.finish() }
                }
            }
        default:
            respond(.notFound, message: "no such route: \(head.method) \(path)", context: context)
        }
    }

    static func errorBody(_ message: String) -> Data {
        (try? JSONSerialization.data(withJSONObject: ["error": message])) ?? Data()
    }

    private func respond(_ status: HTTPResponseStatus, message: String, context: ChannelHandlerContext) {
        respond(status, Self.errorBody(message), context: context)
    }

    private func respond(_ status: HTTPResponseStatus, _ data: Data, context: ChannelHandlerContext, sent: (@Sendable () -> Void)? = nil) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Content-Length", value: String(data.count))
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: data)))), promise: nil)
        let promise = context.eventLoop.makePromise(of: Void.self)
        promise.futureResult.whenComplete { _ in sent?() }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: promise)
    }
}
