import DoerCore
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// An HTTP proxy client: reads the request head (within the header timeout and size
/// limit), decides, resolves, connects to a vetted address, then relays — a raw tunnel for
/// CONNECT, the request re-encoded in origin form for a plain absolute-URI request.
final class HTTPProxyHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = ByteBuffer

    private enum Phase {
        case awaitingHead
        case connecting
        /// CONNECT: raw bytes both ways (the relay handlers do the work).
        case tunnel
        /// Plain HTTP: request parts go up re-encoded, the response comes back raw.
        case forwarding
        case requestSent
        case closed
    }

    private let connector: EgressConnector
    private var limits: ProxyLimits { connector.limits }
    private let state: ProxyState
    private let sizeGuard: HeaderSizeGuard
    private let decoder: ByteToMessageHandler<HTTPRequestDecoder>
    private let record = ConnectionRecord()
    private var phase = Phase.awaitingHead
    private var headerTimer: Scheduled<Void>?
    private var isConnect = false
    private var forwardedHead: HTTPRequestHead?
    private var pendingParts: [HTTPServerRequestPart] = []
    private var pendingBytes: [NIOAny] = []
    private var decoderRemoved = false
    private var upstream: (any Channel)?
    private var lastUpstreamWrite: EventLoopFuture<Void>?

    /// The HTTP stages, for a connection whose first byte looked like HTTP.
    static func handlers(connector: EgressConnector, state: ProxyState) -> [any ChannelHandler] {
        let sizeGuard = HeaderSizeGuard(limit: connector.limits.maxHeaderBytes)
        let decoder = ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .forwardBytes))
        return [sizeGuard, decoder, HTTPProxyHandler(connector: connector, state: state, sizeGuard: sizeGuard, decoder: decoder)]
    }

    private init(connector: EgressConnector, state: ProxyState, sizeGuard: HeaderSizeGuard,
                 decoder: ByteToMessageHandler<HTTPRequestDecoder>) {
        self.connector = connector
        self.state = state
        self.sizeGuard = sizeGuard
        self.decoder = decoder
    }

    // MARK: events

    /// Added once the first bytes arrived (the sniffer admitted the connection); the
    /// header clock starts again here and covers the whole head.
    func handlerAdded(context: ChannelHandlerContext) {
        headerTimer = context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(Int64(limits.headerTimeoutSeconds * 1000))) {
            guard case .awaitingHead = self.phase else { return }
            self.refuse(context: context, status: 408, reason: .headerTimeout,
                        detail: "no complete request head within \(self.limits.headerTimeoutSeconds) s")
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch phase {
        case .awaitingHead:
            let part = unwrapInboundIn(data)
            guard case .head(let head) = part else {
                refuse(context: context, status: 400, reason: .malformedRequest, detail: "the request has no head")
                return
            }
            sizeGuard.headComplete = true
            headerTimer?.cancel()
            begin(context: context, head: head)
        case .connecting:
            if decoderRemoved {
                pendingBytes.append(data)
                return
            }
            let part = unwrapInboundIn(data)
            if isConnect {
                if case .end = part { removeDecoder(context: context) }
            } else {
                pendingParts.append(part)
            }
        case .tunnel:
            // After the decoder is gone these are raw bytes for the relay behind us.
            context.fireChannelRead(data)
        case .forwarding:
            forward(unwrapInboundIn(data), context: context)
        case .requestSent, .closed:
            // One request per connection: the destination was told to close after it.
            break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        headerTimer?.cancel()
        if case .forwarding = phase, let upstream { closeAfterLastWrite(upstream, context: context) }
        if case .requestSent = phase, let upstream { closeAfterLastWrite(upstream, context: context) }
        if case .connecting = phase {
            record.cutOff(.unreachable, "the client went away while connecting")
        }
        phase = .closed
        // Relayed connections report when both sides are done.
        if let upstream {
            let record = self.record, state = self.state
            upstream.closeFuture.whenComplete { _ in record.report(to: state) }
        } else {
            record.report(to: state)
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        switch phase {
        case .awaitingHead:
            if error is HeaderSizeGuard.TooLarge {
                refuse(context: context, status: 431, reason: .malformedRequest,
                       detail: "the request head is larger than \(limits.maxHeaderBytes) bytes")
            } else {
                refuse(context: context, status: 400, reason: .malformedRequest, detail: "malformed request: \(error)")
            }
        default:
            context.close(promise: nil)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent, upstream != nil, !isConnect {
            // Plain HTTP has no relay handler on this side; the tunnel's relay handles its own.
            record.cutOff(.idleTimeout, "no traffic for \(Int(limits.idleTimeoutSeconds)) s")
            context.close(promise: nil)
            upstream?.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    // MARK: deciding

    private func begin(context: ChannelHandlerContext, head: HTTPRequestHead) {
        record.method = head.method.rawValue
        let target: ProxyTarget
        switch ProxyTarget.parse(head) {
        case .success(let parsed): target = parsed
        case .failure(let problem):
            refuse(context: context, status: problem.status, reason: problem.reason, detail: problem.detail)
            return
        }
        record.host = target.host
        record.port = target.port
        isConnect = head.method == .CONNECT
        switch connector.decide(target) {
        case .failure(let refusal):
            refuse(context: context, status: refusal.httpStatus, reason: refusal.reason, detail: refusal.detail)
            return
        case .success(let reason):
            record.reason = reason
        }
        if !isConnect { forwardedHead = target.originHead(from: head) }
        phase = .connecting
        context.channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
        connector.open(target, httpEncoder: !isConnect, on: context.eventLoop)
            .hop(to: context.eventLoop).assumeIsolated().whenComplete { result in
                switch result {
                case .failure(let error):
                    guard case .connecting = self.phase else { return }
                    let refusal = EgressConnector.Refusal(error)
                    self.record.verdict = refusal.verdict
                    self.record.reason = refusal.reason
                    self.record.detail = refusal.detail
                    self.respondAndClose(context: context, status: refusal.httpStatus)
                case .success(let (channel, address)):
                    guard case .connecting = self.phase, context.channel.isActive else {
                        channel.close(promise: nil)
                        return
                    }
                    self.relay(context: context, upstream: channel, address: address)
                }
            }
    }

    // MARK: relaying

    private func relay(context: ChannelHandlerContext, upstream: any Channel, address: IPAddress) {
        self.upstream = upstream
        state.track(upstream)
        record.address = address.description
        let client = context.channel
        do {
            try RelayHandler.join(client: context, upstream: upstream, record: record, state: state, tunnelAfter: isConnect ? self : nil)
            if isConnect {
                phase = .tunnel
                context.writeAndFlush(wrapOutboundOut(ProxyResponse.established(allocator: context.channel.allocator)), promise: nil)
                context.pipeline.syncOperations.removeHandler(sizeGuard, promise: nil)
                removeDecoder(context: context)
                for data in pendingBytes { context.fireChannelRead(data) }
                pendingBytes = []
            } else {
                context.pipeline.syncOperations.removeHandler(sizeGuard, promise: nil)
                phase = .forwarding
                if let head = forwardedHead {
                    // The head counts like any other bytes sent (request line, headers, CRLFs).
                    let size = head.method.rawValue.utf8.count + head.uri.utf8.count + 12
                        + head.headers.reduce(2) { $0 + $1.name.utf8.count + $1.value.utf8.count + 4 }
                    record.bytesSent += Int64(size)
                    _ = state.addBytes(size)
                    writeUp(.head(head))
                }
                let parts = pendingParts
                pendingParts = []
                for part in parts { forward(part, context: context) }
            }
        } catch {
            upstream.close(promise: nil)
            fail(context: context, status: 502, reason: .unreachable, detail: "cannot set up the relay: \(error)")
            return
        }
        client.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in }
    }

    private func forward(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        guard case .forwarding = phase else { return }
        switch part {
        case .head:
            // A second request on the same connection: it could name another host.
            context.close(promise: nil)
        case .body(let buffer):
            record.bytesSent += Int64(buffer.readableBytes)
            guard state.addBytes(buffer.readableBytes) else {
                record.cutOff(.byteLimit, "the run's network byte limit (\(limits.maxBytes) bytes) was reached")
                context.close(promise: nil)
                upstream?.close(promise: nil)
                return
            }
            writeUp(.body(.byteBuffer(buffer)))
        case .end(let trailers):
            writeUp(.end(trailers))
            phase = .requestSent
        }
    }

    private func writeUp(_ part: HTTPClientRequestPart) {
        guard let upstream else { return }
        lastUpstreamWrite = upstream.writeAndFlush(part)
    }

    private func closeAfterLastWrite(_ channel: any Channel, context: ChannelHandlerContext) {
        (lastUpstreamWrite ?? context.eventLoop.makeSucceededVoidFuture()).whenComplete { _ in channel.close(promise: nil) }
    }

    private func removeDecoder(context: ChannelHandlerContext) {
        guard !decoderRemoved else { return }
        decoderRemoved = true
        context.pipeline.syncOperations.removeHandler(decoder, promise: nil)
    }

    // MARK: refusing

    /// Answers with an error the client shows (pip prints the status line), reports the
    /// decision and closes.
    private func refuse(context: ChannelHandlerContext, status: Int, reason: NetworkDecision.Reason, detail: String) {
        record.verdict = .refused
        record.reason = reason
        record.detail = detail
        respondAndClose(context: context, status: status)
    }

    private func fail(context: ChannelHandlerContext, status: Int, reason: NetworkDecision.Reason, detail: String) {
        record.verdict = .failed
        record.reason = reason
        record.detail = detail
        respondAndClose(context: context, status: status)
    }

    private func respondAndClose(context: ChannelHandlerContext, status: Int) {
        headerTimer?.cancel()
        phase = .closed
        record.report(to: state)
        let target = record.host.isEmpty ? "" : " \(record.method) \(record.host):\(record.port)"
        let response = ProxyResponse.error(status: status, verdict: record.verdict, summary: "doer network policy\(target): \(record.detail)",
                                           allocator: context.channel.allocator)
        context.writeAndFlush(wrapOutboundOut(response)).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }
}
