import Crypto
public import DoerCore
public import Foundation
import Synchronization

/// Turns what happens into audit records: the agent's event stream, sandboxed runs started
/// from the command line, and the network proxy's decisions.
///
/// ```swift
/// let recorder = AuditRecorder(log: log, actor: "ana", session: record.id)
/// for await event in agent.run(task: task, workspace: root) {
///     try store.append(event, to: record.id)
///     try recorder.record(event)
/// }
/// ```
///
/// Deltas of model text and candidate status changes are not decisions or effects and are
/// left to the session store; everything else gets one record.
public final class AuditRecorder: Sendable {
    public let log: AuditLog
    public let actor: String
    public let session: String?
    private let workspace: Mutex<URL?>

    public init(log: AuditLog, actor: String, session: String? = nil, workspace: URL? = nil) {
        self.log = log
        self.actor = actor
        self.session = session
        self.workspace = Mutex(workspace)
    }

    public func record(_ event: SessionEvent) throws(DoerError) {
        switch event {
        case .agent(let event):
            try record(event)
        case .undone(let paths):
            let root = workspace.withLock { $0 }
            try log.append(.filesRestored, session: session, actor: actor,
                           details: ["files": fileDetails(paths.map { FileChange(path: $0, kind: .modified) }, root: root)])
        case .deploy:
            // The deployer records each of its decisions and effects itself, as `doer deploy` does.
            break
        }
    }

    public func record(_ event: AgentEvent) throws(DoerError) {
        guard let (kind, details) = describe(event) else { return }
        try log.append(kind, session: session, actor: actor(for: event), details: details)
    }

    /// A run started by `doer run` or `doer sandbox`.
    /// Its network decisions (when the run had a proxy) come first, as they happened during it.
    public func recordSandboxRun(command: [String], workspace: URL, result: ExecutionResult) throws(DoerError) {
        for decision in result.networkDecisions { try record(decision) }
        try log.append(.sandboxRun, session: session, actor: actor, details: [
            "command": .array(command.map(AuditValue.string)),
            "workspace": .string(workspace.path),
            "exitCode": .int(Int64(result.termination.shellExitCode)),
            "termination": .string(Self.describe(result.termination)),
            "timedOut": .bool(result.timedOut),
            "durationMs": .int(Int64(result.durationMs.rounded())),
            "backend": .string(result.backend.rawValue),
        ])
        if result.changesApplied && !result.changedFiles.isEmpty {
            try log.append(.filesChanged, session: session, actor: actor,
                           details: ["files": fileDetails(result.changedFiles, root: workspace), "source": "sandbox"])
        }
    }

    /// A decision of the sandbox's network proxy: whether `host:port` may be reached, and why.
    public func recordNetworkDecision(host: String, port: Int, decision: String, reason: String) throws(DoerError) {
        try log.append(.network, session: session, actor: "doer", details: [
            "host": .string(host), "port": .int(Int64(port)), "decision": .string(decision), "reason": .string(reason),
        ])
    }

    /// One of the egress proxy's decisions, with what it relayed.
    public func record(_ decision: NetworkDecision) throws(DoerError) {
        var details: [String: AuditValue] = [
            "host": .string(decision.host), "port": .int(Int64(decision.port)), "decision": .string(decision.verdict.rawValue),
            "reason": .string(decision.reason.rawValue), "detail": .string(decision.detail), "method": .string(decision.method),
            "bytesSent": .int(decision.bytesSent), "bytesReceived": .int(decision.bytesReceived),
        ]
        if let address = decision.address { details["address"] = .string(address) }
        try log.append(.network, session: session, actor: "doer", details: .object(details))
    }

    private func actor(for event: AgentEvent) -> String {
        // The person who answered is the actor of an approval, never the session's owner by default.
        if case .approvalAnswered(_, let approved, let by) = event, approved, !by.isEmpty { return by }
        return actor
    }

    private func describe(_ event: AgentEvent) -> (AuditKind, AuditValue)? {
        switch event {
        case .started(let task, let workspace, let candidates):
            self.workspace.withLock { $0 = URL(fileURLWithPath: workspace, isDirectory: true) }
            return (.sessionStarted, ["task": .string(task), "workspace": .string(workspace), "candidates": .int(Int64(candidates))])
        case .plan(let plan):
            return (.plan, [
                "steps": .array(plan.steps.map(AuditValue.string)), "files": .array(plan.files.map(AuditValue.string)),
                "language": .string(plan.language), "testStrategy": .string(plan.testStrategy),
            ])
        case .action(let candidate, let action):
            switch action {
            case .writeFile(let path, let content):
                return (.action, ["candidate": .int(Int64(candidate)), "type": "write-file", "path": .string(path),
                                  "sha256": .string(Self.sha256(Data(content.utf8)))])
            case .editFile(let path, let search, let replace):
                return (.action, ["candidate": .int(Int64(candidate)), "type": "edit-file", "path": .string(path),
                                  "searchSha256": .string(Self.sha256(Data(search.utf8))),
                                  "replaceSha256": .string(Self.sha256(Data(replace.utf8)))])
            case .runCommand(let command):
                return (.action, ["candidate": .int(Int64(candidate)), "type": "run", "command": .string(command)])
            }
        case .executionFinished(let candidate, let command, let exitCode, let durationMs, _):
            return (.sandboxRun, ["candidate": .int(Int64(candidate)), "command": .string(command),
                                  "exitCode": .int(Int64(exitCode)), "durationMs": .int(Int64(durationMs.rounded()))])
        case .testReport(let candidate, let iteration, let report):
            return (.tests, ["candidate": .int(Int64(candidate)), "iteration": .int(Int64(iteration)),
                                  "command": .string(report.command),
                                  "passed": .int(Int64(report.passed)), "failed": .int(Int64(report.failed)),
                                  "succeeded": .bool(report.succeeded)])
        case .evidence(let evidence):
            var details: [String: AuditValue] = [
                "kind": .string(evidence.kind.rawValue), "verified": .bool(evidence.verified),
                "failedBefore": .array(evidence.failedBefore.map(AuditValue.string)),
                "passedAfter": .array(evidence.passedAfter.map(AuditValue.string)),
                "command": .string(evidence.command), "summary": .string(evidence.summary),
            ]
            if let before = evidence.before {
                details["before"] = ["passed": .int(Int64(before.passed)), "failed": .int(Int64(before.failed))]
            }
            return (.evidence, .object(details))
        case .approvalRequested(let request):
            return (.approvalRequested, ["id": .string(request.id), "summary": .string(request.summary),
                                         "files": .array(request.files.map { .string("\($0.kind.rawValue) \($0.path)") })])
        case .approvalAnswered(let id, let approved, let by):
            return (.approval, ["id": .string(id), "approved": .bool(approved), "by": .string(by), "subject": "apply-changes"])
        case .changesApplied(let files):
            let root = workspace.withLock { $0 }
            return (.filesChanged, ["files": fileDetails(files, root: root), "source": "agent"])
        case .done(let summary):
            return (.sessionEnded, ["outcome": .string(summary.outcome.rawValue), "applied": .bool(summary.applied),
                                    "iterations": .int(Int64(summary.iterations)), "message": .string(summary.message),
                                    "tokens": .int(Int64(summary.usage.totalTokens))])
        case .messageDelta, .executionStarted, .executionOutput, .candidateStatus, .undoPoint:
            return nil
        }
    }

    /// Each file with the SHA-256 of what it holds now (deleted files have none).
    func fileDetails(_ files: [FileChange], root: URL?) -> AuditValue {
        .array(files.map { change in
            var entry: [String: AuditValue] = ["path": .string(change.path), "change": .string(change.kind.rawValue)]
            if let root, change.kind != .deleted {
                // Never follow a link a run left behind, on the way or at the end; hash
                // regular files only.
                switch UnfollowedFile.read(change.path, under: root) {
                case .regular(let data): entry["sha256"] = .string(Self.sha256(data))
                case .link: entry["link"] = true
                case .other, .missing: break
                }
            }
            return .object(entry)
        })
    }

    static func sha256(_ data: Data) -> String {
        AuditLog.hex(SHA256.hash(data: data))
    }

    static func describe(_ termination: Termination) -> String {
        switch termination {
        case .exited(let code): return "exited \(code)"
        case .signaled(let signal): return "signal \(signal)"
        case .failedToStart(let reason): return "failed to start: \(reason)"
        }
    }
}
