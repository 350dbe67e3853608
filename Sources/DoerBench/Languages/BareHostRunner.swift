import DoerCore
import DoerLanguages
import DoerSandbox
import Foundation

/// The baseline of `LanguageBenchmark`: a step's exact command and environment run as a
/// plain child process in the workspace itself, with no sandbox, no workspace copy and no
/// limits. Only the benchmark uses it; nothing that runs untrusted code may. Its spawn is
/// part of what it measures, so it stays the plain Foundation `Process` the published
/// figures were taken with rather than `ProcessRunner`.
struct BareHostRunner: Sandbox {
    var kind: SandboxBackendKind { .process }

    func run(_ request: ExecutionRequest, observingOutput observer: OutputObserver?) async throws(DoerError) -> ExecutionResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: request.command[0])
        process.arguments = Array(request.command.dropFirst())
        process.currentDirectoryURL = request.workspace
        var environment = ["PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": NSTemporaryDirectory(), "LANG": "C.UTF-8",
                           "TMPDIR": NSTemporaryDirectory(), "PYTHONDONTWRITEBYTECODE": "1"]
        environment.merge(request.environment) { _, new in new }
        process.environment = environment
        let stdout = Pipe(), stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = FileHandle.nullDevice
        let started = ContinuousClock.now
        do { try process.run() } catch { throw .sandboxFailure("cannot start \(request.command[0]): \(error)") }
        // Read both pipes while the child runs, so a chatty child never blocks on a full pipe.
        async let out = Task.detached { stdout.fileHandleForReading.readDataToEndOfFile() }.value
        async let err = Task.detached { stderr.fileHandleForReading.readDataToEndOfFile() }.value
        let (outData, errData) = await (out, err)
        process.waitUntilExit()
        let termination: Termination = process.terminationReason == .uncaughtSignal
            ? .signaled(process.terminationStatus) : .exited(process.terminationStatus)
        return ExecutionResult(
            termination: termination, durationMs: (ContinuousClock.now - started).milliseconds,
            stdout: CapturedOutput(head: outData, totalBytes: Int64(outData.count)),
            stderr: CapturedOutput(head: errData, totalBytes: Int64(errData.count)), backend: .process)
    }
}
