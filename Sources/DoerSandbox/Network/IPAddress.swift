import Foundation

/// An IPv4 or IPv6 address as its bytes, so checks never depend on how it was written.
public struct IPAddress: Sendable, Hashable, CustomStringConvertible {
    /// 4 bytes for IPv4, 16 for IPv6.
    public let bytes: [UInt8]

    public init?(bytes: [UInt8]) {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        self.bytes = bytes
    }

    /// Parses the strict textual forms (dotted quad, RFC 4291 IPv6, with or without
    /// brackets). Anything inet_pton refuses (octal, hex or short IPv4 forms such as
    /// `0x7f.1` or `127.1`) is not an address here, and so is treated as a host name,
    /// which then must match the allowlist by name.
    public init?(_ text: String) {
        var literal = Substring(text)
        if literal.hasPrefix("[") && literal.hasSuffix("]") { literal = literal.dropFirst().dropLast() }
        if literal.contains("%") { return nil }
        var v4 = in_addr()
        if inet_pton(AF_INET, String(literal), &v4) == 1 {
            bytes = withUnsafeBytes(of: &v4) { Array($0) }
            return
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, String(literal), &v6) == 1 {
            bytes = withUnsafeBytes(of: &v6) { Array($0) }
            return
        }
        return nil
    }

    public var isIPv4: Bool { bytes.count == 4 }

    /// The IPv4 address an IPv6 one carries, when it is v4-mapped (::ffff:a.b.c.d),
    /// v4-translated (::ffff:0:a.b.c.d, RFC 2765), v4-compatible (::a.b.c.d), NAT64
    /// (64:ff9b::/96) or 6to4 (2002::/16): those reach an IPv4 destination, which is what
    /// must be checked.
    public var embeddedIPv4: IPAddress? {
        guard bytes.count == 16 else { return nil }
        let zeros10 = bytes[0..<10].allSatisfy { $0 == 0 }
        if zeros10 && bytes[10] == 0xff && bytes[11] == 0xff { return IPAddress(bytes: Array(bytes[12..<16])) }
        if bytes[0..<8].allSatisfy({ $0 == 0 }) && bytes[8] == 0xff && bytes[9] == 0xff && bytes[10] == 0 && bytes[11] == 0 {
            return IPAddress(bytes: Array(bytes[12..<16]))
        }
        if zeros10 && bytes[10] == 0 && bytes[11] == 0 && !bytes[12..<16].allSatisfy({ $0 == 0 })
            && !(bytes[12..<15].allSatisfy { $0 == 0 } && bytes[15] == 1) {
            return IPAddress(bytes: Array(bytes[12..<16]))
        }
        if bytes[0..<12] == [0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0][...] {
            return IPAddress(bytes: Array(bytes[12..<16]))
        }
        if bytes[0] == 0x20 && bytes[1] == 0x02 { return IPAddress(bytes: Array(bytes[2..<6])) }
        return nil
    }

    public var description: String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let family = isIPv4 ? AF_INET : AF_INET6
        let ok = bytes.withUnsafeBytes { raw in inet_ntop(family, raw.baseAddress, &buffer, socklen_t(buffer.count)) != nil }
        return ok ? String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : "?"
    }

    /// Whether the first `length` bits equal those of `prefix`.
    func hasPrefix(_ prefix: [UInt8], length: Int) -> Bool {
        guard prefix.count == bytes.count else { return false }
        var bits = length
        for index in bytes.indices where bits > 0 {
            let take = min(8, bits)
            let mask = UInt8(truncatingIfNeeded: 0xff << (8 - take))
            if bytes[index] & mask != prefix[index] & mask { return false }
            bits -= take
        }
        return true
    }
}
