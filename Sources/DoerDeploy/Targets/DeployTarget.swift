public import DoerCore
import Foundation

/// What a CI target is asked to build.
public struct DeployContext: Sendable, Hashable {
    public var branch: String
    public var commit: String
    public var session: String?
    public var remoteURL: String

    public init(branch: String, commit: String, session: String?, remoteURL: String) {
        self.branch = branch
        self.commit = commit
        self.session = session
        self.remoteURL = remoteURL
    }
}

/// Something that builds or ships a pushed commit: a CI service or a webhook.
///
/// ```swift
/// let target = try DeployTargetRegistry.make("webhook", settings: settings, environment: env)
/// var run = try await target.trigger(DeployContext(branch: "doer/fix", commit: sha, session: id, remoteURL: url))
/// run = try await target.status(of: run)
/// ```
///
/// A new target is a conformance in `Targets/` and one line in `DeployTargetRegistry`.
public protocol DeployTarget: Sendable {
    /// The name `--ci NAME` selects.
    var name: String { get }
    func trigger(_ context: DeployContext) async throws(DeployError) -> CIRun
    /// The run's current state.
    func status(of run: CIRun) async throws(DeployError) -> CIRun
}
