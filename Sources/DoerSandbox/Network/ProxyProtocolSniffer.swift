import DoerCore
import NIOCore
import NIOSOCKS

/// The first stage of every proxy connection: admits it against the run's connection
/// limits, waits (within the header timeout) for its first byte, and hands the connection
/// to the SOCKS5 stages when that byte is 5 (the SOCKS version) or to the HTTP stages
/// otherwise; then leaves the pipeline.
final class ProxyProtocolSniffer: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let connector: EgressConnector
    private let state: ProxyState
    private let admitted: Bool
    private var timer: Scheduled<Void>?
    private var decided = false

    static func install(on channel: any Channel, connector: EgressConnector, state: ProxyState) throws {
        let sniffer = ProxyProtocolSniffer(connector: connector, state: state, admitted: state.admitClient(channel))
        try channel.pipeline.syncOperations.addHandler(sniffer)
    }

    private init(connector: EgressConnector, state: ProxyState, admitted: Bool) {
        self.connector = connector
        self.state = state
        self.admitted = admitted
    }

    func channelActive(context: ChannelHandlerContext) {
        guard admitted else {
            let limits = connector.limits
            refuse(context: context, status: 503, reason: .connectionLimit,
                   detail: "the run reached its limit of \(limits.maxConcurrentConnections) open or \(limits.maxConnections) total proxy connections")
            return
        }
        let seconds = connector.limits.headerTimeoutSeconds
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(Int64(seconds * 1000))) {
            guard !self.decided else { return }
            self.refuse(context: context, status: 408, reason: .headerTimeout, detail: "no request within \(seconds) s")
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !decided else { return }
        let buffer = unwrapInboundIn(data)
        guard let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else { return }
        decided = true
        timer?.cancel()
        do {
            let stages: [any ChannelHandler] = first == 5
                ? [SOCKSServerHandshakeHandler(), SOCKSProxyHandler(connector: connector, state: state)]
                : HTTPProxyHandler.handlers(connector: connector, state: state)
            try context.pipeline.syncOperations.addHandlers(stages, position: .after(self))
        } catch {
            context.close(promise: nil)
            return
        }
        context.fireChannelRead(data)
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        if !decided && admitted {
            // Connected and left without a word: nothing to decide, but it counts.
            decided = true
            state.report(NetworkDecision(host: "", port: 0, method: "", verdict: .refused, reason: .malformedRequest,
                                         detail: "the client closed the connection without a request"))
        }
        context.fireChannelInactive()
    }

    private func refuse(context: ChannelHandlerContext, status: Int, reason: NetworkDecision.Reason, detail: String) {
        decided = true
        timer?.cancel()
        state.report(NetworkDecision(host: "", port: 0, method: "", verdict: .refused, reason: reason, detail: detail))
        let response = ProxyResponse.error(status: status, verdict: .refused, summary: "doer network policy: \(detail)",
                                           allocator: context.channel.allocator)
        context.writeAndFlush(wrapOutboundOut(response)).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }
}
