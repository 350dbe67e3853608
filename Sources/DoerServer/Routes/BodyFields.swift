/// The fields a request body (or an MCP tool's arguments) may carry, and the refusal of any
/// other.
///
/// A route that runs something takes its limits, network and sandbox from the server; a
/// caller may lower the limits it lists (`CallerLimits`) and nothing else. A field the route
/// does not read is refused with 400 rather than ignored: a caller that sends `network`,
/// `backend`, `max_iterations` or a misspelt limit (`memory` for `memory_bytes`) must never
/// believe it was applied, and nothing a body names can change how code runs unless the
/// route reads it.
package enum BodyFields {
    /// Names a caller might use to ask for a network; each run here has the server's, and
    /// executions have none.
    static let networkNames: Set<String> = ["network", "net", "network_mode", "network_policy", "allow", "allowed_hosts",
                                            "allowlist"]

    /// Nil when every name is one the route takes; otherwise the refusal for the first other
    /// one, alphabetically, naming the field and what the route takes.
    /// - Parameters:
    ///   - values: a field's value when it is a string (or nil for null), so `"network": "none"`
    ///     (no more open than the server's) can be told from a request to open the network.
    ///   - allowsNoNetwork: the route's runs have no network, so asking for none changes nothing.
    package static func refusal(names: [String], taken: [String], route: String, value: (String) -> String??,
                        allowsNoNetwork: Bool) -> String? {
        let takenSet = Set(taken)
        for name in names.sorted() where !takenSet.contains(name) {
            if networkNames.contains(name) {
                if allowsNoNetwork, let asked = value(name), asked == nil || asked == "none" { continue }
                return allowsNoNetwork
                    ? "'\(name)': \(route) runs with no network on this server, and a request may not open it; "
                        + "leave '\(name)' out (or give \"none\")"
                    : "'\(name)': \(route) runs with this server's network policy, and a request may not change it; leave '\(name)' out"
            }
            let limits = takenSet.isSuperset(of: CallerLimits.names)
                ? " (the limits it lists may only lower the server's)" : "; its runs take the server's limits"
            return "'\(name)' is not a field of \(route), which takes only \(taken.sorted().joined(separator: ", "))\(limits)"
        }
        return nil
    }

    /// `refusal` for a JSON body being decoded, thrown as a 400.
    static func check(_ decoder: any Decoder, taken: [String], route: String, allowsNoNetwork: Bool = false) throws {
        let container = try decoder.container(keyedBy: AnyKey.self)
        let names = container.allKeys.map(\.stringValue)
        let why = refusal(names: names, taken: taken, route: route, value: { name -> String?? in
            let key = AnyKey(stringValue: name)
            if (try? container.decodeNil(forKey: key)) == true { return .some(nil) }
            guard let text = try? container.decode(String.self, forKey: key) else { return nil }
            return .some(text)
        }, allowsNoNetwork: allowsNoNetwork)
        if let why { throw ServerError.badRequest(why) }
    }

    struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}
