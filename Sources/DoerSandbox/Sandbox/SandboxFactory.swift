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
        let launcher: any SandboxLauncher
        switch kind ?? configuration.backend {
        case .bubblewrap: launcher = BubblewrapLauncher(configuration: configuration)
        case .gvisor: launcher = GVisorLauncher(configuration: configuration)
        case .process: launcher = ProcessLauncher(configuration: configuration)
        // A pod per run: no local process to launch, so not the shared engine.
        case .kubernetes: return try KubernetesSandbox(configuration: configuration)
        }
        let engine = SandboxEngine(launcher: launcher, configuration: configuration)
        try engine.checkAvailable()
        return engine
    }

    /// Starts warm sandboxes for runs shaped like `request` (no-op without a pool).
    public func warmUp(_ sandbox: any Sandbox, for request: ExecutionRequest) async {
        await (sandbox as? SandboxEngine)?.warmUp(for: request)
    }
}

extension SandboxFactory {
    /// Waits until the sandboxes earlier runs left are reset and back in the pool (that
    /// happens off the runs' path), so the next run is timed as a user's later run would be.
    public func settle(_ sandbox: any Sandbox, for request: ExecutionRequest) async {
        await (sandbox as? SandboxEngine)?.settle()
    }
}

extension SandboxEngine {
    func checkAvailable() throws(DoerError) {
        try launcherForCheck.checkAvailable()
    }
}
