import DoerCore
import Foundation
import NIOCore

/// What is known about one proxied connection, for its decision. Touched only on the
/// event loop its two channels share.
final class ConnectionRecord: @unchecked Sendable {
    var host = ""
    var port = 0
    var method = ""
    var reason: NetworkDecision.Reason = .hostAllowed
    var verdict: NetworkDecision.Verdict = .allowed
    var detail = ""
    var address: String?
    var bytesSent: Int64 = 0
    var bytesReceived: Int64 = 0
    var reported = false

    /// Reports this connection once: refusals when they happen, relays when they end.
    func report(to state: ProxyState) {
        guard !reported else { return }
        reported = true
        state.report(NetworkDecision(host: host, port: port, method: method, verdict: verdict, reason: reason,
                                     detail: detail, address: address, bytesSent: bytesSent, bytesReceived: bytesReceived))
    }

    func cutOff(_ reason: NetworkDecision.Reason, _ detail: String) {
        guard verdict == .allowed else { return }
        verdict = .refused
        self.reason = reason
        self.detail = detail
    }
}

/// Copies bytes read on one channel to the other, counting them against the run's byte
/// budget, and stops reading while the other side cannot keep up.
final class RelayHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    private let target: any Channel
    private let record: ConnectionRecord
    private let state: ProxyState
    /// From the sandbox to the destination.
    private let upward: Bool
    private var lastWrite: EventLoopFuture<Void>?

    init(target: any Channel, record: ConnectionRecord, state: ProxyState, upward: Bool) {
        self.target = target
        self.record = record
        self.state = state
        self.upward = upward
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        let count = buffer.readableBytes
        if upward { record.bytesSent += Int64(count) } else { record.bytesReceived += Int64(count) }
        guard state.addBytes(count) else {
            record.cutOff(.byteLimit, "the run's network byte limit (\(state.limits.maxBytes) bytes) was reached")
            context.close(promise: nil)
            target.close(promise: nil)
            return
        }
        let write = target.writeAndFlush(buffer)
        lastWrite = write
        if !target.isWritable {
            let channel = context.channel
            channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
            write.whenComplete { _ in channel.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in } }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        // What was read before the close still reaches the other side, then it closes too.
        let target = self.target
        (lastWrite ?? context.eventLoop.makeSucceededVoidFuture()).whenComplete { _ in target.close(promise: nil) }
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            record.cutOff(.idleTimeout, "no traffic for \(Int(state.limits.idleTimeoutSeconds)) s")
            context.close(promise: nil)
            target.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    /// Joins a client to the destination the proxy connected to: the destination's bytes
    /// go back to the client, and a client idle too long is cut off. With `tunnelAfter`,
    /// the client's raw bytes go up too, from just after that handler (CONNECT and SOCKS);
    /// without it the proxy handler forwards requests itself (plain HTTP).
    static func join(client: ChannelHandlerContext, upstream: any Channel, record: ConnectionRecord, state: ProxyState,
                     tunnelAfter handler: (any ChannelHandler)?) throws {
        let idle = TimeAmount.milliseconds(Int64(state.limits.idleTimeoutSeconds * 1000))
        try upstream.pipeline.syncOperations.addHandler(RelayHandler(target: client.channel, record: record, state: state, upward: false))
        try client.pipeline.syncOperations.addHandler(IdleStateHandler(allTimeout: idle), position: .first)
        if let handler {
            try client.pipeline.syncOperations.addHandler(RelayHandler(target: upstream, record: record, state: state, upward: true),
                                                          position: .after(handler))
        } else {
            try upstream.pipeline.syncOperations.addHandler(IdleStateHandler(allTimeout: idle), position: .first)
        }
    }
}

/// Counts the bytes of a request head and refuses one that grows past the limit; removed
/// once the head is complete.
final class HeaderSizeGuard: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    struct TooLarge: Error {}

    private let limit: Int
    private var seen = 0
    private var tripped = false
    /// Set by the proxy handler when the decoder delivered the head; what follows in the
    /// same read is a body or tunnel data, not head.
    var headComplete = false

    init(limit: Int) { self.limit = limit }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !tripped else { return }
        seen += unwrapInboundIn(data).readableBytes
        context.fireChannelRead(data)
        if !headComplete && seen > limit {
            tripped = true
            context.fireErrorCaught(TooLarge())
        }
    }
}
