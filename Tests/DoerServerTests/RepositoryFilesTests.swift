@testable import DoerServer
import Testing

/// Files sent with a session or an execution that together make a folder git would open
/// as a repository are refused like files inside `.git`.
@Suite("HTTP API: request files never make a git repository")
struct RepositoryFilesTests {
    @Test("HEAD with refs, HEAD with commondir, objects with refs — at the top or below — are refused", arguments: [
        ["sub/HEAD", "sub/refs/heads/main", "sub/config", "app.py"],
        ["HEAD", "refs/heads/main", "config"],
        ["deep/er/wt/HEAD", "deep/er/wt/commondir"],
        ["common/objects/info/alternates", "common/refs/x", "common/config"],
        ["Sub/head", "Sub/REFS/x"],
    ])
    func refused(_ paths: [String]) {
        #expect(throws: ServerError.self) { try WorkspaceFiles.validate(paths: paths) }
    }

    @Test("ordinary projects pass, and one path at a time is still checked")
    func ordinary() throws {
        try WorkspaceFiles.validate(paths: ["app.py", "HEAD.md", "docs/refs/a.md", "model/objects/a.txt", "model/HEAD.txt"])
        #expect(throws: ServerError.self) { try WorkspaceFiles.validate(paths: ["sub/.git/config"]) }
        #expect(throws: ServerError.self) { try WorkspaceFiles.validate(paths: ["../x"]) }
    }
}
