import Foundation

/// Asks the kernel's routing tables whether a connection to an address would be delivered to
/// this host itself (a route of type `local`), the way `ip route get` does, over rtnetlink.
///
/// The interface list (`HostAddresses`) covers the host's assigned addresses; this covers the
/// rest of what the kernel treats as its own: a whole range routed to the host with
/// `ip route add local 198.51.100.0/24 dev lo` (so-called AnyIP) answers on every address in it
/// without any of them being on an interface.
enum LocalRoute {
    struct Unanswered: Error, CustomStringConvertible {
        var description: String
    }

    // From <linux/netlink.h> and <linux/rtnetlink.h>, which Glibc does not bring into Swift;
    // they are kernel ABI and never change.
    private static let netlinkRoute: Int32 = 0      // NETLINK_ROUTE
    private static let getRoute: UInt16 = 26        // RTM_GETROUTE
    private static let newRoute: UInt16 = 24        // RTM_NEWROUTE
    private static let errorMessage: UInt16 = 2     // NLMSG_ERROR
    private static let requestFlag: UInt16 = 1      // NLM_F_REQUEST
    private static let destinationAttribute: UInt16 = 1 // RTA_DST
    private static let localType: UInt8 = 2         // RTN_LOCAL

    /// True when the kernel would deliver a connection to `address` locally. An address with
    /// no route at all is not local (a connection to it fails anyway); a kernel that cannot be
    /// asked throws, so the caller can refuse rather than guess.
    static func isLocal(_ address: IPAddress) throws(Unanswered) -> Bool {
        let fd = socket(AF_NETLINK, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), netlinkRoute)
        guard fd >= 0 else { throw Unanswered(description: "cannot open a netlink socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))

        let sequence = UInt32.random(in: 1...UInt32.max)
        let message = Self.request(for: address, sequence: sequence)
        // Unconnected and unbound, a netlink socket sends to the kernel.
        let sent = message.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        guard sent == message.count else {
            throw Unanswered(description: "cannot ask the kernel for a route: \(String(cString: strerror(errno)))")
        }
        var buffer = [UInt8](repeating: 0, count: 16 << 10)
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            guard count > 0 else {
                throw Unanswered(description: "no route answer from the kernel: \(String(cString: strerror(errno)))")
            }
            var offset = 0
            while offset + 16 <= count {
                let length = Int(Self.read(UInt32.self, buffer, offset))
                let type = Self.read(UInt16.self, buffer, offset + 4)
                let replySequence = Self.read(UInt32.self, buffer, offset + 8)
                guard length >= 16, offset + length <= count else { break }
                if replySequence == sequence {
                    switch type {
                    case newRoute:
                        // rtmsg follows the 16-byte header; rtm_type is its eighth byte.
                        guard length >= 16 + 12 else { throw Unanswered(description: "a short route answer from the kernel") }
                        return buffer[offset + 16 + 7] == localType
                    case errorMessage:
                        // ENETUNREACH and friends: no route, so nothing local either.
                        return false
                    default:
                        break
                    }
                }
                offset += (length + 3) & ~3
            }
        }
    }

    /// nlmsghdr, rtmsg and one RTA_DST attribute, in the host's byte order as netlink wants.
    private static func request(for address: IPAddress, sequence: UInt32) -> [UInt8] {
        let attributeLength = 4 + address.bytes.count
        let total = 16 + 12 + attributeLength
        var bytes: [UInt8] = []
        bytes += Self.raw(UInt32(total))
        bytes += Self.raw(getRoute)
        bytes += Self.raw(requestFlag)
        bytes += Self.raw(sequence)
        bytes += Self.raw(UInt32(0))                      // port id: the kernel fills it in
        let family = UInt8(address.isIPv4 ? AF_INET : AF_INET6)
        bytes += [family, UInt8(address.bytes.count * 8), 0, 0, 0, 0, 0, 0] // family, dst_len, src_len, tos, table, protocol, scope, type
        bytes += Self.raw(UInt32(0))                      // rtm_flags
        bytes += Self.raw(UInt16(attributeLength))
        bytes += Self.raw(destinationAttribute)
        bytes += address.bytes                            // network byte order, as an address always is
        return bytes                                      // 4 or 16 bytes of address: already 4-aligned
    }

    private static func raw<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        withUnsafeBytes(of: value) { Array($0) }
    }

    private static func read<T: FixedWidthInteger>(_: T.Type, _ buffer: [UInt8], _ offset: Int) -> T {
        buffer.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: T.self) }
    }
}
