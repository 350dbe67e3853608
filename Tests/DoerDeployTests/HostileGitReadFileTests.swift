import DoerDeploy
import DoerTestSupport
import Foundation
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A pipe planted where git reads a file. A writer waits on it, so a git that opens it
/// reads an empty file and goes on (the test fails instead of hanging), and the pipe
/// records that it was opened.
private final class WatchedPipe: @unchecked Sendable {
    let path: String
    private let state = Mutex<(opened: Bool, finished: Bool)>((false, false))
    private let done = DispatchSemaphore(value: 0)

    init(_ path: String) {
        self.path = path
        #expect(mkfifo(path, 0o644) == 0)
        // Each git that opens it (status, add, commit each do) gets an empty file.
        let thread = Thread { [self] in
            while true {
                let fd = open(path, O_WRONLY)
                let stop = state.withLock { state -> Bool in
                    if !state.finished { state.opened = true }
                    return state.finished
                }
                if fd >= 0 { close(fd) }
                if stop || fd < 0 { break }
            }
            done.signal()
        }
        thread.start()
    }

    /// Whether anything opened the pipe to read it; releases the writer.
    func finish() -> Bool {
        state.withLock { $0.finished = true }
        let fd = open(path, O_RDONLY | O_NONBLOCK)
        done.wait()
        if fd >= 0 { close(fd) }
        return state.withLock { $0.opened }
    }
}

@Suite("git on a repository that names a pipe where git reads a file is refused before it waits", .serialized)
struct HostileGitReadFileTests {
    @Test("a configured file git reads, or a file of the git folder, that is a pipe is refused, naming it", arguments: [
        "core.excludesFile", "core.attributesFile", "diff.orderFile", "mailmap.file", "info/exclude", "info/attributes",
        "relative core.excludesFile",
    ])
    func pipe(_ place: String) async throws {
        let fixture = try GitFixture()
        let git = fixture.work.appendingPathComponent(".git")
        let pipePath: String
        if place.hasPrefix("info/") {
            try FileManager.default.createDirectory(at: git.appendingPathComponent("info"), withIntermediateDirectories: true)
            try? FileManager.default.removeItem(at: git.appendingPathComponent(place))
            pipePath = git.appendingPathComponent(place).path
        } else if place.hasPrefix("relative ") {
            pipePath = fixture.work.appendingPathComponent("ignored.pipe").path
            try GitTrap(in: fixture.scratch.url).append("[core]\n\texcludesFile = ignored.pipe", to: git.appendingPathComponent("config"))
        } else {
            pipePath = fixture.scratch.path("read.pipe").path
            let parts = place.split(separator: ".")
            try GitTrap(in: fixture.scratch.url).append("[\(parts[0])]\n\t\(parts[1]) = \(pipePath)", to: git.appendingPathComponent("config"))
        }
        let pipe = WatchedPipe(pipePath)
        try fixture.write("x.txt", "x")
        let error = await #expect(throws: DeployError.self, "\(place)") {
            let repository = try await GitRepository(directory: fixture.work)
            _ = try await repository.pendingChanges()
            _ = try await repository.commitAll(message: "x", identity: (name: "doer", email: "doer@localhost"))
            _ = try await repository.headCommit()
        }
        #expect(error?.description.contains(pipePath) == true, "\(String(describing: error))")
        #expect(!pipe.finish(), "git opened the pipe at \(place)")
    }

    @Test("the same settings naming regular files, or missing ones, deploy as before")
    func regularFiles() async throws {
        let fixture = try GitFixture()
        let ignore = fixture.scratch.path("ignore")
        try Data("*.log\n".utf8).write(to: ignore)
        try GitTrap(in: fixture.scratch.url).append("[core]\n\texcludesFile = \(ignore.path)\n\tattributesFile = /nonexistent/attributes",
                                                   to: fixture.work.appendingPathComponent(".git/config"))
        try fixture.write("x.txt", "x")
        try fixture.write("y.log", "y")
        let repository = try await GitRepository(directory: fixture.work)
        #expect(try await repository.pendingChanges() == ["?? x.txt"])
    }
}
