import DoerCore
import DoerDeploy
import DoerStore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A scratch folder removed when the test ends.
final class Scratch: @unchecked Sendable {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("doer-deploy-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    func path(_ name: String) -> URL { url.appendingPathComponent(name) }
    deinit { try? FileManager.default.removeItem(at: url) }
}

/// Runs a shell command for test set-up (this suite runs no sandboxes, so Process is safe here).
@discardableResult
func sh(_ script: String, in directory: URL? = nil) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    process.arguments = ["-c", script]
    if let directory { process.currentDirectoryURL = directory }
    let out = Pipe()
    process.standardOutput = out
    process.standardError = out
    try process.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let text = String(decoding: data, as: UTF8.self)
    guard process.terminationStatus == 0 else {
        throw SetupError(message: "`\(script)` failed (\(process.terminationStatus)): \(text)")
    }
    return text
}

struct SetupError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// A working tree with one commit on main and a bare repository to push to.
struct GitFixture {
    let scratch: Scratch
    var work: URL { scratch.path("work") }
    var bare: URL { scratch.path("remote.git") }

    init() throws {
        scratch = try Scratch()
        try sh("""
            git init -q --bare -b main '\(bare.path)' && git init -q -b main '\(work.path)' && cd '\(work.path)' \
            && git config user.name Tester && git config user.email tester@example.com \
            && echo hello > README.md && git add README.md && git commit -q -m initial \
            && git remote add origin 'file://\(bare.path)' && git push -q origin main
            """)
    }

    func write(_ name: String, _ content: String) throws {
        try Data(content.utf8).write(to: work.appendingPathComponent(name))
    }

    /// The commit `branch` points to in the bare repository, if it exists there.
    func remoteBranch(_ branch: String) throws -> String? {
        let out = try sh("git --git-dir='\(bare.path)' for-each-ref --format='%(objectname)' 'refs/heads/\(branch)'")
        let sha = out.trimmingCharacters(in: .whitespacesAndNewlines)
        return sha.isEmpty ? nil : sha
    }
}

/// Says yes or no without a person, for the tests of what happens after the answer.
struct ScriptedApprover: DeployApprover {
    var approved: Bool
    var by = "tester"
    func approve(_ summary: String) async -> ApprovalDecision {
        ApprovalDecision(approved: approved, by: by, method: "scripted", reason: approved ? nil : "said no")
    }
}

/// A port nothing listens on right now.
func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Bool in
            bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
        }
    }
    guard bound else { throw SetupError(message: "no free port") }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// `git daemon` serving a folder of bare repositories on loopback, pushes allowed.
/// The daemon binary is started directly (not through the `git` wrapper) and stopped with
/// SIGKILL: children of the test process inherit a signal mask that blocks SIGTERM.
final class GitDaemon: @unchecked Sendable {
    let process = Process()
    let port: Int
    let base: URL

    init(base: URL) throws {
        self.base = base
        port = try freePort()
        let execPath = try sh("git --exec-path").trimmingCharacters(in: .whitespacesAndNewlines)
        process.executableURL = URL(fileURLWithPath: execPath).appendingPathComponent("git-daemon")
        process.arguments = ["--reuseaddr", "--enable=receive-pack", "--export-all", "--listen=127.0.0.1",
                             "--port=\(port)", "--base-path=\(base.path)", base.path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Ready when it answers.
        for _ in 0..<100 {
            if (try? sh("git ls-remote git://127.0.0.1:\(port)/remote.git")) != nil { return }
            usleep(100_000)
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        throw SetupError(message: "git daemon did not start on port \(port)")
    }

    func url(_ repository: String) -> String { "git://127.0.0.1:\(port)/\(repository)" }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}

func auditLog(in scratch: Scratch, key: Data? = nil) throws -> AuditLog {
    try AuditLog(path: scratch.path("doer.sqlite"), key: key)
}
