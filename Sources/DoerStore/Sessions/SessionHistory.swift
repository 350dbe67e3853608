public import DoerCore

/// A recorded session read back: the one place that knows what a session's events mean
/// together — what it still has applied, what an undo would put back, how far its runs got,
/// what its deploys did. Resuming, undo, deploys, follow-up messages and `doer sessions`
/// all ask here rather than walking the events themselves.
public struct SessionHistory: Sendable {
    /// One agent run of the session: its request as the person wrote it, and how it ended
    /// (nil when it was interrupted).
    public struct Run: Sendable, Hashable {
        public var task: String
        public var summary: RunSummary?
    }

    public let events: [SessionEvent]

    public init(events: [SessionEvent]) {
        self.events = events
    }

    /// The history of `session` as `store` holds it.
    public init(of session: String, in store: SessionStore) throws(DoerError) {
        self.init(events: try store.events(of: session))
    }

    public var agentEvents: [AgentEvent] { events.compactMap(\.agentEvent) }

    /// The session's runs, oldest first.
    public var runs: [Run] {
        var runs: [Run] = []
        for case .agent(let event) in events {
            switch event {
            case .started(let task, _, _): runs.append(Run(task: task, summary: nil))
            case .done(let summary): if !runs.isEmpty { runs[runs.count - 1].summary = summary }
            default: continue
            }
        }
        return runs
    }

    /// The latest plan, which a deploy's commit message is written from.
    public var plan: Plan? {
        var plan: Plan?
        for case .agent(.plan(let written)) in events { plan = written }
        return plan
    }

    /// What the session changed in its workspace and still has: the files of every applied
    /// change, less those an undo put back. Sorted by path; empty when nothing applied stays.
    public var appliedChanges: [FileChange] {
        var files: [String: FileChange.Kind] = [:]
        for event in events {
            switch event {
            case .agent(.changesApplied(let changed)):
                for change in changed {
                    // A file added and then modified is still new to the branch it goes on.
                    files[change.path] = files[change.path] == .added && change.kind == .modified ? .added : change.kind
                }
            case .undone(let paths):
                for path in paths { files[path] = nil }
            default:
                continue
            }
        }
        return files.map { FileChange(path: $0.key, kind: $0.value) }.sorted { $0.path < $1.path }
    }

    /// Whether the latest applied change is still in the workspace (not undone since).
    public var isApplied: Bool {
        var applied = false
        for event in events {
            switch event {
            case .agent(.changesApplied): applied = true
            case .undone: applied = false
            default: continue
            }
        }
        return applied
    }

    /// The undo point an undo would restore: the latest one recorded, unless an undo used it.
    public var pendingUndo: WorkspaceBackup? {
        var backup: WorkspaceBackup?
        for event in events {
            switch event {
            case .agent(.undoPoint(let point)): backup = point
            case .undone: backup = nil
            default: continue
            }
        }
        return backup
    }

    /// The change the session last put to a person or ended with: the diff awaiting approval,
    /// or a finished run's (with whether it was applied). Nil when no run changed anything.
    public var latestChange: (diff: String, files: [FileChange], applied: Bool)? {
        var latest: (diff: String, files: [FileChange], applied: Bool)?
        for case .agent(let event) in events {
            switch event {
            case .approvalRequested(let request):
                latest = (request.diff, request.files, false)
            case .done(let summary) where !summary.diff.isEmpty:
                latest = (summary.diff, summary.changedFiles, summary.applied)
            default:
                continue
            }
        }
        return latest
    }

    /// Each deploy's latest recorded state, in the order the deploys started.
    public var deploys: [DeployProgress] {
        var order: [String] = []
        var latest: [String: DeployProgress] = [:]
        for case .deploy(let progress) in events {
            if latest[progress.id] == nil { order.append(progress.id) }
            latest[progress.id] = progress
        }
        return order.compactMap { latest[$0] }
    }

    /// How far the session's runs got, for a resumed run to continue from.
    public var resumePoint: ResumePoint {
        var point = ResumePoint(events: agentEvents)
        point.applied = isApplied
        return point
    }
}
