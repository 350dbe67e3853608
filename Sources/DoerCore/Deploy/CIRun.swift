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
