public import DoerCore
public import DoerStore
import Foundation

extension DeployRequest {
    /// A deploy of a recorded session: its workspace, its task and its (latest) plan, which
    /// the commit message is written from.
    public init(session record: SessionRecord, events: [AgentEvent]) {
        self.init(workspace: URL(fileURLWithPath: record.workspace, isDirectory: true), session: record.id, task: record.task)
        for case .plan(let plan) in events { self.plan = plan }
    }
}

/// What a session changed in its workspace and still has: the files of every applied
/// change, less those `doer undo` put back. Sorted by path; empty when nothing applied stays.
public func appliedChanges(in events: [AgentEvent]) -> [FileChange] {
    var files: [String: FileChange.Kind] = [:]
    for event in events {
        switch event {
        case .changesApplied(let changed):
            for change in changed {
                // A file added and then modified is still new to the branch it goes on.
                files[change.path] = files[change.path] == .added && change.kind == .modified ? .added : change.kind
            }
        case .undone(let paths):
            for path in paths { files[path] = nil }
        default:
            break
        }
    }
    return files.map { FileChange(path: $0.key, kind: $0.value) }.sorted { $0.path < $1.path }
}
