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
public actor SessionHub {
    enum Item: Sendable {
        case event(SequencedEvent)
        case ping
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
    private var runs: [String: Task<Void, Never>] = [:]
    private var lastSeq: [String: Int] = [:]
    private var subscribers: [String: [UUID: AsyncStream<Item>.Continuation]] = [:]
    private var pending: [String: [String: PendingApproval]] = [:]

    init(runtime: Runtime, settings: AgentRunSettings, approvalTimeout: Duration) {
        self.runtime = runtime
        self.settings = settings
        self.approvalTimeout = approvalTimeout
    }

    public func isRunning(_ sessionID: String) -> Bool { runs[sessionID] != nil }

    public func pendingApprovals(_ sessionID: String) -> [ApprovalRequest] {
        (pending[sessionID] ?? [:]).values.map(\.request).sorted { $0.id < $1.id }
    }

    /// Starts an agent run of `task` on the session's workspace, recorded in the session and
    /// the audit trail with `user` as its actor. A follow-up message on a session is told
    /// what the session's earlier runs did, as `doer chat` tells its messages. Fails while
    /// one is running.
    func start(sessionID: String, task: String, workspace: URL, user: String) throws(ServerError) {
        guard runs[sessionID] == nil else {
            throw .conflict("session \(sessionID) is already running; wait for it to finish or cancel it")
        }
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
        let runner = SessionRunner(runtime: runtime), settings = settings
        let approvals = HubApprovals(hub: self, sessionID: sessionID)
        runs[sessionID] = Task {
            // Every event is stored (then audited) before it is published, so a client that
            // subscribes and then reads the stored events misses none.
            _ = try? await runner.run(task: fullTask, workspace: workspace, session: sessionID, settings: settings,
                                      approvals: approvals, actor: user) { event in
                await self.publish(sessionID, event)
            }
            self.finished(sessionID)
        }
    }

    /// Puts the session's workspace back as it was before its applied change, records that
    /// in the session (and the audit trail, with `user` as the actor) and tells its followers.
    func undo(sessionID: String, user: String) throws(ServerError) -> [String] {
        guard runs[sessionID] == nil else {
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

    /// Stops the session's run; its pending approvals are answered no.
    public func cancel(_ sessionID: String) -> Bool {
        guard let run = runs[sessionID] else { return false }
        run.cancel()
        for (id, _) in pending[sessionID] ?? [:] { resolve(sessionID, approvalID: id, by: nil) }
        return true
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

    /// Answers a pending approval; false when there is no such pending approval.
    public func answer(sessionID: String, approvalID: String, approvedBy: String?) -> Bool {
        guard pending[sessionID]?[approvalID] != nil else { return false }
        resolve(sessionID, approvalID: approvalID, by: approvedBy)
        return true
    }

    /// Called by the agent (through `HubApprovals`): waits for a person, or the timeout (a no).
    func waitForApproval(sessionID: String, request: ApprovalRequest) async -> String? {
        let timeout = approvalTimeout
        let timer = Task {
            try? await Task.sleep(for: timeout)
            if !Task.isCancelled { self.resolve(sessionID, approvalID: request.id, by: nil) }
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

    private func publish(_ sessionID: String, _ event: SessionEvent) {
        let seq = (lastSeq[sessionID] ?? 0) + 1
        lastSeq[sessionID] = seq
        for continuation in (subscribers[sessionID] ?? [:]).values {
            continuation.yield(.event(SequencedEvent(seq: seq, event: event)))
        }
    }

    private func finished(_ sessionID: String) {
        runs[sessionID] = nil
        for (id, _) in pending[sessionID] ?? [:] { resolve(sessionID, approvalID: id, by: nil) }
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
