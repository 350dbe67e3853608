import Foundation

/// What a set of changes replaced in the real workspace, taken just before they were
/// applied, so `doer undo` can put it back: original contents of modified and deleted files,
/// and which files were added.
public struct WorkspaceBackup: Sendable, Hashable, Codable {
    public struct Entry: Sendable, Hashable, Codable {
        public var path: String
        /// nil: the file did not exist before (it was added), so undo removes it.
        public var original: Data?
        public var mode: UInt32?

        public init(path: String, original: Data?, mode: UInt32?) {
            self.path = path
            self.original = original
            self.mode = mode
        }
    }

    public var workspace: String
    public var entries: [Entry]

    public init(workspace: String, entries: [Entry]) {
        self.workspace = workspace
        self.entries = entries
    }
}
