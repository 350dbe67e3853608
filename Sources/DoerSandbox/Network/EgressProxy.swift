public import DoerCore
import Foundation
import Logging
import Synchronization
public import NIOCore
import NIOHTTP1
import NIOPosix

/// The host side of a sandbox's network: an HTTP proxy on a unix socket (bound into the
/// sandbox, where a bridge in doer-sandbox-init exposes it on 127.0.0.1) that lets a run
/// reach only what its rules allow.
///
/// It speaks HTTP CONNECT (for https and anything else over TCP), plain absolute-URI
/// HTTP, and SOCKS5 CONNECT with names resolved here (`socks5h`), told apart by the
/// first byte.
/// For each request it decides on the host name first, then resolves it once, refuses
/// loopback, private, link-local, shared, multicast, reserved and metadata addresses and every
/// address of the host itself (its interfaces as they are at that moment, and ranges routed
/// to it), and connects to an address it checked. Every decision goes to `decisions`, the `onDecision`
/// callback and the log.
///
/// ```swift
/// let proxy = try await EgressProxy.start(socketPath: "/tmp/run/proxy.sock",
///     rules: EgressRules(access: .allowlist, allowlist: try HostAllowlist(parsing: ["example.org"])))
/// defer { Task { await proxy.shutdown() } }
/// for await decision in proxy.decisions { print(decision.host, decision.verdict) }
/// ```
public final class EgressProxy: Sendable {
    public let socketPath: String
    public let rules: EgressRules
    public let limits: ProxyLimits
    /// Every decision, as it is made (refusals at once, relayed connections when they close).
    public let decisions: AsyncStream<NetworkDecision>

    private let serverChannel: any Channel
    private let state: ProxyState

    private init(socketPath: String, rules: EgressRules, limits: ProxyLimits, serverChannel: any Channel, state: ProxyState,
                 decisions: AsyncStream<NetworkDecision>) {
        self.socketPath = socketPath
        self.rules = rules
        self.limits = limits
        self.serverChannel = serverChannel
        self.state = state
        self.decisions = decisions
    }

    /// Listens on `socketPath` (replacing a stale socket file there). With `owner`, the
    /// socket is given to that uid/gid with mode 0600, so only the sandbox's uid (and
    /// root) can connect.
    public static func start(
        socketPath: String, rules: EgressRules, limits: ProxyLimits = ProxyLimits(),
        resolver: any HostResolver = SystemHostResolver(), owner: (uid: UInt32, gid: UInt32)? = nil,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        onDecision: (@Sendable (NetworkDecision) -> Void)? = nil
    ) async throws(DoerError) -> EgressProxy {
        let (stream, continuation) = AsyncStream<NetworkDecision>.makeStream()
        let state = ProxyState(limits: limits, continuation: continuation, onDecision: onDecision)
        let loop = group.next()
        let bootstrap = ServerBootstrap(group: loop)
            .serverChannelOption(ChannelOptions.backlog, value: 256)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try ProxyProtocolSniffer.install(
                        on: channel, connector: EgressConnector(rules: rules, limits: limits, resolver: resolver), state: state)
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.bind(unixDomainSocketPath: socketPath, cleanupExistingSocketFile: true).get()
        } catch {
            continuation.finish()
            throw .sandboxFailure("the network proxy cannot listen on \(socketPath): \(error)")
        }
        if let owner, chown(socketPath, owner.uid, owner.gid) != 0 {
            let reason = String(cString: strerror(errno))
            try? await channel.close()
            continuation.finish()
            throw .sandboxFailure("cannot hand the network proxy's socket to uid \(owner.uid): \(reason)")
        }
        chmod(socketPath, 0o600)
        return EgressProxy(socketPath: socketPath, rules: rules, limits: limits, serverChannel: channel, state: state,
                           decisions: stream)
    }

    /// Stops listening, closes every connection still open, and returns once each has
    /// reported its decision.
    public func shutdown() async {
        try? await serverChannel.close()
        for channel in state.openChannels() {
            try? await channel.close()
        }
        for channel in state.openChannels() {
            try? await channel.closeFuture.get()
        }
        state.finish()
        unlink(socketPath)
    }

    /// The decisions made so far, in order.
    public var recordedDecisions: [NetworkDecision] { state.recorded() }

    /// Bytes relayed so far, both directions.
    public var bytesRelayed: Int64 { state.totalBytes() }
}

/// The run's shared counters and decision log, touched from every connection.
final class ProxyState: Sendable {
    private struct Counters {
        var open: [ObjectIdentifier: any Channel] = [:]
        var clients = 0
        var accepted = 0
        var bytes: Int64 = 0
        var decisions: [NetworkDecision] = []
        var finished = false
    }

    let limits: ProxyLimits
    private let counters = Mutex(Counters())
    private let continuation: AsyncStream<NetworkDecision>.Continuation
    private let onDecision: (@Sendable (NetworkDecision) -> Void)?
    private let logger = Logger(label: "doer.sandbox.network")

    init(limits: ProxyLimits, continuation: AsyncStream<NetworkDecision>.Continuation,
         onDecision: (@Sendable (NetworkDecision) -> Void)?) {
        self.limits = limits
        self.continuation = continuation
        self.onDecision = onDecision
    }

    /// Counts a new client connection; false when a connection limit is reached.
    func admitClient(_ channel: any Channel) -> Bool {
        let admitted = counters.withLock { c -> Bool in
            guard !c.finished, c.clients < limits.maxConcurrentConnections, c.accepted < limits.maxConnections else { return false }
            c.clients += 1
            c.accepted += 1
            c.open[ObjectIdentifier(channel)] = channel
            return true
        }
        if admitted {
            channel.closeFuture.whenComplete { [self] _ in
                counters.withLock { c in
                    c.clients -= 1
                    c.open[ObjectIdentifier(channel)] = nil
                }
            }
        }
        return admitted
    }

    /// Tracks an upstream connection so shutdown closes it too.
    func track(_ channel: any Channel) {
        counters.withLock { $0.open[ObjectIdentifier(channel)] = channel }
        channel.closeFuture.whenComplete { [self] _ in
            counters.withLock { c in _ = c.open.removeValue(forKey: ObjectIdentifier(channel)) }
        }
    }

    /// Adds relayed bytes; false once the run's byte budget is spent.
    func addBytes(_ count: Int) -> Bool {
        counters.withLock { c in
            c.bytes += Int64(count)
            return c.bytes <= limits.maxBytes
        }
    }

    func totalBytes() -> Int64 { counters.withLock { $0.bytes } }

    func openChannels() -> [any Channel] { counters.withLock { Array($0.open.values) } }

    func report(_ decision: NetworkDecision) {
        counters.withLock { $0.decisions.append(decision) }
        continuation.yield(decision)
        onDecision?(decision)
        let target = decision.host.isEmpty ? "(no host)" : "\(decision.host):\(decision.port)"
        let metadata: Logger.Metadata = [
            "host": "\(decision.host)", "port": "\(decision.port)", "method": "\(decision.method)",
            "verdict": "\(decision.verdict.rawValue)", "reason": "\(decision.reason.rawValue)",
            "address": "\(decision.address ?? "-")", "sent": "\(decision.bytesSent)", "received": "\(decision.bytesReceived)",
        ]
        switch decision.verdict {
        case .allowed: logger.info("egress \(decision.method) \(target) allowed", metadata: metadata)
        case .refused: logger.notice("egress \(decision.method) \(target) refused: \(decision.detail)", metadata: metadata)
        case .failed: logger.notice("egress \(decision.method) \(target) failed: \(decision.detail)", metadata: metadata)
        }
    }

    func recorded() -> [NetworkDecision] { counters.withLock { $0.decisions } }

    func finish() {
        counters.withLock { $0.finished = true }
        continuation.finish()
    }
}
