public import DoerCore

/// Runs one command in isolation and reports how it went.
///
/// ```swift
/// let sandbox = try SandboxFactory(configuration: .init()).make(.bubblewrap)
/// let result = try await sandbox.run(ExecutionRequest(command: ["python3", "-c", "print(1)"],
///                                                     workspace: projectURL))
/// print(result.stdout.text, result.termination.shellExitCode)
/// ```
///
/// Cancelling the calling task kills the run's whole process tree. Pass `observingOutput`
/// to see the output as it comes (the result still holds it all, capped).
public protocol Sandbox: Sendable {
    var kind: SandboxBackendKind { get }
    func run(_ request: ExecutionRequest, observingOutput observer: OutputObserver?) async throws(DoerError) -> ExecutionResult
}

extension Sandbox {
    public func run(_ request: ExecutionRequest) async throws(DoerError) -> ExecutionResult {
        try await run(request, observingOutput: nil)
    }
}
