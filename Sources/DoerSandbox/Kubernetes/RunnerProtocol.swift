import DoerCore
import Foundation

/// What travels between Doer and doer-sandbox-runner in a sandbox pod, as JSON: one
/// `POST /run` with the command and the whole workspace, answered with the run's
/// `ExecutionResult` and the workspace entries the run added, changed or deleted.
struct RunnerRequest: Codable, Sendable {
    var command: [String]
    var environment: [String: String]
    var workingSubdirectory: String
    var stdin: Data
    var limits: ResourceLimits
    var files: [RunnerFile]
}

struct RunnerResponse: Codable, Sendable {
    var result: ExecutionResult
    /// Added and modified entries as the run left them.
    var changed: [RunnerFile]
    /// Paths the run deleted (a deleted folder is named once, not its contents).
    var deleted: [String]
}

/// One workspace entry: a folder, a regular file with its bytes, or a symbolic link with its
/// target (never followed). Modes carry permission bits only.
struct RunnerFile: Codable, Sendable, Hashable {
    enum Kind: String, Codable, Sendable { case file, directory, symlink }
    var path: String
    var kind: Kind
    var mode: UInt32
    var data: Data?
    var target: String?
}
