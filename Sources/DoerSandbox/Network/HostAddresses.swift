import Foundation

/// Every address of this host's own interfaces, read from the kernel at the moment of asking.
///
/// The proxy runs in the host's network namespace, so a connection it makes to one of these
/// reaches the host itself — any service bound to `0.0.0.0` or `::` on it — whatever range the
/// address is in (a public or documentation-range address on `eth0` is as much the host as
/// `127.0.0.1`). Nothing here is cached: interfaces come and go while a run lasts (a VPN, a
/// container bridge, an address added by hand), and one call is a single netlink dump.
enum HostAddresses {
    struct Unreadable: Error, CustomStringConvertible {
        var errno: Int32
        var description: String { "cannot list this host's interface addresses: \(String(cString: strerror(errno)))" }
    }

    /// The addresses of every interface, up or down (an interface brought up later must not
    /// be reachable for the moment it takes to ask again), as the kernel has them now.
    static func current() throws(Unreadable) -> Set<IPAddress> {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0 else { throw Unreadable(errno: errno) }
        defer { freeifaddrs(list) }
        var addresses = Set<IPAddress>()
        var entry = list
        while let current = entry {
            if let raw = current.pointee.ifa_addr, let address = Self.address(raw) { addresses.insert(address) }
            entry = current.pointee.ifa_next
        }
        return addresses
    }

    /// The IP address in a socket address, nil for other families (link-layer entries).
    static func address(_ raw: UnsafeMutablePointer<sockaddr>) -> IPAddress? {
        switch Int32(raw.pointee.sa_family) {
        case AF_INET:
            var address = raw.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
            return IPAddress(bytes: withUnsafeBytes(of: &address) { Array($0) })
        case AF_INET6:
            var address = raw.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_addr }
            return IPAddress(bytes: withUnsafeBytes(of: &address) { Array($0) })
        default:
            return nil
        }
    }
}
