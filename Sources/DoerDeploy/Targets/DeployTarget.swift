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

/// A triggered CI run as Doer tracks it; stored in the audit trail so that
/// `doer deploy status` can ask about it later.
public struct CIRun: Sendable, Hashable, Codable {
    public var target: String
    /// The service's id for the run, when it gives one.
    public var id: String?
    /// Where a person can look at it (or, for a webhook, where its status is polled).
    public var url: String?
    /// queued, in_progress, completed, or delivered (a webhook that reports nothing more).
    public var status: String
    /// success, failure, cancelled… once completed.
    public var conclusion: String?

    public init(target: String, id: String?, url: String?, status: String, conclusion: String?) {
        self.target = target
        self.id = id
        self.url = url
        self.status = status
        self.conclusion = conclusion
    }

    public var finished: Bool { status == "completed" || status == "delivered" || conclusion != nil }
    public var succeeded: Bool { status == "delivered" || conclusion == "success" }

    public var summary: String {
        var text = "\(target): \(status)"
        if let conclusion { text += " (\(conclusion))" }
        if let url { text += " \(url)" }
        return text
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
