/// The one check every address passes right before the proxy connects to it.
///
/// CONNECT, plain HTTP and SOCKS5 — by name, by IPv4 or IPv6 literal, by any IPv6 form that
/// carries an IPv4 address — all end in `EgressConnector.open`, which connects only to
/// addresses this lets through, so it judges the exact address connected to, after any lookup.
/// An address passes when it is public unicast (`AddressClassifier`) and is not the host's
/// own: not on any of its interfaces now, and not routed by the kernel to itself. The host's
/// addresses are read afresh for each decision, never kept from an earlier one.
struct DestinationCheck {
    /// The words a refusal uses for the host's own addresses.
    static let ownAddress = "an address of this host"

    /// The host's interface addresses when this check was made, each also as the IPv4 address
    /// an IPv6 one carries.
    let ownAddresses: Set<IPAddress>

    init(ownAddresses: Set<IPAddress>) {
        self.ownAddresses = Set(ownAddresses.flatMap(Self.forms))
    }

    /// A check against the host's interfaces as they are now.
    static func now() throws(HostAddresses.Unreadable) -> DestinationCheck {
        DestinationCheck(ownAddresses: try HostAddresses.current())
    }

    /// Nil when a sandbox may connect to `address`; otherwise why not, in a few words.
    func refusal(for address: IPAddress) -> String? {
        let category = AddressClassifier.classify(address)
        guard category == .publicUnicast else { return category.rawValue }
        for form in Self.forms(of: address) {
            if ownAddresses.contains(form) { return Self.ownAddress }
            do {
                if try LocalRoute.isLocal(form) { return Self.ownAddress }
            } catch {
                // Unsure is refused: the kernel could not say it is not the host.
                return "not checked against this host's own routes: \(error)"
            }
        }
        return nil
    }

    /// The address itself and the IPv4 address it carries, if any (::ffff:a.b.c.d, ::a.b.c.d,
    /// 64:ff9b::/96, 2002::/16): a connection to either form can reach that IPv4 host.
    static func forms(of address: IPAddress) -> [IPAddress] {
        [address] + (address.embeddedIPv4.map { [$0] } ?? [])
    }
}
