import NIOCore
import NIOHTTPTypes

/// Admits a connection if its client address has fewer than the limit open, and closes it
/// at once otherwise; counts it until it closes.
final class ConnectionLimitHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    private let connections: ConnectionsPerAddress
    private var counted: String?
    private var decided = false

    init(connections: ConnectionsPerAddress) {
        self.connections = connections
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { decide(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        decide(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        releaseCount()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        releaseCount()
    }

    private func decide(_ context: ChannelHandlerContext) {
        guard !decided else { return }
        decided = true
        let client = ConnectionsPerAddress.client(of: context.channel.remoteAddress)
        if connections.admit(client) {
            counted = client
        } else {
            context.close(promise: nil)
        }
    }

    private func releaseCount() {
        if let client = counted { connections.release(client) }
        counted = nil
    }
}
