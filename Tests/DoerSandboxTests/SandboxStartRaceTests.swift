import DoerCore
@testable import DoerSandbox
import Foundation
import Testing

@Suite("a sandbox start that lost a race with a freshly staged helper")
struct SandboxStartRaceTests {
    @Test("only the init helper's \"Text file busy\" is taken for the race; any other failure to start stands")
    func recognised() {
        func result(_ termination: Termination) -> ExecutionResult {
            ExecutionResult(termination: termination, durationMs: 1, backend: .bubblewrap)
        }
        #expect(SandboxEngine.execRaced(result(.failedToStart("bwrap: execvp /.doer/init: Text file busy"))))
        #expect(!SandboxEngine.execRaced(result(.failedToStart("bwrap: execvp /.doer/init: No such file or directory"))))
        #expect(!SandboxEngine.execRaced(result(.failedToStart("cannot execute the command: Text file busy"))))
        #expect(!SandboxEngine.execRaced(result(.exited(0))))
    }

    @Test("a fresh staging root's helper is staged executable, only for its owner to write, and runs at once")
    func stagedFresh() async throws {
        var configuration = TestSandboxes.configuration
        configuration.stagingRoot = URL(fileURLWithPath: "/tmp/doer-stage-test-\(UUID().uuidString.prefix(8).lowercased())", isDirectory: true)
        defer { try? FileManager.default.removeItem(at: configuration.stagingRoot) }
        let files = try SandboxSupportFiles.prepare(configuration: configuration)
        var info = stat()
        #expect(stat(files.initHelper, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o755)
        #expect(stat(files.passwd, &info) == 0 && info.st_mode & 0o777 == 0o644)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: configuration.stagingRoot.path).filter { $0.contains(".tmp-") }
        #expect(leftovers.isEmpty)
        let workspace = try ScratchWorkspace()
        let sandbox = try SandboxFactory(configuration: configuration).make()
        let run = try await sandbox.run(ExecutionRequest(command: ["sh", "-c", "echo ran"], workspace: workspace.url,
                                                         limits: ResourceLimits(wallClockSeconds: 20)))
        #expect(run.termination == .exited(0), "\(run.termination) \(run.stderr.text)")
        #expect(run.stdout.text == "ran\n")
    }
}
