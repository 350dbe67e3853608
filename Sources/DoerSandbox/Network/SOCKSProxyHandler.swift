import DoerCore
import NIOCore
import NIOSOCKS

/// A SOCKS5 client (no authentication, CONNECT only). Domain-name requests are decided
/// and resolved here on the host, so `socks5h://` clients need no DNS inside the sandbox;
/// address requests are vetted like IP literals.
final class SOCKSProxyHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ClientMessage
    typealias OutboundOut = ServerMessage

    private enum Phase { case greeting, awaitingRequest, connecting, tunnel, closed }

    private let connector: EgressConnector
    private let state: ProxyState
    private let record = ConnectionRecord()
    private var phase = Phase.greeting
    private var timer: Scheduled<Void>?
    private var upstream: (any Channel)?

    init(connector: EgressConnector, state: ProxyState) {
        self.connector = connector
        self.state = state
    }

    func handlerAdded(context: ChannelHandlerContext) {
        record.method = "SOCKS5"
        let seconds = connector.limits.headerTimeoutSeconds
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(Int64(seconds * 1000))) {
            switch self.phase {
            case .greeting, .awaitingRequest:
                self.close(context: context, reply: nil, verdict: .refused, reason: .headerTimeout,
                           detail: "no complete SOCKS request within \(seconds) s")
            default:
                break
            }
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch phase {
        case .greeting:
            guard case .greeting(let greeting) = unwrapInboundIn(data) else { return }
            guard greeting.methods.contains(.noneRequired) else {
                context.writeAndFlush(wrapOutboundOut(.selectedAuthenticationMethod(.init(method: .noneAcceptable))), promise: nil)
                close(context: context, reply: nil, verdict: .refused, reason: .unsupportedRequest,
                      detail: "the SOCKS client offered no method without authentication")
                return
            }
            phase = .awaitingRequest
            context.writeAndFlush(wrapOutboundOut(.selectedAuthenticationMethod(.init(method: .noneRequired))), promise: nil)
        case .awaitingRequest:
            guard case .request(let request) = unwrapInboundIn(data) else { return }
            timer?.cancel()
            begin(context: context, request: request)
        case .tunnel:
            // Raw bytes once the handshake handler has left; the relay behind us sends them on.
            context.fireChannelRead(data)
        case .connecting, .closed:
            break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        if case .connecting = phase { record.cutOff(.unreachable, "the client went away while connecting") }
        phase = .closed
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
        case .greeting, .awaitingRequest:
            close(context: context, reply: nil, verdict: .refused, reason: .malformedRequest, detail: "malformed SOCKS request: \(error)")
        default:
            context.close(promise: nil)
        }
    }

    private func begin(context: ChannelHandlerContext, request: SOCKSRequest) {
        let target: ProxyTarget
        switch request.addressType {
        case .domain(let host, let port):
            record.host = HostPattern.normalize(host)
            record.port = port
            guard case .success(let parsed) = ProxyTarget.parseAuthority(Self.authority(host, port)) else {
                close(context: context, reply: .addressUnsupported, verdict: .refused, reason: .malformedRequest,
                      detail: "'\(ProxyTarget.printable(host))' is not a host name")
                return
            }
            target = parsed
        case .address(let address):
            guard let text = address.ipAddress, let port = address.port, let ip = IPAddress(text) else {
                close(context: context, reply: .addressUnsupported, verdict: .refused, reason: .unsupportedRequest,
                      detail: "unsupported SOCKS address")
                return
            }
            target = ProxyTarget(host: ip.description, port: port, literal: ip)
            record.host = target.host
            record.port = port
        }
        guard request.command == .connect else {
            close(context: context, reply: .commandUnsupported, verdict: .refused, reason: .unsupportedRequest,
                  detail: "only SOCKS CONNECT is supported (no BIND, no UDP)")
            return
        }
        switch connector.decide(target) {
        case .failure(let refusal):
            close(context: context, reply: .notAllowed, verdict: refusal.verdict, reason: refusal.reason, detail: refusal.detail)
            return
        case .success(let reason):
            record.reason = reason
        }
        phase = .connecting
        connector.open(target, httpEncoder: false, on: context.eventLoop)
            .hop(to: context.eventLoop).assumeIsolated().whenComplete { result in
                switch result {
                case .failure(let error):
                    guard case .connecting = self.phase else { return }
                    let refusal = EgressConnector.Refusal(error)
                    let reply: SOCKSServerReply = switch refusal.reason {
                    case .forbiddenAddress: .notAllowed
                    case .unresolvable: .hostUnreachable
                    default: .refused
                    }
                    self.close(context: context, reply: reply, verdict: refusal.verdict, reason: refusal.reason, detail: refusal.detail)
                case .success(let (channel, address)):
                    guard case .connecting = self.phase, context.channel.isActive else {
                        channel.close(promise: nil)
                        return
                    }
                    self.relay(context: context, upstream: channel, address: address)
                }
            }
    }

    private func relay(context: ChannelHandlerContext, upstream: any Channel, address: IPAddress) {
        self.upstream = upstream
        state.track(upstream)
        record.address = address.description
        do {
            try RelayHandler.join(client: context, upstream: upstream, record: record, state: state, tunnelAfter: self)
        } catch {
            upstream.close(promise: nil)
            close(context: context, reply: .serverFailure, verdict: .failed, reason: .unreachable, detail: "cannot set up the relay: \(error)")
            return
        }
        phase = .tunnel
        let bound = SOCKSAddress.address(try! SocketAddress(ipAddress: "0.0.0.0", port: 0))
        context.writeAndFlush(wrapOutboundOut(.response(SOCKSResponse(reply: .succeeded, boundAddress: bound))), promise: nil)
        // What the client sent after its request comes out of the handshake handler as it leaves.
        context.pipeline.context(handlerType: SOCKSServerHandshakeHandler.self).assumeIsolated().whenSuccess { handshake in
            context.pipeline.syncOperations.removeHandler(context: handshake, promise: nil)
        }
    }

    /// Answers with `reply` (when the handshake got that far), reports and closes.
    private func close(context: ChannelHandlerContext, reply: SOCKSServerReply?, verdict: NetworkDecision.Verdict,
                       reason: NetworkDecision.Reason, detail: String) {
        timer?.cancel()
        phase = .closed
        record.verdict = verdict
        record.reason = reason
        record.detail = detail
        record.report(to: state)
        guard let reply else {
            context.close(promise: nil)
            return
        }
        let bound = SOCKSAddress.address(try! SocketAddress(ipAddress: "0.0.0.0", port: 0))
        context.writeAndFlush(wrapOutboundOut(.response(SOCKSResponse(reply: reply, boundAddress: bound))))
            .assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }

    private static func authority(_ host: String, _ port: Int) -> String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}
