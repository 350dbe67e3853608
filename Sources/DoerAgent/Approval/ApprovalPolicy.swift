public import DoerCore

/// When applying changes to the real workspace needs a person's yes (DESIGN.md).
public enum ApprovalPolicy: String, Sendable, CaseIterable {
    /// Apply without asking (the user chose this explicitly).
    case never
    /// Ask before applying (the default).
    case onRequest = "on-request"
    /// Ask before every effect outside the sandbox.
    case always
}

/// Answers approval requests. Implemented by frontends (a terminal prompt, a web button,
/// an API call with an authorised token); never by the model.
public protocol ApprovalHandler: Sendable {
    /// Returns who approved, or nil for no.
    func decide(_ request: ApprovalRequest) async -> String?
}

/// Says no to everything: the answer when nobody can be asked.
public struct DenyAllApprovals: ApprovalHandler {
    public init() {}
    public func decide(_ request: ApprovalRequest) async -> String? { nil }
}
