import DoerCore
import Foundation

/// No isolation: doer-sandbox-init runs the command directly on the host, in a
/// workspace view, with the same limits, timeout and output caps. Only with the
/// user's explicit consent.
struct ProcessLauncher: SandboxLauncher {
    let configuration: SandboxConfiguration
    let support: SandboxSupportFiles?
    let supportError: DoerError?

    var kind: SandboxBackendKind { .process }
    var usesInitProtocol: Bool { true }

    init(configuration: SandboxConfiguration) {
        self.configuration = configuration
        do {
            support = try SandboxSupportFiles.prepare(configuration: configuration)
            supportError = nil
        } catch {
            support = nil
            supportError = error
        }
    }

    func checkAvailable() throws(DoerError) {
        guard configuration.allowUnsafeProcessBackend else { throw .unsafeBackendRefused }
        if let supportError { throw supportError }
    }

    func spawnSpec(shape: SandboxShape, workspaceSource: String, command: [String], environment: [String],
                   workingDirectory: String, proxySocket: String?) throws(DoerError) -> SpawnSpec {
        try checkAvailable()
        let identity = configuration.runIdentity
        return SpawnSpec(executable: support!.initHelper, arguments: [],
                         identity: identity.switches ? (identity.uid, identity.gid) : nil,
                         controlChannel: true)
    }

    func workspacePath(workspaceSource: String) -> String { workspaceSource }
}
