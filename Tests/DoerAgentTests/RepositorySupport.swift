import DoerCore
@testable import DoerAgent
import DoerSandbox
import Foundation
import NIOConcurrencyHelpers

/// The real sandbox, counting the runs that go through it.
final class CountingSandbox: Sandbox, @unchecked Sendable {
    let base: any Sandbox
    private let count = NIOLockedValueBox(0)
    var kind: SandboxBackendKind { base.kind }
    var runs: Int { count.withLockedValue { $0 } }

    init(_ base: any Sandbox) { self.base = base }

    func run(_ request: ExecutionRequest, observingOutput observer: OutputObserver?) async throws(DoerError) -> ExecutionResult {
        count.withLockedValue { $0 += 1 }
        return try await base.run(request, observingOutput: observer)
    }
}

enum RepositoryFixture {
    /// The jsonkit project: CPython's `json` package under another name, 61 KB in 7 files.
    static func files() throws -> [String: String] {
        let root = Bundle.module.url(forResource: "Fixtures/jsonkit-project", withExtension: nil)!
        var files: [String: String] = [:]
        let enumerator = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)!
        for case let url as URL in enumerator where !url.hasDirectoryPath {
            let path = String(url.path.dropFirst(root.path.count + 1))
            files[path] = try String(contentsOf: url, encoding: .utf8)
        }
        return files
    }

    static func sandbox() throws -> any Sandbox {
        try SandboxFactory(configuration: SandboxConfiguration(
            stagingRoot: URL(fileURLWithPath: "/tmp/doer-agent-sandbox-\(getpid())", isDirectory: true))).make()
    }

    static let staging = URL(fileURLWithPath: "/tmp/doer-agent-repo-\(getpid())", isDirectory: true)

    /// The index of a workspace, as the agent builds it (through a copy).
    static func index(_ workspace: AgentWorkspace, sandbox: any Sandbox, cache: URL? = nil) async throws -> WorkspaceIndex {
        let copy = try WorkspaceCopy(copying: workspace.url, stagingRoot: staging)
        defer { copy.discard() }
        let indexer = RepositoryIndexer(sandbox: sandbox, limits: ResourceLimits(wallClockSeconds: 30), cacheDirectory: cache)
        return await indexer.index(root: copy.directory, paths: copy.files(), workspace: workspace.url)
    }

    /// What the prompt showed before the index: the smallest text files within 12,000 characters.
    static func smallestFirst(_ copy: WorkspaceCopy, budget: Int = 12_000) -> String {
        var text = ""
        for path in copy.files() where !path.hasPrefix(".") && !path.contains("/.") && path != "AGENTS.md" {
            guard let content = copy.read(path), content.count < 8_000 else { continue }
            let block = "```file \(path)\n\(content)\(content.hasSuffix("\n") ? "" : "\n")```\n"
            if text.count + block.count > budget { break }
            text += block
        }
        return text
    }
}
