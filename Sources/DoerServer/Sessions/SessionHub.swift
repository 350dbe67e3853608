import DoerAgent
public import DoerCore
import DoerRuntime
import DoerStore
import Foundation

/// One stored event with its sequence number (1, 2, 3… per session), the SSE event id.
public struct SequencedEvent: Sendable {
    public var seq: Int
    public var event: SessionEvent
}

/// The live side of sessions: the run in progress of each session, the clients following
/// its events, and the approvals waiting for a person.
///
/// Every event is written to the `SessionStore` before it is published, so a client that
/// subscribes and then reads the stored events misses none (it drops duplicates by `seq`).
///
/// On SQLite (one process) events go from the run to the followers in memory. On
/// PostgreSQL any number of `doer serve` replicas share the work (`replicas`): a run is
/// queued in the database and executed by whichever replica claims it, approvals are rows
/// any replica may answer, and followers are woken (by NOTIFY from whichever replica
/// appended, by this replica's own runs, or by the poll) to read the table after the last
/// event they sent.
public actor SessionHub {
    enum Item: Sendable {
        case event(SequencedEvent)
        /// Something may be new in the session's stored events: read them (replicas).
        case wake
        case ping
    }

    /// The shared run queue, when several replicas share a PostgreSQL store.
    struct Replicas: Sendable {
        let queue: PostgresRunQueue
        let settings: ReplicaSettings
    }

    private struct PendingApproval {
        var request: ApprovalRequest
        var continuation: CheckedContinuation<String?, Never>
    }

    let runtime: Runtime
    var store: SessionStore { runtime.store }
    /// What each session run asks of the agent; approvals always wait for a person.
    let settings: AgentRunSettings
    let approvalTimeout: Duration
    let replicas: Replicas?
    /// Runs one user may have queued or under way at once (`ServerOptions.maxRunsPerUser`).
    let maxRunsPerUser: Int
    private var runs: [String: Task<Void, Never>] = [:]
    /// Who started each run under way here, by session.
    private var runUsers: [String: String] = [:]
    /// Replicas: the queue's id of each run this replica executes, by session.
    private var runIDs: [String: String] = [:]
    private var lastSeq: [String: Int] = [:]
    private var subscribers: [String: [UUID: AsyncStream<Item>.Continuation]] = [:]
    private var pending: [String: [String: PendingApproval]] = [:]

    init(runtime: Runtime, settings: AgentRunSettings, approvalTimeout: Duration, replicas: Replicas? = nil, maxRunsPerUser: Int = 4) {
        self.runtime = runtime
        self.maxRunsPerUser = maxRunsPerUser
        self.settings = settings
        self.approvalTimeout = approvalTimeout
        self.replicas = replicas
    }

    /// Whether the session has a run (on any replica), queued or under way.
    public func isRunning(_ sessionID: String) -> Bool {
        if runs[sessionID] != nil { return true }
        guard let replicas else { return false }
        return (try? replicas.queue.isActive(sessionID: sessionID)) ?? false
    }

    /// The approvals waiting for a person (asked on any replica).
    public func pendingApprovals(_ sessionID: String) -> [ApprovalRequest] {
        guard let replicas else { return (pending[sessionID] ?? [:]).values.map(\.request).sorted { $0.id < $1.id } }
        return ((try? replicas.queue.openApprovals(sessionID: sessionID)) ?? [])
            .compactMap { try? JSONDecoder().decode(ApprovalRequest.self, from: Data($0.utf8)) }
    }

    /// Starts an agent run of `task` on the session's workspace, recorded in the session and
    /// the audit trail with `user` as its actor. A follow-up message on a session is told
    /// what the session's earlier runs did, as `doer chat` tells its messages. Fails while
    /// one is running.
    func start(sessionID: String, task: String, workspace: URL, user: String) throws(ServerError) {
        guard !isRunning(sessionID) else {
            throw .conflict("session \(sessionID) is already running; wait for it to finish or cancel it")
        }
        try checkRoom(for: user)
        let fullTask = try prepare(sessionID: sessionID, task: task, workspace: workspace)
        guard let replicas else {
            launch(sessionID: sessionID, task: fullTask, workspace: workspace, user: user)
            return
        }
        let queued: String?
        do {
            queued = try replicas.queue.enqueue(sessionID: sessionID, task: fullTask, workspace: workspace.path, actor: user,
                                                by: replicas.settings.replicaID)
        } catch {
            throw .unavailable("cannot queue the run: \(error)")
        }
        guard queued != nil else {
            throw .conflict("session \(sessionID) is already running; wait for it to finish or cancel it")
        }
        // This replica takes it at once when it has room; otherwise another one will.
        pump()
    }

    /// Throws when `user` has as many runs queued or under way as one user may. One token must
    /// not hold every sandbox and the model: twenty sessions started at once each kept a
    /// workspace copy and a run (waiting for an approval, up to its timeout).
    func checkRoom(for user: String) throws(ServerError) {
        let under = replicas.map { (try? $0.queue.activeRuns(actor: user)) ?? 0 } ?? runUsers.values.filter { $0 == user }.count
        guard under < maxRunsPerUser else {
            throw .tooManyRequests("\(user) has \(under) run(s) under way, as many as one user may (--max-runs-per-user \(maxRunsPerUser)); "
                + "wait for one to finish or cancel it")
        }
    }

    /// The task with what the session's earlier runs did; a session that ran before is reopened.
    private func prepare(sessionID: String, task: String, workspace: URL) throws(ServerError) -> String {
        let fullTask: String
        do {
            try runtime.agentConfiguration(settings).validate()
            try runtime.checkWorkspace(workspace)
            let record = try store.session(sessionID)
            let earlier = record.eventCount > 0 ? ConversationContext.turns(in: try SessionHistory(of: sessionID, in: store)) : []
            fullTask = ConversationContext.task(for: task, after: earlier)
            if record.eventCount > 0 { try store.reopen(sessionID) }
            lastSeq[sessionID] = record.eventCount
        } catch {
            throw .unavailable("cannot start the agent: \(error.description)")
        }
        return fullTask
    }

    /// Runs the agent here; `runID` is the queue's id of a run this replica claimed.
    private func launch(sessionID: String, task: String, workspace: URL, user: String, runID: String? = nil) {
        let runner = SessionRunner(runtime: runtime), settings = settings
        let approvals = HubApprovals(hub: self, sessionID: sessionID)
        if let runID { runIDs[sessionID] = runID }
        runUsers[sessionID] = user
        runs[sessionID] = Task {
            // Every event is stored (then audited) before it is published, so a client that
            // subscribes and then reads the stored events misses none.
            do {
                try await runner.run(task: task, workspace: workspace, session: sessionID, settings: settings,
                                     approvals: approvals, actor: user) { event in
                    await self.publish(sessionID, event)
                }
            } catch {
                // A claimed run was checked on the replica that queued it; one that cannot
                // start here says why in the session rather than vanishing.
                if runID != nil { self.recordFailure(in: sessionID, message: "the run could not start on this replica: \(error)") }
            }
            self.finished(sessionID, cancelled: Task.isCancelled)
        }
    }

    /// Puts the session's workspace back as it was before its applied change, records that
    /// in the session (and the audit trail, with `user` as the actor) and tells its followers.
    func undo(sessionID: String, user: String) throws(ServerError) -> [String] {
        guard !isRunning(sessionID) else {
            throw .conflict("session \(sessionID) is running; wait for it to finish or cancel it before undoing")
        }
        do {
            let undone = try SessionUndo(runtime: runtime).undoLatest(among: [sessionID], actor: user)
            let count = try store.session(sessionID).eventCount
            lastSeq[sessionID] = count - 1
            publish(sessionID, .undone(paths: undone.paths))
            return undone.paths
        } catch {
            throw .conflict(error.description)
        }
    }

    /// Records an event that does not come from the agent (a deploy moving on) in the
    /// session, after whatever it holds already, and sends it to the session's followers.
    func record(_ event: SessionEvent, in sessionID: String) throws(DoerError) {
        if lastSeq[sessionID] == nil { lastSeq[sessionID] = try store.session(sessionID).eventCount }
        try store.append(event, to: sessionID)
        publish(sessionID, event)
    }

    /// Stops the session's run; its pending approvals are answered no. With replicas, a
    /// queued run is dropped and a run on another replica is stopped by that replica when
    /// it next renews its lease.
    public func cancel(_ sessionID: String) -> Bool {
        if let replicas {
            switch (try? replicas.queue.cancel(sessionID: sessionID)) ?? RunCancellation.notRunning {
            case .dequeued:
                recordFailure(in: sessionID, message: "cancelled before a replica started it", outcome: .cancelled)
                return true
            case .requested:
                cancelHere(sessionID)
                return true
            case .notRunning:
                break
            }
        }
        guard runs[sessionID] != nil else { return false }
        cancelHere(sessionID)
        return true
    }

    private func cancelHere(_ sessionID: String) {
        guard let run = runs[sessionID] else { return }
        run.cancel()
        for (id, _) in pending[sessionID] ?? [:] { resolve(sessionID, approvalID: id, by: nil) }
    }

    func subscribe(_ sessionID: String) -> (UUID, AsyncStream<Item>) {
        let (stream, continuation) = AsyncStream<Item>.makeStream(bufferingPolicy: .bufferingNewest(10_000))
        let id = UUID()
        subscribers[sessionID, default: [:]][id] = continuation
        return (id, stream)
    }

    func unsubscribe(_ sessionID: String, _ id: UUID) {
        subscribers[sessionID]?.removeValue(forKey: id)?.finish()
        if subscribers[sessionID]?.isEmpty == true { subscribers[sessionID] = nil }
    }

    func ping(_ sessionID: String, _ id: UUID) {
        subscribers[sessionID]?[id]?.yield(.ping)
    }

    var subscriberCount: Int { subscribers.values.reduce(0) { $0 + $1.count } }

    var runningCount: Int { runs.count }

    /// Answers a pending approval; false when there is no such pending approval. With
    /// replicas the answer is stored first (the first answer wins) and reaches the replica
    /// running the session, which may be another one.
    public func answer(sessionID: String, approvalID: String, approvedBy: String?) -> Bool {
        if let replicas {
            guard (try? replicas.queue.answer(sessionID: sessionID, approvalID: approvalID, approvedBy: approvedBy)) == true else {
                return false
            }
            resolve(sessionID, approvalID: approvalID, by: approvedBy)
            return true
        }
        guard pending[sessionID]?[approvalID] != nil else { return false }
        resolve(sessionID, approvalID: approvalID, by: approvedBy)
        return true
    }

    /// Called by the agent (through `HubApprovals`): waits for a person, or the timeout (a no).
    func waitForApproval(sessionID: String, request: ApprovalRequest) async -> String? {
        let timeout = approvalTimeout
        if let replicas, let runID = runIDs[sessionID] {
            let json = (try? JSONEncoder().encode(request)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
            // An approval nobody could see on the other replicas must not wait: a no.
            do {
                try replicas.queue.ask(runID: runID, sessionID: sessionID, approvalID: request.id, request: json)
            } catch {
                return nil
            }
        }
        let timer = Task {
            try? await Task.sleep(for: timeout)
            if !Task.isCancelled { self.timedOut(sessionID, approvalID: request.id) }
        }
        defer { timer.cancel() }
        return await withCheckedContinuation { continuation in
            pending[sessionID, default: [:]][request.id] = PendingApproval(request: request, continuation: continuation)
        }
    }

    private func resolve(_ sessionID: String, approvalID: String, by approver: String?) {
        guard let entry = pending[sessionID]?.removeValue(forKey: approvalID) else { return }
        if pending[sessionID]?.isEmpty == true { pending[sessionID] = nil }
        entry.continuation.resume(returning: approver)
    }

    /// No answer in time is a no, unless an answer given on another replica got there first.
    private func timedOut(_ sessionID: String, approvalID: String) {
        var approver: String?
        if let replicas, let runID = runIDs[sessionID] {
            approver = (try? replicas.queue.close(runID: runID, approvalID: approvalID)) ?? nil
        }
        resolve(sessionID, approvalID: approvalID, by: approver)
    }

    private func publish(_ sessionID: String, _ event: SessionEvent) {
        if replicas != nil {
            // Followers read the table: the event is there already.
            wake(sessionID)
            return
        }
        let seq = (lastSeq[sessionID] ?? 0) + 1
        lastSeq[sessionID] = seq
        for continuation in (subscribers[sessionID] ?? [:]).values {
            continuation.yield(.event(SequencedEvent(seq: seq, event: event)))
        }
    }

    private func finished(_ sessionID: String, cancelled: Bool) {
        runs[sessionID] = nil
        runUsers[sessionID] = nil
        for (id, _) in pending[sessionID] ?? [:] { resolve(sessionID, approvalID: id, by: nil) }
        if let replicas, let runID = runIDs.removeValue(forKey: sessionID) {
            _ = try? replicas.queue.finish(runID: runID, by: replicas.settings.replicaID, cancelled: cancelled)
            // Room for another queued run.
            pump()
        }
    }

    /// Tells this replica's followers of the session to read what is new in the table.
    func wake(_ sessionID: String) {
        for continuation in (subscribers[sessionID] ?? [:]).values { continuation.yield(.wake) }
    }

    /// Wakes every follower: after a reconnection, or at the poll, in case a notification was lost.
    func wakeAll() {
        for followers in subscribers.values {
            for continuation in followers.values { continuation.yield(.wake) }
        }
    }

    /// Replicas: renews the leases of this replica's runs (stopping those someone cancelled,
    /// or that another replica declared failed), marks failed the runs whose replica stopped
    /// renewing, claims queued runs while there is room, and delivers answers given on other
    /// replicas. Called at each notification and at `ReplicaSettings.tickSeconds`.
    func pump() {
        guard let replicas else { return }
        let me = replicas.settings.replicaID, lease = replicas.settings.leaseSeconds
        for (sessionID, runID) in runIDs {
            switch try? replicas.queue.renew(runID: runID, by: me, leaseSeconds: lease) {
            case .held(let cancelRequested)?:
                if cancelRequested { cancelHere(sessionID) }
            case .lost?:
                // Marked failed by another replica: whatever it does from here is not wanted.
                cancelHere(sessionID)
            case nil:
                break   // the database did not answer; the next tick tries again
            }
        }
        for run in (try? replicas.queue.failExpired()) ?? [] {
            recordFailure(in: run.sessionID, message: "the run failed: \(run.reason)")
        }
        while runs.count < replicas.settings.maxRuns, let claimed = try? replicas.queue.claim(by: me, leaseSeconds: lease) {
            launch(sessionID: claimed.sessionID, task: claimed.task, workspace: URL(fileURLWithPath: claimed.workspace, isDirectory: true),
                   user: claimed.actor, runID: claimed.id)
        }
        for (sessionID, waiting) in pending {
            guard let runID = runIDs[sessionID] else { continue }
            for approvalID in waiting.keys {
                if let approver = try? replicas.queue.answerOf(runID: runID, approvalID: approvalID) {
                    resolve(sessionID, approvalID: approvalID, by: approver)
                }
            }
        }
    }

    /// Ends the session's record of a run that did not end by itself (its replica died, it
    /// was cancelled while queued): a `done` event saying why, in the session and the audit trail.
    private func recordFailure(in sessionID: String, message: String, outcome: RunSummary.Outcome = .error) {
        let summary = RunSummary(outcome: outcome, winner: nil, iterations: 0, changedFiles: [], applied: false, diff: "",
                                 usage: TokenUsage(), durationMs: 0, message: message)
        guard (try? store.append(AgentEvent.done(summary), to: sessionID)) != nil else { return }
        try? runtime.recorder(session: sessionID).record(AgentEvent.done(summary))
        publish(sessionID, .agent(.done(summary)))
    }

    /// Waits until the session's run (if any) has ended. For tests and shutdown.
    public func waitUntilIdle(_ sessionID: String) async {
        await runs[sessionID]?.value
    }
}

/// The agent's approval handler for server sessions: the answer comes from a person through
/// the API (`POST …/approvals/{id}`), never from the model; no answer in time is a no.
struct HubApprovals: ApprovalHandler {
    let hub: SessionHub
    let sessionID: String

    func decide(_ request: ApprovalRequest) async -> String? {
        await withTaskCancellationHandler {
            await hub.waitForApproval(sessionID: sessionID, request: request)
        } onCancel: {
            Task { _ = await hub.answer(sessionID: sessionID, approvalID: request.id, approvedBy: nil) }
        }
    }
}
