public import DoerCore
import Foundation

/// Receives every network decision of every run as the egress proxy makes it — before the
/// run's result exists — so an audit trail can record a long download as it happens.
///
/// ```swift
/// var configuration = SandboxConfiguration()
/// configuration.networkObserver = NetworkDecisionObserver { decision in audit.append(decision) }
/// ```
public struct NetworkDecisionObserver: Sendable, Hashable {
    private let id = UUID()
    public let handle: @Sendable (NetworkDecision) -> Void

    public init(_ handle: @escaping @Sendable (NetworkDecision) -> Void) {
        self.handle = handle
    }

    public static func == (lhs: NetworkDecisionObserver, rhs: NetworkDecisionObserver) -> Bool { lhs.id == rhs.id }
    public func hash(into hasher: inout Hasher) { hasher.combine(id) }
}
