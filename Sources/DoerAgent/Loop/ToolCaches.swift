/// Files that tools leave behind when the model runs them (pytest's cache, Python's
/// bytecode, linters' caches): never part of the change shown and applied.
enum ToolCaches {
    static let folders: Set<String> = [".pytest_cache", "__pycache__", ".mypy_cache", ".ruff_cache", ".hypothesis", ".tox"]

    static func contains(_ path: String) -> Bool {
        path.split(separator: "/").contains { folders.contains(String($0)) } || path.hasSuffix(".pyc")
    }
}
