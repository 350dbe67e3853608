import DoerAgent
public import DoerCore
public import DoerModels
public import DoerSandbox
import Foundation

/// Time to the first passing candidate with N candidates racing, on a fixed set of small
/// tasks with the configured model. N = 1 is the baseline the others are read against.
public struct CandidateRaceBenchmark: Sendable {
    /// The task set: small functions whose docstring examples become the tests.
    public static let tasks: [(name: String, prompt: String)] = [
        ("fizzbuzz", """
            Write fizzbuzz.py with a function fizzbuzz(n) that returns "Fizz" for multiples of 3, "Buzz" for \
            multiples of 5, "FizzBuzz" for multiples of both, and the number as a string otherwise.
                >>> fizzbuzz(3)
                'Fizz'
                >>> fizzbuzz(10)
                'Buzz'
                >>> fizzbuzz(30)
                'FizzBuzz'
                >>> fizzbuzz(7)
                '7'
            """),
        ("palindrome", """
            Write palindrome.py with is_palindrome(text) that tells whether text reads the same backwards, \
            ignoring case, spaces and punctuation.
                >>> is_palindrome("A man, a plan, a canal: Panama")
                True
                >>> is_palindrome("doer")
                False
                >>> is_palindrome("")
                True
            """),
        ("run_length", """
            Write rle.py with encode(text) that run-length encodes a string as count followed by character.
                >>> encode("aaabcc")
                '3a1b2c'
                >>> encode("")
                ''
                >>> encode("z")
                '1z'
            """),
    ]

    public struct Run: Sendable, Codable {
        public var task: String
        public var candidates: Int
        public var passed: Bool
        /// From the start of the run to the first candidate that passed its tests.
        public var timeToFirstPassMs: Double?
        public var wallMs: Double
        public var totalTokens: Int
        public var outcome: String
    }

    public struct Series: Sendable, Codable {
        public var candidates: Int
        public var passed: Int
        public var tasks: Int
        public var medianTimeToFirstPassMs: Double?
        public var medianWallMs: Double
        public var meanTokens: Double
    }

    public struct Report: Sendable, Codable {
        public var series: [Series]
        public var runs: [Run]
    }

    let provider: any ModelProvider
    let sandbox: any Sandbox
    let counts: [Int]
    let maxIterations: Int

    public init(provider: any ModelProvider, sandbox: any Sandbox, counts: [Int] = [1, 2, 4], maxIterations: Int = 4) {
        self.provider = provider
        self.sandbox = sandbox
        self.counts = counts
        self.maxIterations = maxIterations
    }

    public func run(progress: @Sendable (String) -> Void = { _ in }) async throws(DoerError) -> Report {
        var runs: [Run] = []
        for count in counts {
            for task in Self.tasks {
                progress("\(count) candidate(s): \(task.name)")
                runs.append(try await run(task: task, candidates: count))
            }
        }
        let series = counts.map { count -> Series in
            let mine = runs.filter { $0.candidates == count }
            return Series(candidates: count, passed: mine.filter(\.passed).count, tasks: mine.count,
                          medianTimeToFirstPassMs: Statistics.median(mine.compactMap(\.timeToFirstPassMs)),
                          medianWallMs: Statistics.median(mine.map(\.wallMs)) ?? 0,
                          meanTokens: mine.isEmpty ? 0 : Double(mine.map(\.totalTokens).reduce(0, +)) / Double(mine.count))
        }
        return Report(series: series, runs: runs)
    }

    private func run(task: (name: String, prompt: String), candidates: Int) async throws(DoerError) -> Run {
        let workspace = FileManager.default.temporaryDirectory.appendingPathComponent("doer-race-\(UUID().uuidString.prefix(8))")
        do {
            try FileManager.default.createDirectory(at: workspace, withIntermediateDirectories: true)
        } catch {
            throw .workspace("cannot create \(workspace.path): \(error.localizedDescription)")
        }
        defer { try? FileManager.default.removeItem(at: workspace) }
        // Nothing is applied: the figure is the race, not the approval.
        let configuration = AgentConfiguration(maxIterations: maxIterations, candidates: candidates, approval: .onRequest, planning: .derived)
        let agent = Agent(provider: provider, sandbox: sandbox, configuration: configuration)
        let started = ContinuousClock.now
        var firstPass: Double?
        var summary: RunSummary?
        for await event in agent.run(task: task.prompt, workspace: workspace) {
            switch event {
            case .candidateStatus(_, .passed):
                if firstPass == nil { firstPass = (ContinuousClock.now - started).milliseconds }
            case .done(let done):
                summary = done
            default:
                break
            }
        }
        let wall = (ContinuousClock.now - started).milliseconds
        if let summary, summary.outcome == .error { throw .sandboxFailure("the \(task.name) run failed: \(summary.message)") }
        return Run(task: task.name, candidates: candidates, passed: firstPass != nil, timeToFirstPassMs: firstPass, wallMs: wall,
                   totalTokens: summary?.usage.totalTokens ?? 0, outcome: summary?.outcome.rawValue ?? "none")
    }
}
