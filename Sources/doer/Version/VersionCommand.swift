import ArgumentParser
import DoerCore
import DoerModels
import DoerSandbox
import Foundation

/// `doer version`: what this build is and what it finds on this machine — the sandbox
/// backends that can run here and the local model that is installed. Reads no
/// configuration and starts nothing.
struct VersionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version",
        abstract: "Doer's version and build commit, the sandbox backends found here and the local model installed."
    )

    @Flag(name: .long, help: "Print one JSON object: version, commit, sandbox_backends, model.")
    var json = false

    func run() async throws {
        let backends = Self.backends()
        let model = Self.installedModel()
        if json {
            let object: [String: Any] = [
                "version": BuildInfo.version, "commit": BuildInfo.commit,
                "sandbox_backends": backends.map { backend -> [String: Any] in
                    var entry: [String: Any] = ["name": backend.kind.rawValue, "available": backend.problem == nil]
                    if let problem = backend.problem { entry["reason"] = problem }
                    return entry
                },
                "model": model.map { ["name": $0.name, "size": $0.size, "path": $0.path, "verified": $0.verified] as [String: Any] }
                    ?? NSNull(),
            ]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        print(BuildInfo.versionLine)
        let found = backends.filter { $0.problem == nil && $0.kind != .process }.map(\.kind.rawValue)
        print("sandbox: \(found.isEmpty ? "no isolating backend found (install bubblewrap)" : found.joined(separator: ", "))")
        if let model {
            print("model:   \(model.name) (\(model.size))\(model.verified ? "" : ", not verified")")
        } else {
            print("model:   not installed (`doer model install`)")
        }
    }

    struct Backend {
        var kind: SandboxBackendKind
        var problem: String?
    }

    /// Each backend, and why it cannot run here when it cannot. `process` is listed as
    /// available but it isolates nothing (Doer refuses it unless explicitly allowed).
    static func backends() -> [Backend] {
        let factory = SandboxFactory(configuration: SandboxConfiguration())
        return SandboxBackendKind.allCases.map { kind in
            do {
                _ = try factory.make(kind)
                return Backend(kind: kind, problem: nil)
            } catch {
                return Backend(kind: kind, problem: (error as? DoerError)?.description ?? "\(error)")
            }
        }
    }

    struct InstalledModel {
        var name: String
        var size: String
        var path: String
        var verified: Bool
    }

    /// The first local model size that is on disk, preferring the default.
    static func installedModel() -> InstalledModel? {
        let installer = LocalModelInstaller()
        for size in ["0.5b", "1.5b"] {
            guard let model = try? installer.catalog.model(size: size) else { continue }
            let file = installer.locations.modelFile(model)
            guard FileManager.default.fileExists(atPath: file.path) else { continue }
            let verified = ((try? installer.stampedModel(size: model.size)) ?? nil) != nil
            return InstalledModel(name: model.displayName, size: model.size, path: file.path, verified: verified)
        }
        return nil
    }
}
