/// Decides whether a resolved address may be connected to. Only public unicast addresses
/// pass: a name on the allowlist that resolves to the host's loopback, the local network or
/// the cloud metadata service must never become a way to reach them. The host's own public
/// addresses change while a run lasts, so they are checked apart, in `DestinationCheck`.
public enum AddressClassifier {
    public enum Category: String, Sendable, Hashable {
        case publicUnicast = "public"
        case loopback
        case privateNetwork = "private"
        case linkLocal = "link-local"
        case sharedAddressSpace = "carrier-grade NAT"
        case multicast
        case unspecified
        case broadcast
        case reserved
        case metadata = "cloud metadata"
    }

    public static func classify(_ address: IPAddress) -> Category {
        if let v4 = address.embeddedIPv4 { return classify(v4) }
        return address.isIPv4 ? classifyIPv4(address) : classifyIPv6(address)
    }

    public static func isAllowed(_ address: IPAddress) -> Bool { classify(address) == .publicUnicast }

    private static func classifyIPv4(_ a: IPAddress) -> Category {
        func v4(_ prefix: UInt8..., bits: Int) -> Bool {
            a.hasPrefix(prefix + [UInt8](repeating: 0, count: 4 - prefix.count), length: bits)
        }
        if v4(169, 254, 169, 254, bits: 32) { return .metadata }
        if v4(0, bits: 8) { return .unspecified }                 // "this network", 0.0.0.0
        if v4(127, bits: 8) { return .loopback }
        if v4(10, bits: 8) || v4(172, 16, bits: 12) || v4(192, 168, bits: 16) { return .privateNetwork }
        if v4(100, 64, bits: 10) { return .sharedAddressSpace }    // RFC 6598
        if v4(169, 254, bits: 16) { return .linkLocal }
        if v4(255, 255, 255, 255, bits: 32) { return .broadcast }
        if v4(224, bits: 4) { return .multicast }
        if v4(240, bits: 4) { return .reserved }
        // IETF protocol assignments (NAT64 discovery, DS-Lite, ...): never a destination.
        // The documentation and benchmarking ranges are left alone: they are not the host's
        // own networks, and some sites route them to real services (a registry mirror
        // behind a gateway, as on the machines this was built on).
        if v4(192, 0, 0, bits: 24) { return .reserved }
        return .publicUnicast
    }

    private static func classifyIPv6(_ a: IPAddress) -> Category {
        func v6(_ prefix: [UInt8], _ length: Int) -> Bool {
            a.hasPrefix(prefix + [UInt8](repeating: 0, count: 16 - prefix.count), length: length)
        }
        // fd00:ec2::254, the IPv6 instance metadata address.
        if a.bytes == [0xfd, 0x00, 0x0e, 0xc2] + [UInt8](repeating: 0, count: 10) + [0x02, 0x54] { return .metadata }
        if a.bytes.allSatisfy({ $0 == 0 }) { return .unspecified }
        if a.bytes[0..<15].allSatisfy({ $0 == 0 }) && a.bytes[15] == 1 { return .loopback }
        if v6([0xfe, 0x80], 10) { return .linkLocal }
        if v6([0xfe, 0xc0], 10) { return .privateNetwork } // deprecated site-local
        if v6([0xfc], 7) { return .privateNetwork }         // unique local
        if v6([0xff], 8) { return .multicast }
        if v6([0x01, 0x00], 64) { return .reserved }        // discard-only
        // Teredo (2001:0::/32) carries two IPv4 addresses, the client's obfuscated, and is
        // delivered through whatever relay the host uses; local-use NAT64 (64:ff9b:1::/48)
        // carries one at a place only the network's own prefix length tells. Neither can
        // be judged by the address alone, and no registry is reached that way: refused.
        if v6([0x20, 0x01, 0x00, 0x00], 32) { return .reserved }
        if v6([0x00, 0x64, 0xff, 0x9b, 0x00, 0x01], 48) { return .reserved }
        if a.bytes[0..<12].allSatisfy({ $0 == 0 }) { return .reserved } // remaining ::/96
        return .publicUnicast
    }
}
