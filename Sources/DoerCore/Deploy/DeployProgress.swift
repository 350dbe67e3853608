import Foundation

/// Where one deploy started from the HTTP API stands: recorded in its session as a
/// `.deploy` event each time it changes, so followers of the session's events see it move
/// and a reconnecting client (or a restarted server) reads its last known state back.
public struct DeployProgress: Sendable, Hashable, Codable {
    public enum State: String, Sendable, Hashable, Codable {
        /// The change is being put on a checkout of the remote; the summary is not ready yet.
        case preparing
        /// The summary is ready and a person must answer.
        case awaitingApproval = "awaiting_approval"
        /// A person said no, or nobody answered in time: nothing was pushed.
        case denied
        /// Approved: committing, pushing, opening the pull request, starting CI.
        case deploying
        /// Pushed; CI is running and being polled.
        case ciRunning = "ci_running"
        /// Pushed, and CI (if any) succeeded.
        case succeeded
        /// A step failed, or CI finished without success.
        case failed
        /// CI had not finished when Doer stopped watching it (`deploy.ci_wait`).
        case ciUnfinished = "ci_unfinished"
        /// The server stopped while the deploy was under way.
        case interrupted

        public var isFinal: Bool {
            switch self {
            case .preparing, .awaitingApproval, .deploying, .ciRunning: false
            case .denied, .succeeded, .failed, .ciUnfinished, .interrupted: true
            }
        }
    }

    /// The pull request (GitHub) or merge request (GitLab) opened for the pushed branch.
    public struct Review: Sendable, Hashable, Codable {
        public var kind: String
        public var number: Int
        public var url: String

        public init(kind: String, number: Int, url: String) {
            self.kind = kind
            self.number = number
            self.url = url
        }
    }

    public var id: String
    public var session: String
    public var requestedBy: String
    /// The CI target asked for (github, gitlab, webhook), nil to push (and open a review) only.
    public var target: String?
    public var openPullRequest: Bool
    /// The branch asked for, then the branch pushed.
    public var branch: String?
    public var message: String?
    public var state: State
    /// What the person is asked to approve: files, branch, remote, pull request, CI.
    public var summary: String?
    public var approval: ApprovalDecision?
    public var commit: String?
    /// The remote pushed to, credentials masked.
    public var remote: String?
    public var pushed: Bool
    public var pullRequest: Review?
    public var ci: CIRun?
    public var error: String?
    /// ISO 8601, UTC.
    public var createdAt: String
    public var updatedAt: String

    public init(id: String, session: String, requestedBy: String, target: String?, openPullRequest: Bool, branch: String?,
                message: String?, createdAt: Date = Date()) {
        self.id = id
        self.session = session
        self.requestedBy = requestedBy
        self.target = target
        self.openPullRequest = openPullRequest
        self.branch = branch
        self.message = message
        state = .preparing
        pushed = false
        let now = Self.timestamp(createdAt)
        self.createdAt = now
        updatedAt = now
    }

    public static func timestamp(_ date: Date = Date()) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }

    enum CodingKeys: String, CodingKey {
        case id, session, target, branch, message, state, summary, approval, commit, remote, pushed, ci, error
        case requestedBy = "requested_by"
        case openPullRequest = "open_pull_request"
        case pullRequest = "pull_request"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }
}
