import DoerCore
import DoerDeploy
import DoerStore
import Foundation

/// Deploys of sessions' applied changes, started over the HTTP API.
///
/// A deploy is created pending; in the background the change is put on a fresh clone of
/// `deploy.remote` and the `Deployer` (the one `doer deploy` uses) builds its summary and
/// asks for approval. The answer can only come from a person through
/// `POST …/deploys/{id}/approval`; no answer within `deploy.approval_timeout` is a no, and a
/// no pushes nothing. Then the deployer commits, pushes, opens the pull request and starts
/// CI, recording each step in the audit trail, and CI is polled until it finishes or
/// `deploy.ci_wait` runs out. Every change of state goes into the session as a `.deploy`
/// event, which is how followers of the session's events see it and how it is read back.
actor DeployService {
    struct Configuration: Sendable {
        var settings: DeploySettings
        var environment: [String: String]
        /// Where the clones deploys commit in are made (each removed when its deploy ends).
        var scratchRoot: URL
        /// Seconds between two polls of a CI run.
        var pollSeconds: Double
    }

    private struct Live {
        var progress: DeployProgress
        var decision: CheckedContinuation<ApprovalDecision, Never>?
        var run: Task<Void, Never>?
        /// The clone the deploy commits in: a server folder, named in the summary as what it holds.
        var checkout: String?
    }

    let hub: SessionHub
    let store: SessionStore
    let audit: AuditLog?
    let configuration: Configuration
    private var live: [String: Live] = [:]
    /// Snapshots on their way into the session's events, in the order they were taken.
    private let outbox: AsyncStream<DeployProgress>.Continuation

    init(hub: SessionHub, store: SessionStore, audit: AuditLog?, configuration: Configuration) {
        self.hub = hub
        self.store = store
        self.audit = audit
        self.configuration = configuration
        let (stream, outbox) = AsyncStream<DeployProgress>.makeStream()
        self.outbox = outbox
        Task { [weak self] in
            for await progress in stream {
                // A failed write must not stop a deploy: the audit trail holds its steps either way.
                let recorded = (try? await hub.record(.deploy(progress), in: progress.session)) != nil
                // Once its last state is in the session's events, a finished deploy is read from there.
                if recorded && progress.state.isFinal { await self?.forget(progress) }
            }
        }
    }

    /// Lets go of a finished deploy whose last state was recorded, so a long-running server
    /// keeps only the deploys under way. One that changed since (it cannot, once final) stays.
    private func forget(_ recorded: DeployProgress) {
        guard live[recorded.id]?.progress == recorded else { return }
        live[recorded.id] = nil
    }

    /// How many deploys the service holds in memory: the ones under way.
    var liveCount: Int { live.count }

    private var settings: DeploySettings { configuration.settings }

    /// Why deploys cannot be started at all on this server, or nil when they can.
    nonisolated var unavailableReason: String? {
        if audit == nil { return "this server keeps no audit trail, and deploys are only made with one" }
        let remote = configuration.settings.remote
        if !remote.contains("/") && !remote.contains(":") {
            return "deploy.remote is '\(remote)', the name of a remote, but the server's session workspaces are not git checkouts: "
                + "set deploy.remote in config.toml to the git URL to push to (ssh, https, file or git)"
        }
        return nil
    }

    private nonisolated func makeDeployer(actor: String, approver: any DeployApprover) throws(ServerError) -> Deployer {
        guard let audit else { throw .unavailable(unavailableReason ?? "deploys are not available") }
        return Deployer(settings: configuration.settings, audit: audit, actor: actor, approver: approver,
                        environment: configuration.environment)
    }

    /// The configured targets, for the web app's form.
    nonisolated func targets() -> DeployTargetsView {
        let problem = unavailableReason
        let probe = try? makeDeployer(actor: "", approver: DenyingApprover())
        func check(ci: String?, pullRequest: Bool) -> String? {
            if let problem { return problem }
            guard let probe else { return "deploys are not available" }
            do {
                try probe.checkConfiguration(ci: ci, pullRequest: pullRequest, remoteURL: configuration.settings.remote)
                return nil
            } catch {
                return error.description
            }
        }
        let targets = DeployTargetRegistry.names.map { name in
            let reason = check(ci: name, pullRequest: false)
            return DeployTargetsView.Target(name: name, available: reason == nil, problem: reason)
        }
        let review = check(ci: nil, pullRequest: true)
        return DeployTargetsView(available: problem == nil, problem: problem,
                                 remote: SecretRedactor().redact(configuration.settings.remote),
                                 baseBranch: configuration.settings.baseBranch, targets: targets,
                                 pullRequest: .init(available: review == nil, problem: review))
    }

    /// Creates a pending deploy of the session's applied change and starts preparing it.
    func start(session record: SessionRecord, user: String, body: DeployBody) async throws(ServerError) -> DeployProgress {
        if let reason = unavailableReason { throw .unavailable(reason) }
        let target = body.target.flatMap { $0.isEmpty ? nil : $0 }
        if let target, !DeployTargetRegistry.names.contains(target) {
            throw .badRequest(DeployError.unknownTarget(target, known: DeployTargetRegistry.names).description)
        }
        let pullRequest = body.pullRequest ?? false
        do {
            try makeDeployer(actor: user, approver: DenyingApprover())
                .checkConfiguration(ci: target, pullRequest: pullRequest, remoteURL: settings.remote)
        } catch let error as ServerError {
            throw error
        } catch {
            throw .badRequest("cannot deploy with these options: \(error)")
        }
        let branch = body.branch?.trimmingCharacters(in: .whitespaces).nilIfEmpty
        if let branch {
            if settings.isProtected(branch) && !settings.allowProtected {
                throw .badRequest(DeployError.protectedBranch(branch).description)
            }
            guard !branch.hasPrefix("-"), !branch.contains(":"), !branch.contains(" "), !branch.contains("..") else {
                throw .badRequest("'\(branch)' is not a usable branch name")
            }
        }
        let history: SessionHistory
        do {
            history = try SessionHistory(of: record.id, in: store)
        } catch {
            throw .unavailable("cannot read the session's events: \(error.description)")
        }
        let changes = history.appliedChanges
        guard !changes.isEmpty else {
            throw .conflict("nothing to deploy: session \(record.id) has no applied change (approve the agent's change first)")
        }
        if await hub.isRunning(record.id) {
            throw .conflict("the agent is still working in session \(record.id); deploy when its run has ended")
        }
        if let running = live.values.first(where: { $0.progress.session == record.id && !$0.progress.state.isFinal }) {
            throw .conflict("deploy \(running.progress.id) of session \(record.id) is already under way (\(running.progress.state.rawValue)); wait for it to end")
        }

        let progress = DeployProgress(id: UUID().uuidString.lowercased(), session: record.id, requestedBy: user, target: target,
                                      openPullRequest: pullRequest, branch: branch,
                                      message: body.message?.trimmingCharacters(in: .whitespacesAndNewlines).nilIfEmpty)
        live[progress.id] = Live(progress: progress)
        do {
            try audit?.append(.note, session: record.id, actor: user, details: [
                "subject": "deploy", "event": "requested", "deploy": .string(progress.id),
                "target": target.map(AuditValue.string) ?? .null, "branch": branch.map(AuditValue.string) ?? .null,
                "pull_request": .bool(pullRequest), "files": .array(changes.map { .string("\($0.kind.rawValue) \($0.path)") }),
            ])
        } catch {
            live[progress.id] = nil
            throw .unavailable("cannot record the deploy in the audit trail: \(error.description)")
        }
        publish(progress)
        let id = progress.id
        live[id]?.run = Task { await self.run(id, record: record, history: history, changes: changes) }
        return progress
    }

    /// A person's answer to a deploy waiting for one.
    func answer(session: String, deploy id: String, approved: Bool, by user: String) async throws(ServerError) -> DeployProgress {
        guard let entry = live[id], entry.progress.session == session else {
            if (try? stored(session).contains { $0.id == id }) == true {
                throw .conflict("deploy \(id) is not waiting for an answer")
            }
            throw .notFound("no deploy \(id) in session \(session)")
        }
        guard entry.progress.state == .awaitingApproval, entry.decision != nil else {
            throw .conflict(entry.progress.state == .preparing
                ? "deploy \(id) is still being prepared; answer once its summary is shown (state awaiting_approval)"
                : "deploy \(id) is not waiting for an answer (it is \(entry.progress.state.rawValue))")
        }
        resolve(id, ApprovalDecision(approved: approved, by: user, method: "http",
                                           reason: approved ? nil : "denied by \(user)"))
        return live[id]?.progress ?? entry.progress
    }

    /// The session's deploys, oldest first: what its events recorded, brought up to date by
    /// the ones under way. One that was under way when the server stopped is `interrupted`.
    func deploys(session: String) throws(ServerError) -> [DeployProgress] {
        let recorded = try stored(session)
        let known = Set(recorded.map(\.id))
        let unrecorded = live.values.map(\.progress).filter { $0.session == session && !known.contains($0.id) }
        return recorded.map { recorded in
            if let current = live[recorded.id]?.progress { return current }
            var progress = recorded
            if !progress.state.isFinal { progress.state = .interrupted }
            return progress
        } + unrecorded.sorted { $0.createdAt < $1.createdAt }
    }

    func deploy(session: String, id: String) throws(ServerError) -> DeployProgress {
        guard let found = try deploys(session: session).first(where: { $0.id == id }) else {
            throw .notFound("no deploy \(id) in session \(session)")
        }
        return found
    }

    private func stored(_ session: String) throws(ServerError) -> [DeployProgress] {
        do {
            return try SessionHistory(of: session, in: store).deploys
        } catch {
            throw .unavailable("cannot read the session's events: \(error.description)")
        }
    }

    // The background work of one deploy.

    private func run(_ id: String, record: SessionRecord, history: SessionHistory, changes: [FileChange]) async {
        guard let progress = live[id]?.progress else { return }
        let folder = configuration.scratchRoot.appendingPathComponent(id, isDirectory: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let deployer: Deployer
        var request = DeployRequest(session: record, history: history)
        do {
            try FileManager.default.createDirectory(at: configuration.scratchRoot, withIntermediateDirectories: true)
            let checkout = try await ChangeCheckout.prepare(remote: settings.remote, baseBranch: settings.baseBranch,
                                                            workspace: request.workspace, changes: changes, into: folder)
            request.workspace = checkout.root
            live[id]?.checkout = checkout.root.path
            request.remote = settings.remote
            request.branch = progress.branch
            request.pullRequest = progress.openPullRequest
            request.ci = progress.target
            request.message = progress.message
            var made = try makeDeployer(actor: progress.requestedBy, approver: HTTPDeployApprover(service: self, deployID: id))
            let (steps, continuation) = AsyncStream<DeployStep>.makeStream()
            made.steps = { continuation.yield($0) }
            deployer = made
            let follower = Task { for await step in steps { self.apply(step, to: id) } }
            defer { continuation.finish() }

            let report: DeployReport
            do {
                report = try await deployer.deploy(request)
            } catch {
                continuation.finish()
                await follower.value
                throw error
            }
            if let run = report.ciRun, let target = report.ciTarget {
                update(id) { $0.state = .ciRunning }
                let final = try await deployer.watch(run, target: target, session: record.id, seconds: settings.ciWaitSeconds,
                                                     interval: configuration.pollSeconds)
                continuation.finish()
                await follower.value
                update(id) { progress in
                    progress.ci = final
                    progress.state = !final.finished ? .ciUnfinished : final.succeeded ? .succeeded : .failed
                    if final.finished && !final.succeeded { progress.error = "CI finished without success: \(final.summary)" }
                }
            } else {
                continuation.finish()
                await follower.value
                update(id) { $0.state = .succeeded }
            }
        } catch DeployError.approvalDenied {
            // The answer (a no, or the timeout) is recorded already; nothing was pushed.
        } catch {
            let text = (error as? DeployError)?.description ?? (error as? DoerError)?.description
                ?? (error as? ServerError)?.message ?? "\(error)"
            let reached = live[id]?.progress
            _ = try? audit?.append(reached?.approval == nil ? .deployRefused : .note, session: record.id, actor: progress.requestedBy,
                               details: ["subject": "deploy", "event": "failed", "deploy": .string(id), "reason": .string(text)])
            update(id) { progress in
                progress.state = .failed
                progress.error = text
            }
        }
    }

    private func apply(_ step: DeployStep, to id: String) {
        update(id) { progress in
            switch step {
            case .decided:
                break
            case .committed(let sha, _):
                progress.commit = sha
            case .pushed(let branch, let remote, let commit):
                progress.pushed = true
                progress.branch = branch
                progress.remote = remote
                progress.commit = commit
            case .reviewOpened(let review, let noun):
                progress.pullRequest = DeployProgress.Review(kind: noun, number: review.number, url: review.url)
            case .ciStarted(let run), .ciStatus(let run):
                progress.ci = run
                // A step still on its way must not reopen a deploy that has ended (a poll that failed).
                if !progress.state.isFinal { progress.state = .ciRunning }
            }
        }
    }

    /// Called by the deployer through `HTTPDeployApprover`: shows the summary and waits for
    /// a person, or the timeout (a no).
    func awaitDecision(_ id: String, summary: String) async -> ApprovalDecision {
        guard let requester = live[id]?.progress.requestedBy else {
            return ApprovalDecision(approved: false, by: "unknown", method: "gone", reason: "the deploy is no longer known")
        }
        let seconds = settings.approvalTimeoutSeconds
        let timer = Task {
            try? await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
            if !Task.isCancelled {
                self.resolve(id, ApprovalDecision(approved: false, by: requester, method: "timeout",
                                                        reason: "no answer within \(Int(seconds.rounded())) s"))
            }
        }
        defer { timer.cancel() }
        var shown = summary
        if let checkout = live[id]?.checkout {
            shown = shown.replacingOccurrences(of: "Deploy \(checkout)",
                                               with: "Deploy the applied change of this session, on \(settings.baseBranch) of the remote")
        }
        return await withCheckedContinuation { continuation in
            live[id]?.decision = continuation
            update(id) { progress in
                progress.state = .awaitingApproval
                progress.summary = shown
            }
        }
    }

    private func resolve(_ id: String, _ decision: ApprovalDecision) {
        guard let continuation = live[id]?.decision else { return }
        live[id]?.decision = nil
        update(id) { progress in
            progress.approval = decision
            progress.state = decision.approved ? .deploying : .denied
        }
        continuation.resume(returning: decision)
    }

    private func update(_ id: String, _ change: (inout DeployProgress) -> Void) {
        guard var progress = live[id]?.progress else { return }
        change(&progress)
        progress.updatedAt = DeployProgress.timestamp()
        live[id]?.progress = progress
        publish(progress)
    }

    /// Into the session's events, for its followers and for reading back later.
    private func publish(_ progress: DeployProgress) {
        outbox.yield(progress)
    }
}

/// The deployer's approver for deploys started over HTTP: a person answers through the API.
struct HTTPDeployApprover: DeployApprover {
    let service: DeployService
    let deployID: String

    func approve(_ summary: String) async -> ApprovalDecision {
        await service.awaitDecision(deployID, summary: summary)
    }
}

/// Stands in where a deployer is built only to check its configuration; it is never asked.
private struct DenyingApprover: DeployApprover {
    func approve(_ summary: String) async -> ApprovalDecision {
        ApprovalDecision(approved: false, by: "nobody", method: "check")
    }
}

extension String {
    fileprivate var nilIfEmpty: String? { isEmpty ? nil : self }
}
