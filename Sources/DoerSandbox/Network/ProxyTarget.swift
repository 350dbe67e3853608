import DoerCore
import Foundation
import NIOCore
import NIOHTTP1

/// Where a proxy request wants to go, read from its head: `host:port` of a CONNECT, or
/// the absolute `http://` URI of a plain request.
struct ProxyTarget: Sendable, Hashable {
    /// Normalized: lowercased, no trailing dot, IPv6 without brackets.
    var host: String
    var port: Int
    /// Set when the host is an IP literal (no lookup is made for it).
    var literal: IPAddress?
    /// Plain HTTP: the path and query to send to the destination.
    var originForm: String?
    /// Plain HTTP: the authority for the Host header.
    var authority: String?

    struct Problem: Error, Sendable, Hashable {
        var status: Int
        var reason: NetworkDecision.Reason
        var detail: String
    }

    static func parse(_ head: HTTPRequestHead) -> Result<ProxyTarget, Problem> {
        if head.method == .CONNECT { return parseAuthority(head.uri) }
        return parseAbsolute(head.uri)
    }

    static func parseAuthority(_ authority: String) -> Result<ProxyTarget, Problem> {
        let bad = Problem(status: 400, reason: .malformedRequest,
                          detail: "CONNECT needs host:port, got '\(printable(authority))'")
        let hostPart: Substring
        let portPart: Substring
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return .failure(bad) }
            hostPart = authority[authority.index(after: authority.startIndex)..<close]
            let rest = authority[authority.index(after: close)...]
            guard rest.hasPrefix(":") else { return .failure(bad) }
            portPart = rest.dropFirst()
        } else {
            guard let colon = authority.lastIndex(of: ":"), !authority[..<colon].contains(":") else { return .failure(bad) }
            hostPart = authority[..<colon]
            portPart = authority[authority.index(after: colon)...]
        }
        guard let port = Int(portPart), (1...65535).contains(port), portPart.allSatisfy(\.isASCII) else { return .failure(bad) }
        return target(host: String(hostPart), port: port, bad: bad)
    }

    static func parseAbsolute(_ uri: String) -> Result<ProxyTarget, Problem> {
        guard uri.lowercased().hasPrefix("http://") else {
            if uri.lowercased().hasPrefix("https://") {
                return .failure(Problem(status: 400, reason: .unsupportedRequest,
                                        detail: "https:// URLs go through CONNECT, not as a plain proxy request"))
            }
            return .failure(Problem(status: 400, reason: .unsupportedRequest,
                                    detail: "this is a proxy: send CONNECT host:port or an absolute http:// URL, not '\(printable(uri))'"))
        }
        let bad = Problem(status: 400, reason: .malformedRequest, detail: "cannot read the URL '\(printable(uri))'")
        guard let components = URLComponents(string: uri), let rawHost = components.host, !rawHost.isEmpty,
              components.user == nil, components.password == nil
        else { return .failure(bad) }
        let port = components.port ?? 80
        guard (1...65535).contains(port) else { return .failure(bad) }
        var result = target(host: rawHost, port: port, bad: bad)
        if case .success(var parsed) = result {
            let path = components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath
            parsed.originForm = path + (components.percentEncodedQuery.map { "?" + $0 } ?? "")
            let hostText = parsed.literal.map { $0.isIPv4 ? $0.description : "[\($0)]" } ?? parsed.host
            parsed.authority = components.port == nil ? hostText : "\(hostText):\(port)"
            result = .success(parsed)
        }
        return result
    }

    private static func target(host raw: String, port: Int, bad: Problem) -> Result<ProxyTarget, Problem> {
        if let address = IPAddress(raw) {
            return .success(ProxyTarget(host: address.description, port: port, literal: address))
        }
        let host = HostPattern.normalize(raw)
        guard HostPattern.isValidName(host) else { return .failure(bad) }
        return .success(ProxyTarget(host: host, port: port, literal: nil))
    }

    /// The request as the destination must see it: origin-form URI, its own Host, no
    /// proxy headers, and one request per connection.
    func originHead(from head: HTTPRequestHead) -> HTTPRequestHead {
        var headers = head.headers
        for name in ["Proxy-Connection", "Proxy-Authorization", "Proxy-Authenticate", "Connection", "Keep-Alive"] {
            headers.remove(name: name)
        }
        headers.replaceOrAdd(name: "Host", value: authority ?? host)
        headers.replaceOrAdd(name: "Connection", value: "close")
        return HTTPRequestHead(version: .http1_1, method: head.method, uri: originForm ?? "/", headers: headers)
    }

    /// For messages: control characters and long input cut.
    static func printable(_ text: String) -> String {
        String(text.unicodeScalars.prefix(200).map { $0.isASCII && $0.value >= 0x20 && $0.value < 0x7f ? Character($0) : "?" })
    }
}

/// The proxy's own answers, written as raw bytes (the connection becomes a raw relay
/// right after, so no HTTP encoder stays in the pipeline).
enum ProxyResponse {
    static func established(allocator: ByteBufferAllocator) -> ByteBuffer {
        allocator.buffer(string: "HTTP/1.1 200 Connection established\r\n\r\n")
    }

    /// The reason phrase carries the summary, so clients that only print the status line
    /// (pip: "Tunnel connection failed: 403 …") still say why.
    static func error(status: Int, verdict: NetworkDecision.Verdict, summary: String, allocator: ByteBufferAllocator) -> ByteBuffer {
        let phrase = ProxyTarget.printable(summary)
        let body = summary + "\n"
        let text = "HTTP/1.1 \(status) \(phrase)\r\n"
            + "Content-Type: text/plain; charset=utf-8\r\nContent-Length: \(body.utf8.count)\r\n"
            + "X-Doer-Network-Decision: \(verdict.rawValue)\r\nConnection: close\r\n\r\n" + body
        return allocator.buffer(string: text)
    }
}
