public import DoerCore
import Foundation

/// The registry of backends: the one place that maps a `SandboxBackendKind` to code.
public struct SandboxFactory: Sendable {
    public let configuration: SandboxConfiguration

    public init(configuration: SandboxConfiguration) {
        self.configuration = configuration
    }

    /// A ready backend, or a clear error saying what is missing.
    public func make(_ kind: SandboxBackendKind? = nil) throws(DoerError) -> any Sandbox {
        let engine = SandboxEngine(launcher: launcher(kind ?? configuration.backend), configuration: configuration)
        try engine.checkAvailable()
        return engine
    }

    func launcher(_ kind: SandboxBackendKind) -> any SandboxLauncher {
        switch kind {
        case .bubblewrap: BubblewrapLauncher(configuration: configuration)
        case .gvisor: GVisorLauncher(configuration: configuration)
        case .process: ProcessLauncher(configuration: configuration)
        }
    }

    /// Starts warm sandboxes for runs shaped like `request` (no-op without a pool).
    public func warmUp(_ sandbox: any Sandbox, for request: ExecutionRequest) async {
        await (sandbox as? SandboxEngine)?.warmUp(for: request)
    }
}

extension SandboxEngine {
    func checkAvailable() throws(DoerError) {
        try launcherForCheck.checkAvailable()
    }
}
