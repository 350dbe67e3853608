public import DoerCore
import Foundation

/// `doer sandbox check`: which backends work on this machine, and why the others do not.
public struct SandboxCheck: Sendable {
    public struct Report: Sendable, Codable {
        public var backend: SandboxBackendKind
        public var works: Bool
        public var detail: String
    }

    public let configuration: SandboxConfiguration

    public init(configuration: SandboxConfiguration) {
        self.configuration = configuration
    }

    /// Actually runs `true` in each backend: a backend that is installed but cannot start
    /// (no user namespaces, no root for runsc) is reported with the reason.
    public func run() async -> [Report] {
        var reports: [Report] = []
        let workspace = FileManager.default.temporaryDirectory.appendingPathComponent("doer-check-\(getpid())")
        try? FileManager.default.createDirectory(at: workspace, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: workspace) }
        var unsafe = configuration
        unsafe.allowUnsafeProcessBackend = true
        for kind in [SandboxBackendKind.bubblewrap, .gvisor, .process] {
            do {
                let sandbox = try SandboxFactory(configuration: kind == .process ? unsafe : configuration).make(kind)
                var limits = ResourceLimits()
                limits.wallClockSeconds = 20
                let result = try await sandbox.run(ExecutionRequest(command: ["true"], workspace: workspace,
                                                                    limits: limits, mode: .readOnly))
                if result.succeeded {
                    let note = kind == .process ? " (no isolation; needs --unsafe-no-sandbox)" : ""
                    reports.append(Report(backend: kind, works: true,
                                          detail: String(format: "ran `true` in %.1f ms", result.durationMs) + note))
                } else {
                    let why = result.stderr.text.trimmingCharacters(in: .whitespacesAndNewlines)
                    reports.append(Report(backend: kind, works: false,
                                          detail: "`true` failed: \(result.termination) \(why)"))
                }
            } catch {
                reports.append(Report(backend: kind, works: false, detail: error.description))
            }
        }
        return reports
    }
}
