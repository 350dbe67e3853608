public import DoerCore
import Foundation

/// The message of the commit a deploy makes: a subject from the task (or the person's own
/// message), the plan as the body, and trailers naming the session and the approver.
public struct CommitMessage: Sendable, Hashable {
    public var subject: String
    public var body: [String]
    public var trailers: [(String, String)]

    public static func == (a: CommitMessage, b: CommitMessage) -> Bool { a.text == b.text }
    public func hash(into hasher: inout Hasher) { hasher.combine(text) }

    public init(message: String?, task: String?, plan: Plan?, session: String?, approvedBy: String?) {
        let firstLine = (message ?? task ?? "").split(separator: "\n").first.map(String.init)?
            .trimmingCharacters(in: .whitespaces) ?? ""
        var subject = firstLine.isEmpty ? "Changes shipped with doer" : firstLine
        if subject.count > 72 { subject = String(subject.prefix(71)) + "…" }
        self.subject = subject
        var body: [String] = []
        if let message, message.contains("\n") {
            body.append(contentsOf: message.split(separator: "\n", omittingEmptySubsequences: false).dropFirst().map(String.init))
        }
        if let plan, !plan.steps.isEmpty {
            if !body.isEmpty { body.append("") }
            body.append("Plan:")
            body.append(contentsOf: plan.steps.map { "- \($0)" })
            if !plan.testStrategy.isEmpty { body.append(""); body.append("Tests: \(plan.testStrategy)") }
        }
        self.body = body
        var trailers: [(String, String)] = []
        if let session { trailers.append(("Doer-Session", session)) }
        if let approvedBy { trailers.append(("Doer-Approved-By", approvedBy)) }
        self.trailers = trailers
    }

    public var text: String {
        var parts = [subject]
        let trimmedBody = body.drop { $0.isEmpty }
        if !trimmedBody.isEmpty { parts.append(trimmedBody.joined(separator: "\n")) }
        if !trailers.isEmpty { parts.append(trailers.map { "\($0.0): \($0.1)" }.joined(separator: "\n")) }
        return parts.joined(separator: "\n\n") + "\n"
    }
}
