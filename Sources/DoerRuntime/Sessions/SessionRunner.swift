public import DoerAgent
public import DoerCore
import DoerStore
import DoerModels
import DoerSandbox
import DoerTelemetry
public import Foundation

/// Runs the agent as a session: every event is written to the session store, then to the
/// audit trail, and only then handed to the frontend — so what anyone was shown is on
/// record even if the process dies next. The terminal, the server and the MCP server all
/// run sessions through here.
public struct SessionRunner: Sendable {
    public let runtime: Runtime

    public init(runtime: Runtime) {
        self.runtime = runtime
    }

    /// Runs `task` on `workspace` as session `session`; returns the run's summary (nil when
    /// it ended without one, e.g. cancelled before it started). A store that cannot record
    /// an event ends the run: an unrecorded event must not be shown or acted on.
    ///
    /// - Parameters:
    ///   - actor: who the audit records name (the server's user); the configured user otherwise.
    ///   - deliver: gets each event after it is recorded.
    @discardableResult
    public func run(task: String, workspace: URL, session: String, resume: ResumePoint? = nil, settings: AgentRunSettings,
                    approvals: any ApprovalHandler, actor: String? = nil,
                    deliver: @Sendable (SessionEvent) async -> Void) async throws(DoerError) -> RunSummary? {
        try runtime.checkWorkspace(workspace)
        let agent = try runtime.agent(settings, approvals: approvals)
        let recorder = runtime.recorder(actor: actor, session: session, workspace: workspace)
        var observer = runtime.telemetry.observeSession(session, backend: runtime.sandbox.kind, provider: runtime.model.name)
        // The agent's tasks start under the session's span, so its model calls and
        // sandboxed runs are traced as the session's.
        let events = observer.withContext {
            agent.run(task: task, workspace: workspace, resumingFrom: resume)
        }
        var summary: RunSummary?
        do {
            for await event in events {
                try runtime.store.append(event, to: session)
                // A failed audit write must not stop the run: the session's own events hold it.
                try? recorder.record(event)
                observer.record(event)
                await deliver(.agent(event))
                if case .done(let done) = event { summary = done }
            }
        } catch {
            observer.finish(outcome: "error")
            throw error
        }
        observer.finish(outcome: summary == nil ? RunSummary.Outcome.cancelled.rawValue : summary!.outcome.rawValue)
        return summary
    }
}
