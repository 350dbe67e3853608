public import DoerCore
public import Foundation

/// Where the local model, its downloads and the shared server's files live, all under
/// Doer's data directory. The models folder alone can be pointed elsewhere
/// (`DOER_MODELS_DIR`, or `modelsDirectory:`) so that several data directories, such as
/// the throwaway ones tests use, share one installed model instead of copying 500 MB.
public struct LocalModelLocations: Sendable, Hashable {
    /// Assembled model files and their `.sha256` stamps.
    public var models: URL
    /// Wheels downloaded by pip while a model is being installed.
    public var wheels: URL
    /// The shared server's lock, state and log files.
    public var runtime: URL
    /// Remembers where llama-server was found.
    public var data: URL

    public init(directories: DataDirectory = DataDirectory(),
                environment: [String: String] = ProcessInfo.processInfo.environment,
                modelsDirectory: URL? = nil) {
        if let modelsDirectory {
            models = modelsDirectory
        } else if let shared = environment["DOER_MODELS_DIR"], !shared.isEmpty {
            models = URL(fileURLWithPath: shared, isDirectory: true)
        } else {
            models = directories.data.appendingPathComponent("models", isDirectory: true)
        }
        wheels = directories.cache.appendingPathComponent("model-wheels", isDirectory: true)
        runtime = directories.runtime
        data = directories.data
    }

    public func modelFile(_ model: LocalModelCatalog.Model) -> URL {
        models.appendingPathComponent(model.fileName)
    }

    /// Held while a Doer process starts or stops the server.
    public var serverLock: URL { runtime.appendingPathComponent("llama-server.lock") }
    /// Which server is running: pid, port, model. Any Doer process reads it.
    public var serverState: URL { runtime.appendingPathComponent("llama-server.json") }
    public var serverLog: URL { runtime.appendingPathComponent("llama-server.log") }
    /// The llama-server path found through Python, so Python runs once, not every start.
    public var serverBinaryCache: URL { data.appendingPathComponent("llama-server.path") }
}
