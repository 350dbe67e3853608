public import Foundation

/// `<runtime>/llama-server.json`: the shared server one Doer process started, so that any
/// other finds it instead of starting its own.
public struct LocalServerState: Codable, Sendable, Hashable {
    public var pid: Int32
    public var port: Int
    public var modelPath: String
    public var size: String
    public var startedAt: Date
    public var parallel: Int
    public var contextPerSlot: Int
    public var threads: Int
    /// The llama-server binary; also how a recycled pid is told apart from the server.
    public var binary: String

    public init(pid: Int32, port: Int, modelPath: String, size: String, startedAt: Date, parallel: Int,
                contextPerSlot: Int, threads: Int, binary: String) {
        self.pid = pid
        self.port = port
        self.modelPath = modelPath
        self.size = size
        self.startedAt = startedAt
        self.parallel = parallel
        self.contextPerSlot = contextPerSlot
        self.threads = threads
        self.binary = binary
    }

    enum CodingKeys: String, CodingKey {
        case pid, port, size, parallel, threads, binary
        case modelPath = "model_path"
        case startedAt = "started_at"
        case contextPerSlot = "context_per_slot"
    }

    /// `http://127.0.0.1:PORT`.
    public var url: String { "http://127.0.0.1:\(port)" }
    /// The OpenAI-compatible base URL.
    public var openAIBaseURL: String { url + "/v1" }

    static func read(_ file: URL) -> LocalServerState? {
        guard let data = try? Data(contentsOf: file) else { return nil }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try? decoder.decode(LocalServerState.self, from: data)
    }

    func write(_ file: URL) throws {
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(self).write(to: file, options: .atomic)
    }
}
