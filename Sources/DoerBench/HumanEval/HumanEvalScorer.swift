public import DoerCore
public import DoerSandbox
public import Foundation

/// Runs a problem's hidden test on an answer, once, in the sandbox: no network, a wall
/// clock, a memory limit, a workspace holding nothing but the program.
public struct HumanEvalScorer: Sendable {
    public struct Score: Sendable, Hashable, Codable {
        public var passed: Bool
        public var timedOut: Bool
        /// The end of the program's output, for reading failures.
        public var output: String
    }

    let sandbox: any Sandbox
    let stagingRoot: URL
    let limits: ResourceLimits

    public init(sandbox: any Sandbox, stagingRoot: URL = FileManager.default.temporaryDirectory,
                limits: ResourceLimits = ResourceLimits(wallClockSeconds: 10, memoryBytes: 512 * 1024 * 1024)) {
        self.sandbox = sandbox
        self.stagingRoot = stagingRoot
        self.limits = limits
    }

    public func score(_ problem: HumanEvalProblem, solution: String?) async throws(DoerError) -> Score {
        guard let solution, !solution.isEmpty else { return Score(passed: false, timedOut: false, output: "no answer") }
        let folder = stagingRoot.appendingPathComponent("doer-humaneval-\(UUID().uuidString.prefix(8))", isDirectory: true)
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try Data(problem.scoringProgram(solution: solution).utf8).write(to: folder.appendingPathComponent("program.py"))
            // The sandbox runs as another user: it must be able to read the program.
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: folder.path)
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: folder.appendingPathComponent("program.py").path)
        } catch {
            throw .workspace("cannot stage the scoring program in \(folder.path): \(error.localizedDescription)")
        }
        defer { try? FileManager.default.removeItem(at: folder) }
        let result = try await sandbox.run(ExecutionRequest(
            command: ["python3", "program.py"], workspace: folder, limits: limits, mode: .readOnly, applyChanges: false))
        let output = result.stdout.text + result.stderr.text
        let checked = result.stdout.text.contains(HumanEvalProblem.passMarker)
        return Score(passed: result.succeeded && checked, timedOut: result.timedOut, output: String(output.suffix(1200)))
    }
}
