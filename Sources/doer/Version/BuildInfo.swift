/// What this build of doer is: its version, and the commit it was built from (written by
/// the BuildCommit plugin; "unknown" outside a git checkout).
enum BuildInfo {
    static let version = "0.1.0"
    static var commit: String { buildCommit }

    /// `doer --version`.
    static var versionLine: String { "doer \(version) (\(commit))" }
}
