import Foundation
public import NIOCore
import NIOPosix

/// Turns a host name into addresses. The proxy resolves once, checks every address, and
/// connects only to one it checked: no second lookup can hand it another (DNS rebinding).
public protocol HostResolver: Sendable {
    func resolve(_ host: String, on eventLoop: any EventLoop) -> EventLoopFuture<[IPAddress]>
}

/// The system's resolver (getaddrinfo, so /etc/hosts and nsswitch apply), off the event loop.
public struct SystemHostResolver: HostResolver {
    public init() {}

    public func resolve(_ host: String, on eventLoop: any EventLoop) -> EventLoopFuture<[IPAddress]> {
        NIOThreadPool.singleton.runIfActive(eventLoop: eventLoop) {
            try Self.lookup(host)
        }
    }

    struct LookupError: Error, CustomStringConvertible {
        var description: String
    }

    static func lookup(_ host: String) throws -> [IPAddress] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_ADDRCONFIG
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, nil, &hints, &list)
        guard status == 0 else { throw LookupError(description: String(cString: gai_strerror(status))) }
        defer { freeaddrinfo(list) }
        var addresses: [IPAddress] = []
        var entry = list
        while let current = entry {
            if let raw = current.pointee.ai_addr {
                switch Int32(current.pointee.ai_family) {
                case AF_INET:
                    var address = raw.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
                    if let ip = IPAddress(bytes: withUnsafeBytes(of: &address) { Array($0) }) { addresses.append(ip) }
                case AF_INET6:
                    var address = raw.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_addr }
                    if let ip = IPAddress(bytes: withUnsafeBytes(of: &address) { Array($0) }) { addresses.append(ip) }
                default:
                    break
                }
            }
            entry = current.pointee.ai_next
        }
        var seen = Set<IPAddress>()
        return addresses.filter { seen.insert($0).inserted }
    }
}
