public import DoerCore
import Foundation

/// One entry of a network allowlist: an exact host name, a `*.suffix` wildcard, or an IP
/// literal. Names are compared after `HostPattern.normalize`, so case, a trailing dot and
/// IPv6 brackets never decide anything.
public enum HostPattern: Sendable, Hashable, CustomStringConvertible {
    case exact(String)
    /// Any name strictly below the suffix (`*.example.org` matches `a.example.org` and
    /// `a.b.example.org`, not `example.org`).
    case subdomains(of: String)
    case address(IPAddress)

    /// Parses a pattern as written in config.toml or `--allow`; URLs are accepted and
    /// reduced to their host, so a registry's index URL can be listed as it is.
    public init(parsing text: String) throws(DoerError) {
        var host = text.trimmingCharacters(in: .whitespaces)
        if let schemeEnd = host.range(of: "://") {
            host = String(host[schemeEnd.upperBound...])
            host = String(host.prefix { $0 != "/" && $0 != "?" && $0 != "#" })
            if let at = host.lastIndex(of: "@") { host = String(host[host.index(after: at)...]) }
            host = Self.stripPort(host)
        }
        if let address = IPAddress(host) {
            self = .address(address)
            return
        }
        let wildcard = host.hasPrefix("*.")
        let name = Self.normalize(wildcard ? String(host.dropFirst(2)) : host)
        guard Self.isValidName(name) else {
            throw .invalidArgument("'\(text)' is not a host name, a *.domain wildcard or an IP address; "
                + "write it like example.org, *.example.org or 192.0.2.7")
        }
        self = wildcard ? .subdomains(of: name) : .exact(name)
    }

    public func matches(_ host: String) -> Bool {
        if let address = IPAddress(host) {
            if case .address(let allowed) = self { return allowed == address }
            return false
        }
        let name = Self.normalize(host)
        switch self {
        case .exact(let allowed): return name == allowed
        case .subdomains(let suffix): return name.hasSuffix("." + suffix) && name.count > suffix.count + 1
        case .address: return false
        }
    }

    public var description: String {
        switch self {
        case .exact(let name): name
        case .subdomains(let suffix): "*." + suffix
        case .address(let address): address.isIPv4 ? address.description : "[\(address)]"
        }
    }

    /// Lowercased, without one trailing dot and without IPv6 brackets.
    public static func normalize(_ host: String) -> String {
        var name = host.lowercased()
        if name.hasPrefix("[") && name.hasSuffix("]") { name = String(name.dropFirst().dropLast()) }
        if name.hasSuffix(".") { name.removeLast() }
        return name
    }

    /// LDH labels of 1–63 characters, 253 in all; underscores are tolerated because some
    /// real service names use them. Anything else (spaces, `%`, `/`, empty labels) is no
    /// name a resolver should be asked about.
    public static func isValidName(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 253 else { return false }
        for label in name.split(separator: ".", omittingEmptySubsequences: false) {
            guard (1...63).contains(label.utf8.count), !label.hasPrefix("-"), !label.hasSuffix("-") else { return false }
            guard label.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7a) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2d || $0 == 0x5f })
            else { return false }
        }
        return true
    }

    static func stripPort(_ hostPort: String) -> String {
        if hostPort.hasPrefix("["), let close = hostPort.firstIndex(of: "]") {
            return String(hostPort[...close])
        }
        if hostPort.filter({ $0 == ":" }).count == 1, let colon = hostPort.firstIndex(of: ":") {
            return String(hostPort[..<colon])
        }
        return hostPort
    }
}

/// A list of patterns; a host is allowed when any of them matches.
public struct HostAllowlist: Sendable, Hashable {
    public var patterns: [HostPattern]

    public init(_ patterns: [HostPattern]) { self.patterns = patterns }

    public init(parsing texts: [String]) throws(DoerError) {
        var parsed: [HostPattern] = []
        for text in texts { parsed.append(try HostPattern(parsing: text)) }
        patterns = parsed
    }

    public func allows(_ host: String) -> Bool { patterns.contains { $0.matches(host) } }
}
