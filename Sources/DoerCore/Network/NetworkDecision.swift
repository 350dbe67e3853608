import Foundation

/// One decision of the egress proxy about one connection a sandboxed run asked for: the
/// record the audit trail keeps of a run's network use.
public struct NetworkDecision: Sendable, Hashable, Codable {
    public enum Verdict: String, Sendable, Codable {
        /// Connected and relayed.
        case allowed
        /// Refused by the policy or a limit; nothing left the host.
        case refused
        /// Allowed by the policy, but the destination could not be resolved or reached.
        case failed
    }

    public enum Reason: String, Sendable, Codable {
        case hostAllowed = "host-allowed"
        case anyPublicHost = "any-public-host"
        case hostNotAllowed = "host-not-allowed"
        case forbiddenAddress = "forbidden-address"
        case unresolvable
        case unreachable
        case malformedRequest = "malformed-request"
        case unsupportedRequest = "unsupported-request"
        case headerTimeout = "header-timeout"
        case connectionLimit = "connection-limit"
        case byteLimit = "byte-limit"
        case idleTimeout = "idle-timeout"
    }

    public var date: Date
    /// The host as the client named it (lowercased, no trailing dot), or "" when the
    /// request never named one.
    public var host: String
    public var port: Int
    /// `CONNECT`, or the HTTP method of a plain request.
    public var method: String
    public var verdict: Verdict
    public var reason: Reason
    /// What a person reads: why, in words.
    public var detail: String
    /// The vetted address connected to, when there was one.
    public var address: String?
    /// Bytes relayed from the sandbox to the destination and back.
    public var bytesSent: Int64
    public var bytesReceived: Int64

    public init(date: Date = Date(), host: String, port: Int, method: String, verdict: Verdict, reason: Reason,
                detail: String, address: String? = nil, bytesSent: Int64 = 0, bytesReceived: Int64 = 0) {
        self.date = date
        self.host = host
        self.port = port
        self.method = method
        self.verdict = verdict
        self.reason = reason
        self.detail = detail
        self.address = address
        self.bytesSent = bytesSent
        self.bytesReceived = bytesReceived
    }
}
