import Foundation
import NIOCore
import Synchronization

/// Counts the open connections of each client address, for one server. A client over the
/// limit cannot hold more of the server's connections (and its tasks and buffers) however
/// slowly it talks.
///
/// Addresses are grouped the way one client can vary them: every loopback address (all of
/// 127.0.0.0/8 and ::1) is this host, an IPv4 address inside IPv6 (::ffff:a.b.c.d) is that
/// IPv4 address, and an IPv6 address counts by its /64 network, which one machine usually
/// owns whole.
final class ConnectionsPerAddress: Sendable {
    let limit: Int
    private let open = Mutex<[String: Int]>([:])

    init(limit: Int) {
        self.limit = max(1, limit)
    }

    /// Counts a new connection from `client`; false (and not counted) when it has `limit`
    /// open already.
    func admit(_ client: String) -> Bool {
        open.withLock { counts in
            let current = counts[client, default: 0]
            guard current < limit else { return false }
            counts[client] = current + 1
            return true
        }
    }

    func release(_ client: String) {
        open.withLock { counts in
            let left = counts[client, default: 0] - 1
            counts[client] = left > 0 ? left : nil
        }
    }

    /// Connections open from `client` now.
    func count(_ client: String) -> Int {
        open.withLock { $0[client, default: 0] }
    }

    /// The key a connection from `address` is counted under.
    static func client(of address: SocketAddress?) -> String {
        switch address {
        case .v4, .v6:
            guard let text = address?.ipAddress else { return "unknown" }
            var bytes = [UInt8](repeating: 0, count: 16)
            if inet_pton(AF_INET, text, &bytes) == 1 { return key(ipv4: Array(bytes[0..<4])) }
            guard inet_pton(AF_INET6, text, &bytes) == 1 else { return text }
            if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xff && bytes[11] == 0xff {
                return key(ipv4: Array(bytes[12..<16]))
            }
            if bytes[0..<15].allSatisfy({ $0 == 0 }) && bytes[15] == 1 { return "loopback" }
            return "ipv6 " + bytes[0..<8].map { String($0, radix: 16) }.joined(separator: ":")
        case .unixDomainSocket:
            return "unix"
        case nil:
            return "unknown"
        }
    }

    private static func key(ipv4 bytes: [UInt8]) -> String {
        bytes.first == 127 ? "loopback" : bytes.map(String.init).joined(separator: ".")
    }
}
