import Foundation

/// One task of the repository benchmark, as `benchmarks/repo/build_tasks.py` writes it:
/// a real project with a function left unimplemented or a defect planted, and the
/// project's own tests for it kept out of the workspace; or an empty workspace and a
/// request to create a module, with tests of every rule it states kept out.
public struct RepositoryTask: Sendable, Codable, Hashable {
    public enum Kind: String, Sendable, Codable, Hashable {
        /// "Implement this documented function."
        case implement
        /// A bug report as a user writes it: a call, what it returns, what it should.
        case bug
        /// "Create roman.py with to_roman(n) … Add tests." in an empty workspace: the model's
        /// own tests are all there is to show it done, so a wrong reading passes them.
        case create
    }

    public var id: String
    public var project: String
    public var version: String
    public var kind: Kind
    public var request: String
    /// pytest node ids of the hidden tests.
    public var hiddenTests: [String]
    /// The test files those tests live in, as the project has them (under `hidden/`).
    public var hiddenFiles: [String]
    /// Where the project's package is imported from (`src` for a src layout), or "".
    public var pythonpath: String
    /// The project's whole suite, as pytest arguments.
    public var suite: [String]

    /// The task's folder: `workspace/`, `hidden/`, `task.json`.
    public var folder: URL = URL(fileURLWithPath: "/")

    enum CodingKeys: String, CodingKey {
        case id, project, version, kind, request, pythonpath, suite
        case hiddenTests = "hidden_tests"
        case hiddenFiles = "hidden_files"
    }

    public var workspace: URL { folder.appendingPathComponent("workspace", isDirectory: true) }
    public var hidden: URL { folder.appendingPathComponent("hidden", isDirectory: true) }
}

/// The built task set: a folder of tasks with an `index.json` naming them in order.
public struct RepositoryTaskSet: Sendable {
    public var folder: URL
    public var tasks: [RepositoryTask]

    struct Index: Decodable {
        var tasks: [String]
    }

    public static func load(from folder: URL) throws -> RepositoryTaskSet {
        let indexFile = folder.appendingPathComponent("index.json")
        guard let data = try? Data(contentsOf: indexFile) else {
            throw RepositoryBenchmarkError.noTaskSet(folder.path)
        }
        let index = try JSONDecoder().decode(Index.self, from: data)
        let tasks = try index.tasks.map { id -> RepositoryTask in
            let taskFolder = folder.appendingPathComponent("tasks", isDirectory: true).appendingPathComponent(id, isDirectory: true)
            var task = try JSONDecoder().decode(RepositoryTask.self, from: Data(contentsOf: taskFolder.appendingPathComponent("task.json")))
            task.folder = taskFolder
            return task
        }
        return RepositoryTaskSet(folder: folder, tasks: tasks)
    }

    /// Only the tasks whose id contains one of `filters` (all when empty), at most `limit`.
    public func selecting(_ filters: [String], limit: Int?) -> [RepositoryTask] {
        let chosen = filters.isEmpty ? tasks : tasks.filter { task in filters.contains { task.id.contains($0) } }
        return limit.map { Array(chosen.prefix($0)) } ?? chosen
    }
}

public enum RepositoryBenchmarkError: Error, CustomStringConvertible, Equatable {
    case noTaskSet(String)
    case buildFailed(String)
    /// `--resume` found a report it cannot go on from.
    case cannotResume(String)

    public var description: String {
        switch self {
        case .noTaskSet(let path):
            "no task set in \(path): build it with `python3 benchmarks/repo/build_tasks.py \(path)` (doer bench repo --build does)"
        case .buildFailed(let detail): "building the task set failed: \(detail)"
        case .cannotResume(let detail): "cannot resume: \(detail)"
        }
    }
}
