import DoerCore
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// One client connection of the egress proxy: reads the request head (within the header
/// timeout and size limit), decides, resolves, connects to a vetted address, then relays.
final class ProxyConnectionHandler: ChannelInboundHandler, RemovableChannelHandler {
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

    private let rules: EgressRules
    private let limits: ProxyLimits
    private let resolver: any HostResolver
    private let state: ProxyState
    private let admitted: Bool
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

    static func install(on channel: any Channel, rules: EgressRules, limits: ProxyLimits, resolver: any HostResolver,
                        state: ProxyState) throws {
        let sizeGuard = HeaderSizeGuard(limit: limits.maxHeaderBytes)
        let decoder = ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .forwardBytes))
        let handler = ProxyConnectionHandler(rules: rules, limits: limits, resolver: resolver, state: state,
                                             admitted: state.admitClient(channel), sizeGuard: sizeGuard, decoder: decoder)
        try channel.pipeline.syncOperations.addHandlers([sizeGuard, decoder, handler])
    }

    private init(rules: EgressRules, limits: ProxyLimits, resolver: any HostResolver, state: ProxyState, admitted: Bool,
                 sizeGuard: HeaderSizeGuard, decoder: ByteToMessageHandler<HTTPRequestDecoder>) {
        self.rules = rules
        self.limits = limits
        self.resolver = resolver
        self.state = state
        self.admitted = admitted
        self.sizeGuard = sizeGuard
        self.decoder = decoder
    }

    // MARK: events

    func channelActive(context: ChannelHandlerContext) {
        guard admitted else {
            refuse(context: context, status: 503, reason: .connectionLimit,
                   detail: "the run reached its limit of \(limits.maxConcurrentConnections) open or \(limits.maxConnections) total proxy connections")
            return
        }
        headerTimer = context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(Int64(limits.headerTimeoutSeconds * 1000))) {
            guard case .awaitingHead = self.phase else { return }
            self.refuse(context: context, status: 408, reason: .headerTimeout,
                        detail: "no complete request head within \(self.limits.headerTimeoutSeconds) s")
        }
        context.fireChannelActive()
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
        switch rules.evaluate(host: target.host) {
        case .refused(let why):
            refuse(context: context, status: 403, reason: .hostNotAllowed, detail: why)
            return
        case .allowed(let reason):
            record.reason = reason
        }
        if !isConnect { forwardedHead = target.originHead(from: head) }
        phase = .connecting
        context.channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }

        let host = target.host
        let lookup: EventLoopFuture<[IPAddress]> = target.literal.map { context.eventLoop.makeSucceededFuture([$0]) }
            ?? resolver.resolve(host, on: context.eventLoop)
        lookup.hop(to: context.eventLoop).assumeIsolated().whenComplete { result in
            let handler = self
            guard case .connecting = handler.phase else { return }
            switch result {
            case .failure(let error):
                handler.fail(context: context, status: 502, reason: .unresolvable, detail: "cannot resolve \(host): \(error)")
            case .success(let addresses):
                handler.connect(context: context, target: target, addresses: addresses)
            }
        }
    }

    private func connect(context: ChannelHandlerContext, target: ProxyTarget, addresses: [IPAddress]) {
        let usable = addresses.filter(AddressClassifier.isAllowed)
        guard !usable.isEmpty else {
            let shown = addresses.prefix(4).map { "\($0) (\(AddressClassifier.classify($0).rawValue))" }.joined(separator: ", ")
            refuse(context: context, status: 403, reason: .forbiddenAddress,
                   detail: addresses.isEmpty ? "\(target.host) has no addresses"
                       : "\(target.host) resolves only to addresses a sandbox may not reach: \(shown)")
            return
        }
        Self.connectInTurn(usable[...], port: target.port, eventLoop: context.eventLoop, plainHTTP: !isConnect,
                           timeout: .milliseconds(Int64(limits.connectTimeoutSeconds * 1000)), lastError: nil)
            .hop(to: context.eventLoop).assumeIsolated().whenComplete { result in
                let handler = self
                switch result {
                case .failure(let error):
                    guard case .connecting = handler.phase else { return }
                    handler.fail(context: context, status: 502, reason: .unreachable,
                                 detail: "cannot connect to \(target.host):\(target.port): \(error)")
                case .success(let (channel, address)):
                    guard case .connecting = handler.phase, context.channel.isActive else {
                        channel.close(promise: nil)
                        return
                    }
                    handler.relay(context: context, upstream: channel, address: address)
                }
            }
    }

    /// Tries each vetted address in order; never resolves again.
    private static func connectInTurn(_ addresses: ArraySlice<IPAddress>, port: Int, eventLoop: any EventLoop, plainHTTP: Bool,
                                      timeout: TimeAmount, lastError: (any Error)?) -> EventLoopFuture<((any Channel), IPAddress)> {
        guard let address = addresses.first else {
            return eventLoop.makeFailedFuture(lastError ?? ChannelError.connectTimeout(.seconds(0)))
        }
        let socketAddress: SocketAddress
        do {
            socketAddress = try SocketAddress(ipAddress: address.description, port: port)
        } catch {
            return connectInTurn(addresses.dropFirst(), port: port, eventLoop: eventLoop, plainHTTP: plainHTTP,
                                 timeout: timeout, lastError: error)
        }
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if plainHTTP { try channel.pipeline.syncOperations.addHandler(HTTPRequestEncoder()) }
                }
            }
        let rest = addresses.dropFirst()
        return bootstrap.connect(to: socketAddress)
            .map { ($0, address) }
            .flatMapError { error in
                connectInTurn(rest, port: port, eventLoop: eventLoop, plainHTTP: plainHTTP, timeout: timeout, lastError: error)
            }
    }

    // MARK: relaying

    private func relay(context: ChannelHandlerContext, upstream: any Channel, address: IPAddress) {
        self.upstream = upstream
        state.track(upstream)
        record.address = address.description
        let client = context.channel
        do {
            try upstream.pipeline.syncOperations.addHandler(RelayHandler(target: client, record: record, state: state, upward: false))
            try client.pipeline.syncOperations.addHandler(
                IdleStateHandler(allTimeout: .milliseconds(Int64(limits.idleTimeoutSeconds * 1000))), position: .first)
            if isConnect {
                try client.pipeline.syncOperations.addHandler(
                    RelayHandler(target: upstream, record: record, state: state, upward: true), position: .after(self))
                phase = .tunnel
                context.writeAndFlush(wrapOutboundOut(ProxyResponse.established(allocator: context.channel.allocator)), promise: nil)
                context.pipeline.removeHandler(sizeGuard, promise: nil)
                removeDecoder(context: context)
                for data in pendingBytes { context.fireChannelRead(data) }
                pendingBytes = []
            } else {
                try upstream.pipeline.syncOperations.addHandler(IdleStateHandler(allTimeout: .milliseconds(Int64(limits.idleTimeoutSeconds * 1000))), position: .first)
                context.pipeline.removeHandler(sizeGuard, promise: nil)
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
        context.pipeline.removeHandler(decoder, promise: nil)
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
