import Crypto
public import DoerCore
public import DoerStore
public import Foundation

/// What `doer deploy` was asked to do.
public struct DeployRequest: Sendable {
    public var workspace: URL
    public var remote: String?
    public var branch: String?
    public var pullRequest: Bool
    public var ci: String?
    public var session: String?
    /// From the session, when there is one: the commit message is written from them.
    public var task: String?
    public var plan: Plan?
    public var message: String?

    public init(workspace: URL, remote: String? = nil, branch: String? = nil, pullRequest: Bool = false, ci: String? = nil,
                session: String? = nil, task: String? = nil, plan: Plan? = nil, message: String? = nil) {
        self.workspace = workspace
        self.remote = remote
        self.branch = branch
        self.pullRequest = pullRequest
        self.ci = ci
        self.session = session
        self.task = task
        self.plan = plan
        self.message = message
    }
}

/// What a deploy did.
public struct DeployReport: Sendable {
    public var branch: String
    public var remote: String
    public var commit: String
    /// False when there was nothing new to commit and the branch's head was pushed as it was.
    public var committed: Bool
    public var pullRequest: GitHubClient.PullRequest?
    public var ciRun: CIRun?
    public var ciTarget: (any DeployTarget)?
}

/// A step of a deploy that has happened, for frontends that show progress as it goes
/// (the HTTP API turns each into a session event).
public enum DeployStep: Sendable {
    case decided(ApprovalDecision)
    case committed(sha: String, files: Int)
    case pushed(branch: String, remote: String, commit: String)
    /// noun: "pull request" or "merge request".
    case reviewOpened(GitHubClient.PullRequest, noun: String)
    case ciStarted(CIRun)
    case ciStatus(CIRun)
}

/// Ships a workspace: approval first, then branch, commit, push, pull request, CI.
/// Every decision and effect goes to the audit trail as it happens; a failure is recorded
/// as a failure, never as the effect it did not have.
public struct Deployer: Sendable {
    public var settings: DeploySettings
    public var audit: AuditLog
    public var actor: String
    public var approver: any DeployApprover
    public var environment: [String: String]
    /// Progress lines for the person watching.
    public var progress: @Sendable (String) -> Void
    /// Each step as it happens, in order.
    public var steps: @Sendable (DeployStep) -> Void = { _ in }

    public init(settings: DeploySettings, audit: AuditLog, actor: String, approver: any DeployApprover,
                environment: [String: String] = ProcessInfo.processInfo.environment,
                progress: @escaping @Sendable (String) -> Void = { _ in }) {
        self.settings = settings
        self.audit = audit
        self.actor = actor
        self.approver = approver
        self.environment = environment
        self.progress = progress
    }

    public func deploy(_ request: DeployRequest) async throws -> DeployReport {
        let repository = try await GitRepository(directory: request.workspace)
        let remote = request.remote ?? settings.remote
        let branch = try await chooseBranch(request, repository: repository)
        let session = request.session
        if settings.isProtected(branch) && !settings.allowProtected {
            try audit.append(.deployRefused, session: session, actor: actor,
                             details: ["branch": .string(branch), "remote": .string(remote), "reason": "protected branch"])
            throw DeployError.protectedBranch(branch)
        }
        try await repository.validateBranchName(branch)
        let remoteURL = await repository.remoteURL(remote)
        // Configuration mistakes surface before anyone is asked to approve.
        let (target, review) = try resolve(ci: request.ci, pullRequest: request.pullRequest, remoteURL: remoteURL)

        let pending = try await repository.pendingChanges()
        var summary = "Deploy \(repository.root.path)\n  \(pending.count) uncommitted change(s) to commit"
        for line in PendingChangesSummary(lines: pending).rendered { summary += "\n    \(line)" }
        summary += "\n  push branch '\(branch)' to \(SecretRedactor().redact(remoteURL))"
        if let review { summary += "\n  open a \(review.noun) on \(review.repository) into \(settings.baseBranch)" }
        if let target { summary += "\n  start CI: \(target.name)" }

        let decision = await approver.approve(summary)
        var approvalDetails: AuditValue = [
            "subject": "deploy", "approved": .bool(decision.approved), "by": .string(decision.by),
            "method": .string(decision.method), "branch": .string(branch), "remote": .string(remoteURL),
            "workspace": .string(repository.root.path),
        ]
        if let reason = decision.reason, case .object(var object) = approvalDetails {
            object["reason"] = .string(reason)
            approvalDetails = .object(object)
        }
        try audit.append(.approval, session: session, actor: decision.by, details: approvalDetails)
        steps(.decided(decision))
        guard decision.approved else { throw DeployError.approvalDenied(decision.reason ?? "refused") }

        try await repository.switchToBranch(branch)
        let message = CommitMessage(message: request.message, task: request.task, plan: request.plan,
                                    session: session, approvedBy: decision.by)
        let commit: GitRepository.Commit
        var committed = false
        if let made = try await repository.commitAll(message: message.text, identity: (name: "doer", email: "doer@localhost")) {
            commit = made
            committed = true
            try audit.append(.commit, session: session, actor: decision.by, details: [
                "sha": .string(made.sha), "branch": .string(branch), "subject": .string(message.subject),
                "files": .array(made.files.map { file in fileEntry(file, root: repository.root) }),
            ])
            progress("committed \(made.sha.prefix(12)) on \(branch) (\(made.files.count) file(s))")
            steps(.committed(sha: made.sha, files: made.files.count))
        } else {
            commit = try await repository.headCommit()
            progress("nothing new to commit; pushing \(commit.sha.prefix(12))")
        }

        do {
            _ = try await repository.push(remote: remote, branch: branch)
        } catch {
            try audit.append(.push, session: session, actor: decision.by, details: [
                "remote": .string(remoteURL), "branch": .string(branch), "commit": .string(commit.sha),
                "result": "failed", "error": .string(error.description),
            ])
            throw error
        }
        try audit.append(.push, session: session, actor: decision.by, details: [
            "remote": .string(remoteURL), "branch": .string(branch), "commit": .string(commit.sha), "result": "pushed",
        ])
        progress("pushed \(branch) to \(SecretRedactor().redact(remoteURL))")
        steps(.pushed(branch: branch, remote: SecretRedactor().redact(remoteURL), commit: commit.sha))

        var report = DeployReport(branch: branch, remote: remoteURL, commit: commit.sha, committed: committed,
                                  pullRequest: nil, ciRun: nil, ciTarget: target)
        if let review {
            var body = message.body.joined(separator: "\n")
            if let session { body += (body.isEmpty ? "" : "\n\n") + "Doer session: \(session)" }
            let pullRequest: GitHubClient.PullRequest
            switch review {
            case .github(let github):
                pullRequest = try await github.createPullRequest(head: branch, base: settings.baseBranch,
                                                                 title: message.subject, body: body)
            case .gitlab(let gitlab):
                pullRequest = try await gitlab.createMergeRequest(source: branch, target: settings.baseBranch,
                                                                  title: message.subject, description: body)
            }
            try audit.append(.pullRequest, session: session, actor: decision.by, details: [
                "forge": .string(review.name), "repository": .string(review.repository),
                "number": .int(Int64(pullRequest.number)),
                "url": .string(pullRequest.url), "head": .string(branch), "base": .string(settings.baseBranch),
            ])
            progress("\(review.noun) #\(pullRequest.number): \(pullRequest.url)")
            steps(.reviewOpened(pullRequest, noun: review.noun))
            report.pullRequest = pullRequest
        }
        if let target {
            let run = try await target.trigger(DeployContext(branch: branch, commit: commit.sha, session: session,
                                                             remoteURL: remoteURL))
            try audit.append(.ciTrigger, session: session, actor: decision.by, details: Self.details(run, branch: branch, commit: commit.sha, remote: remoteURL))
            progress("CI started: \(run.summary)")
            steps(.ciStarted(run))
            report.ciRun = run
        }
        return report
    }

    /// Polls a run until it finishes or `seconds` pass; the last state seen is recorded.
    public func watch(_ run: CIRun, target: any DeployTarget, session: String?, seconds: Double,
                      interval: Double = 5) async throws -> CIRun {
        var current = run
        let deadline = Date().addingTimeInterval(seconds)
        var last = ""
        while !current.finished && Date() < deadline {
            try await Task.sleep(for: .seconds(interval))
            current = try await target.status(of: current)
            if current.summary != last {
                progress("CI: \(current.summary)")
                steps(.ciStatus(current))
                last = current.summary
            }
        }
        try audit.append(.ciStatus, session: session, actor: actor, details: Self.details(current, branch: nil, commit: nil, remote: nil))
        return current
    }

    static func details(_ run: CIRun, branch: String?, commit: String?, remote: String?) -> AuditValue {
        var object: [String: AuditValue] = ["target": .string(run.target), "status": .string(run.status)]
        if let id = run.id { object["id"] = .string(id) }
        if let url = run.url { object["url"] = .string(url) }
        if let conclusion = run.conclusion { object["conclusion"] = .string(conclusion) }
        if let branch { object["branch"] = .string(branch) }
        if let commit { object["commit"] = .string(commit) }
        if let remote { object["remote"] = .string(remote) }
        return .object(object)
    }

    /// The CI run recorded by a `ci.trigger` or `ci.status` record.
    public static func run(from record: AuditRecord) -> CIRun? {
        guard let target = record.details["target"]?.stringValue, let status = record.details["status"]?.stringValue else {
            return nil
        }
        return CIRun(target: target, id: record.details["id"]?.stringValue, url: record.details["url"]?.stringValue,
                     status: status, conclusion: record.details["conclusion"]?.stringValue)
    }

    /// Where `--pr` opens its request: GitLab when a GitLab project is configured and the
    /// remote is not on GitHub, GitHub otherwise.
    enum ReviewForge: Sendable {
        case github(GitHubClient)
        case gitlab(GitLabClient)

        var name: String {
            switch self {
            case .github: "github"
            case .gitlab: "gitlab"
            }
        }
        var noun: String {
            switch self {
            case .github: "pull request"
            case .gitlab: "merge request"
            }
        }
        var repository: String {
            switch self {
            case .github(let client): client.repository
            case .gitlab(let client): client.project
            }
        }
    }

    /// Checks that the CI target and the pull request a deploy asks for are configured
    /// (names, tokens, repositories), without contacting anything; throws what is missing.
    public func checkConfiguration(ci: String?, pullRequest: Bool, remoteURL: String) throws(DeployError) {
        _ = try resolve(ci: ci, pullRequest: pullRequest, remoteURL: remoteURL)
    }

    private func resolve(ci: String?, pullRequest: Bool, remoteURL: String) throws(DeployError)
        -> (target: (any DeployTarget)?, review: ReviewForge?) {
        let target = try ci.map { name throws(DeployError) in
            try DeployTargetRegistry.make(name, settings: settings, environment: environment, remoteURL: remoteURL)
        }
        return (target, pullRequest ? try reviewForge(remoteURL: remoteURL) : nil)
    }

    private func reviewForge(remoteURL: String) throws(DeployError) -> ReviewForge {
        if settings.gitlabProject != nil && settings.githubRepository == nil
            && GitHubClient.repository(fromRemote: remoteURL) == nil {
            return .gitlab(try GitLabClient(settings: settings, environment: environment))
        }
        return .github(try GitHubClient(settings: settings, environment: environment, remoteURL: remoteURL))
    }

    private func chooseBranch(_ request: DeployRequest, repository: GitRepository) async throws -> String {
        if let branch = request.branch { return branch }
        if let session = request.session { return "doer/\(session.prefix(8))" }
        if let current = try await repository.currentBranch(), !settings.isProtected(current) { return current }
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        formatter.timeZone = TimeZone(identifier: "UTC")
        return "doer/deploy-\(formatter.string(from: Date()))"
    }

    private func fileEntry(_ file: (status: String, path: String), root: URL) -> AuditValue {
        var entry: [String: AuditValue] = ["path": .string(file.path), "status": .string(file.status)]
        // Read without following links: a folder swapped for a link is not hashed through.
        if file.status != "D", case .regular(let data, _)? = try? NoFollowFiles.read(file.path, under: root) {
            entry["sha256"] = .string(SHA256.hash(data: data).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined())
        }
        return .object(entry)
    }
}
