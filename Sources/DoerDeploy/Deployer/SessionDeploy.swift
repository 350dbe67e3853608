public import DoerCore
public import DoerStore
import Foundation

extension DeployRequest {
    /// A deploy of a recorded session: its workspace, its task and its (latest) plan, which
    /// the commit message is written from.
    public init(session record: SessionRecord, history: SessionHistory) {
        self.init(workspace: URL(fileURLWithPath: record.workspace, isDirectory: true), session: record.id, task: record.task)
        plan = history.plan
    }
}
