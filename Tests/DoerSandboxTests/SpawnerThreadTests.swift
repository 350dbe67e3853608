import DoerCore
@testable import DoerSandbox
import Foundation
import Testing

/// bwrap's --die-with-parent fires when the thread that forked it exits. Swift concurrency
/// retires idle worker threads, which used to SIGKILL every run longer than about 5 s.
@Suite("sandboxes outlive the thread that asked for them")
struct SpawnerThreadTests {
    final class Holder: @unchecked Sendable {
        var prepared: PreparedSandbox?
        var error: DoerError?
    }

    @Test("a sandbox prepared on a thread that has since exited still runs its command")
    func outlivesSpawningThread() async throws {
        let engine = try #require(try TestSandboxes.make() as? SandboxEngine)
        let workspace = try ScratchWorkspace()
        let request = ExecutionRequest(command: ["sh", "-c", "sleep 0.5; echo alive"], workspace: workspace.url)
        let holder = Holder()
        let thread = Thread {
            do { holder.prepared = try engine.prepare(SandboxShape(request)) } catch let error as DoerError { holder.error = error } catch {}
        }
        thread.start()
        while !thread.isFinished { try await Task.sleep(for: .milliseconds(10)) }
        // Let the thread itself end, which is what fires the parent-death signal.
        try await Task.sleep(for: .milliseconds(300))
        let prepared = try #require(holder.prepared, "\(holder.error?.description ?? "")")
        defer { prepared.destroy() }
        let initRequest = InitRequest(
            command: request.command, environment: ["PATH=/usr/bin:/bin"], workingDirectory: BubblewrapArguments.workspaceMount,
            wallClockMs: 20_000, limits: request.limits, allowNetwork: false, seccomp: true, ownPidNamespace: true)
        let run = await Supervisor.supervise(prepared.process, request: initRequest, stdin: Data(),
                                             hostDeadline: .seconds(30), outputCap: 1 << 20)
        #expect(run.stdout.text == "alive\n", "wait status \(run.waitStatus), stderr \(run.stderr.text)")
        #expect(run.initStatus?.termination == .exited(0))
    }
}
