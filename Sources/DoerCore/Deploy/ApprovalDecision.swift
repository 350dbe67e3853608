/// A person's answer to "deploy this?".
public struct ApprovalDecision: Sendable, Hashable, Codable {
    public var approved: Bool
    /// Who answered (the configured user or $USER), or who would have.
    public var by: String
    /// How: terminal, --yes, timeout, no-terminal, http.
    public var method: String
    public var reason: String?

    public init(approved: Bool, by: String, method: String, reason: String? = nil) {
        self.approved = approved
        self.by = by
        self.method = method
        self.reason = reason
    }
}
