import HTTPTypes
import Hummingbird

/// A server bound to loopback answers only requests addressed to a loopback name
/// (`localhost`, `127.0.0.1`, `[::1]`, with any port) or to a name `--allowed-host` adds.
///
/// A page on `http://evil.example` whose name the attacker then points at 127.0.0.1 (DNS
/// rebinding) is the same origin to the browser as that name, so it can read whatever the
/// server answers without a token — the web app's files and, on loopback, `/metrics`. Its
/// requests still say `Host: evil.example`; those get 421 and nothing else.
struct LoopbackHostMiddleware: RouterMiddleware {
    typealias Context = ServerRequestContext
    /// Names (lower case, no port) allowed besides the loopback ones.
    let allowed: Set<String>

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        // A browser always names the host; a request without one is no page's. Health probes
        // name an address, and `/healthz` tells nothing.
        guard request.uri.path == "/healthz" || request.head.authority.map({ Self.accepts($0, allowed: allowed) }) ?? true else {
            throw HTTPError(.misdirectedRequest, message: "this server answers requests for localhost only; "
                + "start it with --allowed-host NAME to answer another name")
        }
        return try await next(request, context)
    }

    /// Whether `authority` (`host[:port]`, `[v6][:port]`) names loopback or an allowed name.
    static func accepts(_ authority: String, allowed: Set<String>) -> Bool {
        var host = Substring(authority.lowercased())
        if host.hasPrefix("["), let close = host.firstIndex(of: "]") {
            host = host[host.index(after: host.startIndex)..<close]
        } else if let colon = host.lastIndex(of: ":") {
            host = host[..<colon]
        }
        return MetricsRoutes.isLoopback(String(host)) || allowed.contains(String(host))
    }
}
