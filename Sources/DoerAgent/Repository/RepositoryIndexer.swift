import DoerCore
import DoerSandbox
import Foundation

/// Builds and refreshes a `WorkspaceIndex`. A file is read again only when its size or
/// modification time differ from what the previous index (or the cache on disk, one per
/// workspace) recorded for its path. Python goes through the `ast` helper in the sandbox
/// (see `PythonOutline`); other languages, and Python the helper could not read, through
/// `PatternScanner` on the host.
struct RepositoryIndexer: Sendable {
    let sandbox: any Sandbox
    let limits: ResourceLimits
    /// Where the cache lives; nil keeps no cache on disk.
    let cacheDirectory: URL?

    /// Files larger than this are listed but not read: generated or vendored code.
    static let largestFile = 1 << 20
    /// Source bytes handed to one helper run, so its output stays well inside what the
    /// sandbox keeps of stdout.
    static let batchBytes = 400_000

    /// The index of `root` (a workspace or a copy of it). `previous` is reused where its
    /// stamps still match; without one, the disk cache for `workspace` is.
    func index(root: URL, paths: [String], workspace: URL, previous: WorkspaceIndex? = nil) async -> WorkspaceIndex {
        let cached = previous ?? loadCache(for: workspace) ?? WorkspaceIndex()
        var index = WorkspaceIndex()
        var pythonToParse: [(path: String, size: Int, modified: Double)] = []
        for path in paths where !path.hasPrefix(".") && !path.contains("/.") {
            guard let language = PatternScanner.language(for: path), let stamp = Self.stamp(root, path),
                  stamp.size <= Self.largestFile else { continue }
            if let known = cached.files[path], known.size == stamp.size, known.modified == stamp.modified {
                index.files[path] = known
                continue
            }
            if language.name == "python" {
                pythonToParse.append((path, stamp.size, stamp.modified))
            } else if let scanned = Self.scanned(root: root, path: path, size: stamp.size, modified: stamp.modified, language: language) {
                index.files[path] = scanned
            }
        }
        for batch in Self.batches(pythonToParse) {
            let parsed = await parsePython(root: root, files: batch)
            for file in batch {
                if let outline = parsed[file.path] {
                    index.files[file.path] = outline
                } else if let scanned = Self.scanned(root: root, path: file.path, size: file.size, modified: file.modified,
                                                     language: PatternScanner.python) {
                    index.files[file.path] = scanned
                }
            }
        }
        if previous == nil { saveCache(index, for: workspace) }
        return index
    }

    static func batches(_ files: [(path: String, size: Int, modified: Double)]) -> [[(path: String, size: Int, modified: Double)]] {
        var batches: [[(path: String, size: Int, modified: Double)]] = []
        var current: [(path: String, size: Int, modified: Double)] = []
        var bytes = 0
        for file in files {
            if !current.isEmpty && bytes + file.size > batchBytes {
                batches.append(current)
                current = []
                bytes = 0
            }
            current.append(file)
            bytes += file.size
        }
        if !current.isEmpty { batches.append(current) }
        return batches
    }

    /// Size and modification time of a regular file (links are not followed, nor read).
    static func stamp(_ root: URL, _ path: String) -> (size: Int, modified: Double)? {
        var info = stat()
        guard lstat(root.appendingPathComponent(path).path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return nil }
        return (Int(info.st_size), Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9)
    }

    static func scanned(root: URL, path: String, size: Int, modified: Double, language: PatternScanner.Language) -> IndexedFile? {
        guard let text = WorkspaceText.read(root: root, path: path) else { return nil }
        let scan = PatternScanner.scan(path: path, text: text, language: language)
        return IndexedFile(path: path, size: size, modified: modified, lineCount: scan.lines, language: language.name, parsed: false,
                           definitions: scan.definitions,
                           imports: language.name == "python" ? PatternScanner.pythonImports(text) : [], uses: scan.uses)
    }

    /// One helper run over `files`; what it could not read is missing from the answer.
    private func parsePython(root: URL, files: [(path: String, size: Int, modified: Double)]) async -> [String: IndexedFile] {
        var limits = self.limits
        limits.wallClockSeconds = max(limits.wallClockSeconds, 20)
        let request = ExecutionRequest(command: ["python3", "-I", "-S", "-c", PythonOutline.script], workspace: root,
                                       stdin: Data(files.map(\.path).joined(separator: "\n").utf8), limits: limits,
                                       mode: .readOnly, applyChanges: false)
        guard let result = try? await sandbox.run(request), result.succeeded else { return [:] }
        let stamps = Dictionary(files.map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
        var parsed: [String: IndexedFile] = [:]
        for line in result.stdout.text.split(separator: "\n") {
            guard let outline = try? JSONDecoder().decode(HelperLine.self, from: Data(line.utf8)), outline.ok,
                  let stamp = stamps[outline.path] else { continue }
            parsed[outline.path] = IndexedFile(
                path: outline.path, size: stamp.size, modified: stamp.modified, lineCount: outline.lines ?? 0, language: "python",
                parsed: true, definitions: (outline.defs ?? []).compactMap(\.definition),
                imports: (outline.imports ?? []).compactMap { $0.count == 2 && $0[0] <= $0[1] ? $0[0]...$0[1] : nil },
                uses: outline.uses ?? [:],
                globals: (outline.globals ?? []).reduce(into: [:]) { found, entry in
                    guard entry.count == 3, case .string(let name) = entry[0], case .number(let start) = entry[1], case .number(let end) = entry[2],
                          start <= end, found[name] == nil else { return }
                    found[name] = start...end
                })
        }
        return parsed
    }

    /// One line of the helper's output.
    private struct HelperLine: Decodable {
        var path: String
        var ok: Bool
        var lines: Int?
        var defs: [HelperDefinition]?
        var imports: [[Int]]?
        var uses: [String: [Int]]?
        var globals: [[NameOrLine]]?
    }

    /// An entry of `globals`: `[name, start, end]`.
    private enum NameOrLine: Decodable {
        case string(String)
        case number(Int)

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let number = try? container.decode(Int.self) { self = .number(number) } else { self = .string(try container.decode(String.self)) }
        }
    }

    /// `[name, qualified, kind, start, end, signature, doc]`.
    private struct HelperDefinition: Decodable {
        var definition: CodeDefinition?

        init(from decoder: any Decoder) throws {
            var container = try decoder.unkeyedContainer()
            let name = try container.decode(String.self)
            let qualified = try container.decode(String.self)
            let kind = try container.decode(String.self)
            let start = try container.decode(Int.self)
            let end = try container.decode(Int.self)
            let signature = try container.decode(String.self)
            let doc = try container.decodeIfPresent(String.self)
            definition = CodeDefinition.Kind(rawValue: kind).map {
                CodeDefinition(name: name, qualifiedName: qualified, kind: $0, startLine: start, endLine: max(start, end),
                               signature: signature, doc: doc)
            }
        }
    }

    // MARK: - Cache

    /// `index-<hash of the workspace path>.json`: one cache per workspace.
    func cacheFile(for workspace: URL) -> URL? {
        guard let cacheDirectory else { return nil }
        // FNV-1a: a name, not a secret.
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in workspace.standardizedFileURL.path.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        let key = String(hash, radix: 16)
        return cacheDirectory.appendingPathComponent("index-\(key).json")
    }

    private struct CacheFile: Codable {
        var version: Int
        var index: WorkspaceIndex
    }

    func loadCache(for workspace: URL) -> WorkspaceIndex? {
        guard let file = cacheFile(for: workspace), let data = try? Data(contentsOf: file),
              let cache = try? JSONDecoder().decode(CacheFile.self, from: data), cache.version == WorkspaceIndex.version else { return nil }
        return cache.index
    }

    func saveCache(_ index: WorkspaceIndex, for workspace: URL) {
        guard let cacheDirectory, let file = cacheFile(for: workspace),
              let data = try? JSONEncoder().encode(CacheFile(version: WorkspaceIndex.version, index: index)) else { return }
        try? FileManager.default.createDirectory(at: cacheDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        // Written aside and renamed, so a concurrent run never reads half a file.
        let temporary = cacheDirectory.appendingPathComponent(".\(file.lastPathComponent).\(getpid()).\(UInt32.random(in: 0...UInt32.max))")
        guard FileManager.default.createFile(atPath: temporary.path, contents: data, attributes: [.posixPermissions: 0o600]) else { return }
        if rename(temporary.path, file.path) != 0 { try? FileManager.default.removeItem(at: temporary) }
    }
}
