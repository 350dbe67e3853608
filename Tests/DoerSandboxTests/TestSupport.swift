import DoerCore
@testable import DoerSandbox
import Foundation

/// A scratch workspace folder, removed when the test's value goes away.
final class ScratchWorkspace: @unchecked Sendable {
    let url: URL

    init(files: [String: String] = [:]) throws {
        url = URL(fileURLWithPath: NSTemporaryDirectory())
            .appendingPathComponent("doer-test-\(UUID().uuidString.prefix(8))", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        for (path, content) in files { try write(path, content) }
    }

    func write(_ path: String, _ content: String) throws {
        let file = url.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(content.utf8).write(to: file)
    }

    func read(_ path: String) -> String? {
        try? String(contentsOf: url.appendingPathComponent(path), encoding: .utf8)
    }

    func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(url.appendingPathComponent(path).path, &info) == 0
    }

    // Not FileManager: a tree nested past PATH_MAX (DeepTreeTests) defeats its removal.
    deinit {
        let parent = open(url.deletingLastPathComponent().path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard parent >= 0 else { return }
        TreeRemoval.remove(url.lastPathComponent, in: parent)
        close(parent)
    }
}

enum TestSandboxes {
    /// Each test process gets its own staging folder, so parallel test runs never share one.
    static let configuration = SandboxConfiguration(
        stagingRoot: URL(fileURLWithPath: "/tmp/doer-test-staging-\(getpid())", isDirectory: true))

    static func make(_ kind: SandboxBackendKind = .bubblewrap, pool: Int = 0, unsafe: Bool = false) throws -> any Sandbox {
        var configuration = configuration
        configuration.warmPoolSize = pool
        configuration.allowUnsafeProcessBackend = unsafe
        if kind == .process {
            // No user namespace of its own: its process limit counts every process of its uid
            // on the host, where the other tests' sandboxes run as 65534.
            configuration.unprivilegedUID = 65533
            configuration.unprivilegedGID = 65533
        }
        return try SandboxFactory(configuration: configuration).make(kind)
    }

    /// Runs a shell script in a fresh bubblewrap sandbox.
    static func sh(_ script: String, in workspace: ScratchWorkspace, limits: ResourceLimits = ResourceLimits(wallClockSeconds: 20),
                   mode: SandboxMode = .workspaceWrite, stdin: Data = Data(), kind: SandboxBackendKind = .bubblewrap,
                   network: NetworkPolicy = .none) async throws -> ExecutionResult {
        try await make(kind).run(ExecutionRequest(command: ["sh", "-c", script], workspace: workspace.url,
                                                  stdin: stdin, limits: limits, mode: mode, network: network))
    }

    static var gvisorWorks: Bool {
        geteuid() == 0 && access("/usr/bin/runsc", X_OK) == 0
    }
}
