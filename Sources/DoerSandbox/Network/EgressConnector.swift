import DoerCore
import NIOCore
import NIOHTTP1
import NIOPosix

/// The part of the proxy every protocol shares: decide on the name, resolve once, keep only
/// addresses a sandbox may reach (`DestinationCheck`: public, and not this host's own),
/// connect to one of those. HTTP CONNECT, plain HTTP and
/// SOCKS5 differ only in how they ask and how they answer.
struct EgressConnector: Sendable {
    let rules: EgressRules
    let limits: ProxyLimits
    let resolver: any HostResolver

    /// Why a connection was not made, in the words each protocol needs.
    struct Refusal: Error, Sendable {
        var verdict: NetworkDecision.Verdict
        var reason: NetworkDecision.Reason
        var detail: String

        /// A failure to connect as a decision: refusals as they are, anything else unreachable.
        init(_ error: any Error) {
            self = error as? Refusal ?? Refusal(verdict: .failed, reason: .unreachable, detail: "\(error)")
        }

        init(verdict: NetworkDecision.Verdict, reason: NetworkDecision.Reason, detail: String) {
            self.verdict = verdict
            self.reason = reason
            self.detail = detail
        }

        var httpStatus: Int {
            switch reason {
            case .hostNotAllowed, .forbiddenAddress: 403
            case .unresolvable, .unreachable: 502
            case .headerTimeout: 408
            case .connectionLimit: 503
            default: 400
            }
        }
    }

    /// The decision by name, made before any lookup.
    func decide(_ target: ProxyTarget) -> Result<NetworkDecision.Reason, Refusal> {
        switch rules.evaluate(host: target.host) {
        case .allowed(let reason): return .success(reason)
        case .refused(let why): return .failure(Refusal(verdict: .refused, reason: .hostNotAllowed, detail: why))
        }
    }

    /// Resolves (unless the target is a literal), vets every address, and connects to the
    /// first vetted one that answers. Fails with a `Refusal`.
    func open(_ target: ProxyTarget, httpEncoder: Bool, on eventLoop: any EventLoop) -> EventLoopFuture<(any Channel, IPAddress)> {
        let lookup = target.literal.map { eventLoop.makeSucceededFuture([$0]) }
            ?? resolver.resolve(target.host, on: eventLoop).flatMapErrorThrowing { error in
                throw Refusal(verdict: .failed, reason: .unresolvable, detail: "cannot resolve \(target.host): \(error)")
            }
        let timeout = TimeAmount.milliseconds(Int64(limits.connectTimeoutSeconds * 1000))
        return lookup.flatMap { addresses in
            // The host's interfaces are read off the event loop: one netlink dump, plus a route
            // lookup per address.
            NIOThreadPool.singleton.runIfActive(eventLoop: eventLoop) { try Self.vet(addresses, host: target.host) }
        }.flatMap { usable in
            Self.connectInTurn(usable[...], port: target.port, eventLoop: eventLoop, httpEncoder: httpEncoder,
                               timeout: timeout, lastError: nil)
                .flatMapErrorThrowing { error in
                    throw Refusal(verdict: .failed, reason: .unreachable,
                                  detail: "cannot connect to \(target.host):\(target.port): \(error)")
                }
        }
    }

    /// The addresses a sandbox may connect to, in the resolver's order; a `Refusal` when
    /// none is left. Every form of request passes here, so this is where the host's own
    /// addresses are read, fresh for each decision.
    static func vet(_ addresses: [IPAddress], host: String) throws(Refusal) -> [IPAddress] {
        let check: DestinationCheck
        do {
            check = try DestinationCheck.now()
        } catch {
            throw Refusal(verdict: .failed, reason: .unreachable,
                          detail: "\(error), so \(host) cannot be checked against them; nothing was connected")
        }
        var usable: [IPAddress] = []
        var refused: [String] = []
        for address in addresses {
            if let why = check.refusal(for: address) { refused.append("\(address) (\(why))") } else { usable.append(address) }
        }
        guard usable.isEmpty else { return usable }
        throw Refusal(verdict: .refused, reason: .forbiddenAddress,
                      detail: addresses.isEmpty ? "\(host) has no addresses"
                          : "\(host) resolves only to addresses a sandbox may not reach: \(refused.prefix(4).joined(separator: ", "))")
    }

    /// Tries each vetted address in order; never resolves again.
    private static func connectInTurn(_ addresses: ArraySlice<IPAddress>, port: Int, eventLoop: any EventLoop, httpEncoder: Bool,
                                      timeout: TimeAmount, lastError: (any Error)?) -> EventLoopFuture<(any Channel, IPAddress)> {
        guard let address = addresses.first else {
            return eventLoop.makeFailedFuture(lastError ?? ChannelError.connectTimeout(timeout))
        }
        let rest = addresses.dropFirst()
        let socketAddress: SocketAddress
        do {
            socketAddress = try SocketAddress(ipAddress: address.description, port: port)
        } catch {
            return connectInTurn(rest, port: port, eventLoop: eventLoop, httpEncoder: httpEncoder, timeout: timeout, lastError: error)
        }
        return ClientBootstrap(group: eventLoop)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if httpEncoder { try channel.pipeline.syncOperations.addHandler(HTTPRequestEncoder()) }
                }
            }
            .connect(to: socketAddress)
            .map { ($0, address) }
            .flatMapError { error in
                connectInTurn(rest, port: port, eventLoop: eventLoop, httpEncoder: httpEncoder, timeout: timeout, lastError: error)
            }
    }
}
