public import DoerCore
public import Foundation

/// Runs modes over problems, appending each attempt to a JSON-lines file as it finishes,
/// so an interrupted run resumes where it stopped (`resume: true` skips what the file has).
public struct HumanEvalRun: Sendable {
    public struct Progress: Sendable {
        public var done: Int
        public var total: Int
        public var passed: Int
        public var elapsedMs: Double
        public var current: String
        /// Estimated time left, from the pace of this run's attempts.
        public var remainingMs: Double? {
            done > 0 && done < total ? elapsedMs / Double(done) * Double(total - done) : nil
        }
    }

    let problems: [HumanEvalProblem]
    let modes: [HumanEvalMode]
    let solver: HumanEvalSolver
    let resultsFile: URL

    public init(problems: [HumanEvalProblem], modes: [HumanEvalMode], solver: HumanEvalSolver, resultsFile: URL) {
        self.problems = problems
        self.modes = modes
        self.solver = solver
        self.resultsFile = resultsFile
    }

    /// The attempts already in the results file (for the problems and modes of this run).
    public func recorded() throws(DoerError) -> [HumanEvalAttempt] {
        guard let data = FileManager.default.contents(atPath: resultsFile.path) else { return [] }
        let wanted = Set(problems.map(\.taskID))
        // A line cut short by a crash is skipped; its attempt runs again.
        return data.split(separator: UInt8(ascii: "\n")).compactMap { try? JSONDecoder().decode(HumanEvalAttempt.self, from: Data($0)) }
            .filter { wanted.contains($0.taskID) && modes.contains($0.mode) }
    }

    public func run(resume: Bool, progress: @Sendable (Progress) -> Void = { _ in }) async throws(DoerError) -> [HumanEvalAttempt] {
        var attempts = resume ? try recorded() : []
        if !resume { try? FileManager.default.removeItem(at: resultsFile) }
        do {
            try FileManager.default.createDirectory(at: resultsFile.deletingLastPathComponent(), withIntermediateDirectories: true)
            if !FileManager.default.fileExists(atPath: resultsFile.path) { try Data().write(to: resultsFile) }
        } catch {
            throw .workspace("cannot write \(resultsFile.path): \(error.localizedDescription)")
        }
        let done = Set(attempts.map { "\($0.mode.rawValue) \($0.taskID)" })
        let todo = modes.flatMap { mode in problems.filter { !done.contains("\(mode.rawValue) \($0.taskID)") }.map { (mode, $0) } }
        let started = ContinuousClock.now
        var consecutiveErrors = 0
        for (index, (mode, problem)) in todo.enumerated() {
            if Task.isCancelled { throw .cancelled }
            progress(Progress(done: index, total: todo.count, passed: attempts.filter(\.passed).count,
                              elapsedMs: (ContinuousClock.now - started).milliseconds, current: "\(mode.rawValue) \(problem.taskID)"))
            let attempt = try await solver.attempt(problem, mode: mode)
            consecutiveErrors = attempt.error == nil ? 0 : consecutiveErrors + 1
            if consecutiveErrors >= 3 {
                throw .sandboxFailure("three attempts in a row failed; the last: \(attempt.error ?? "")")
            }
            try append(attempt)
            attempts.append(attempt)
        }
        progress(Progress(done: todo.count, total: todo.count, passed: attempts.filter(\.passed).count,
                          elapsedMs: (ContinuousClock.now - started).milliseconds, current: "done"))
        return attempts
    }

    private func append(_ attempt: HumanEvalAttempt) throws(DoerError) {
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let handle = try FileHandle(forWritingTo: resultsFile)
            defer { try? handle.close() }
            try handle.seekToEnd()
            try handle.write(contentsOf: try encoder.encode(attempt) + Data("\n".utf8))
            try handle.synchronize()
        } catch {
            throw .workspace("cannot append to \(resultsFile.path): \(error.localizedDescription)")
        }
    }
}
