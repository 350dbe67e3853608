import DoerCore
import DoerSandbox
import Foundation

/// What a candidate knows of the repository: the index of the workspace as the run began,
/// refreshed on the candidate's copy when files change (only those are read again), and
/// what the request points at. It renders each turn's files and answers the model's lookups.
final class RepositoryContext: Sendable {
    let indexer: RepositoryIndexer
    let workspace: URL
    let focus: RequestFocus
    /// The index as the run began (each copy's is computed from it, never stored back).
    let index: WorkspaceIndex

    init(indexer: RepositoryIndexer, workspace: URL, focus: RequestFocus, index: WorkspaceIndex) {
        self.indexer = indexer
        self.workspace = workspace
        self.focus = focus
        self.index = index
    }

    /// Indexes the workspace (through its first copy, whose files keep their stamps).
    static func build(task: String, workspace: URL, copy: WorkspaceCopy, sandbox: any Sandbox,
                      configuration: AgentConfiguration) async -> RepositoryContext {
        let indexer = RepositoryIndexer(sandbox: sandbox, limits: configuration.limits,
                                        cacheDirectory: configuration.stagingRoot.appendingPathComponent("index-cache", isDirectory: true))
        let index = await indexer.index(root: copy.directory, paths: copy.files(), workspace: workspace)
        return RepositoryContext(indexer: indexer, workspace: workspace, focus: RequestFocus(task: task), index: index)
    }

    /// The one file, not a test, that defines what the request names most strongly
    /// (`ordinal` → `inflection/__init__.py`); nil when none does or two tie.
    var focusFile: String? {
        let scored = index.files.compactMap { path, file -> (path: String, score: Double)? in
            guard !TestStrategy.isPythonTest(path) else { return nil }
            let score = file.definitions.map { focus.terms[$0.name] ?? 0 }.max() ?? 0
            return score > 0 ? (path, score) : nil
        }.sorted { $0.score > $1.score }
        guard let best = scored.first, scored.count == 1 || scored[1].score < best.score else { return nil }
        return best.path
    }

    /// The index as `copy` is now.
    func index(of copy: WorkspaceCopy) async -> WorkspaceIndex {
        let current = index
        let refreshed = await indexer.index(root: copy.directory, paths: copy.files(), workspace: workspace, previous: current)
        return refreshed
    }

    /// A turn's files within `tokens`.
    func files(of copy: WorkspaceCopy, hiding hidden: Set<String>, touched: Set<String> = [], tokens: Int,
               failure: String? = nil) async -> PromptFiles.Rendered {
        let index = await index(of: copy)
        return PromptFiles(index: index, focus: focus, hidden: hidden, touched: touched).render(of: copy, tokens: tokens, failure: failure)
    }

    /// The answers to the model's lookups, sharing `tokens` between them.
    func answer(_ queries: [WorkspaceQuery], in copy: WorkspaceCopy, tokens: Int) async -> String {
        guard !queries.isEmpty else { return "" }
        let answers = QueryAnswers(index: await index(of: copy))
        let each = max(200, tokens / queries.count)
        return queries.map { answers.answer($0, in: copy, tokens: each) }.joined(separator: "\n")
    }
}
