import DoerAgent
public import DoerCore
public import DoerModels
public import DoerSandbox
public import Foundation

/// Answers a problem in one mode and measures what it cost. Every mode gets the same task
/// words and the same model; only the loop and speculative modes run anything, and they see
/// only the prompt's own examples as tests.
public struct HumanEvalSolver: Sendable {
    let provider: any ModelProvider
    let sandbox: any Sandbox
    let scorer: HumanEvalScorer
    let maxIterations: Int
    let candidates: Int
    let maxTokens: Int
    let repairTemperature: Double?
    let redrawsWithoutProgress: Bool
    let stagingRoot: URL

    /// The seed of single mode's one turn; the loop's candidate 0 gets it on its first turn
    /// (the agent adds candidate and iteration to its base seed).
    static let seed = 1

    public init(provider: any ModelProvider, sandbox: any Sandbox, scorer: HumanEvalScorer, maxIterations: Int = 4,
                candidates: Int = 4, maxTokens: Int = 768, repairTemperature: Double? = 0.6, redrawsWithoutProgress: Bool = true,
                stagingRoot: URL = URL(fileURLWithPath: "/tmp/doer-humaneval-\(getuid())", isDirectory: true)) {
        self.provider = provider
        self.sandbox = sandbox
        self.scorer = scorer
        self.maxIterations = maxIterations
        self.candidates = candidates
        self.maxTokens = maxTokens
        self.repairTemperature = repairTemperature
        self.redrawsWithoutProgress = redrawsWithoutProgress
        self.stagingRoot = stagingRoot
    }

    public func attempt(_ problem: HumanEvalProblem, mode: HumanEvalMode) async throws(DoerError) -> HumanEvalAttempt {
        let meter = TokenMeter()
        let metered = MeteredProvider(provider, meter: meter)
        let started = ContinuousClock.now
        var trace = Trace()
        switch mode {
        case .single:
            do {
                trace.files = try await single(problem, provider: metered)
            } catch {
                trace.error = error.description
            }
        case .loop, .speculative:
            trace = try await loop(problem, provider: metered, candidates: mode == .loop ? 1 : candidates, started: started)
        }
        let wall = (ContinuousClock.now - started).milliseconds
        let answer = HumanEvalProblem.answer(in: trace.files, entryPoint: problem.entryPoint)
        // The hidden test runs here, once, after the answer is final.
        let score = try await scorer.score(problem, solution: answer)
        return HumanEvalAttempt(
            taskID: problem.taskID, mode: mode, passed: score.passed, timedOut: score.timedOut, visiblePassed: trace.visiblePassed,
            candidates: mode == .speculative ? candidates : 1, modelCalls: await meter.requests, tokens: await meter.total.totalTokens,
            iterations: trace.iterationMs.count, iterationMs: trace.iterationMs, wallMs: wall, modelMs: await meter.streamMs,
            sandboxMs: trace.sandboxMs, timeToFirstPassMs: trace.firstPassMs, answer: answer ?? "", scoreOutput: score.output,
            error: trace.error)
    }

    private struct Trace {
        var files: [String: String] = [:]
        var visiblePassed: Bool?
        var iterationMs: [Double] = []
        var sandboxMs: Double = 0
        var firstPassMs: Double?
        var error: String?
    }

    /// The loop's first turn without the loop: the same system prompt, task message, seed and
    /// temperature, so that the two modes differ only in what happens after it.
    private func single(_ problem: HumanEvalProblem, provider: any ModelProvider) async throws(DoerError) -> [String: String] {
        let request = ModelRequest(messages: FirstTurn.messages(for: problem.task), temperature: 0, seed: Self.seed, maxTokens: maxTokens)
        let reply: ModelResponse
        do {
            reply = try await provider.complete(request)
        } catch {
            throw .sandboxFailure("the model failed on \(problem.taskID): \((error as? ModelError)?.description ?? "\(error)")")
        }
        var files: [String: String] = [:]
        // Read as the loop reads a turn, so the baseline loses nothing to parsing the loop would keep.
        for action in FirstTurn.actions(in: reply.text, task: problem.task) { Self.apply(action, to: &files) }
        return files
    }

    private func loop(_ problem: HumanEvalProblem, provider: any ModelProvider, candidates: Int,
                      started: ContinuousClock.Instant) async throws(DoerError) -> Trace {
        let workspace = stagingRoot.appendingPathComponent("ws-\(UUID().uuidString.prefix(8))", isDirectory: true)
        do {
            try FileManager.default.createDirectory(at: workspace, withIntermediateDirectories: true)
        } catch {
            throw .workspace("cannot create \(workspace.path): \(error.localizedDescription)")
        }
        defer { try? FileManager.default.removeItem(at: workspace) }
        // Candidate 0's first turn is single mode's turn; racing candidates get warmer, and
        // later turns are sampled (the candidate keeps its attempt that passed most examples).
        // With `redrawsWithoutProgress` (the default: on the full set it fixed more than
        // repairing, see benchmarks/results), an attempt that made no progress is followed by
        // the first turn's request again instead of a repair.
        let configuration = AgentConfiguration(maxIterations: maxIterations, candidates: candidates, baseTemperature: 0,
                                               repairTemperature: repairTemperature, redrawsWithoutProgress: redrawsWithoutProgress,
                                               seed: Self.seed - 1,
                                               maxTokensPerTurn: maxTokens, limits: ResourceLimits(wallClockSeconds: 20),
                                               approval: .onRequest, stagingRoot: stagingRoot.appendingPathComponent("copies"),
                                               planning: .derived)
        let agent = Agent(provider: provider, sandbox: sandbox, configuration: configuration)
        var trace = Trace()
        var events: [AgentEvent] = []
        var turnStarted: [Int: ContinuousClock.Instant] = [:]
        for await event in agent.run(task: problem.task, workspace: workspace) {
            events.append(event)
            switch event {
            case .candidateStatus(let candidate, .generating):
                turnStarted[candidate] = .now
            case .testReport(let candidate, _, _):
                if let start = turnStarted.removeValue(forKey: candidate) { trace.iterationMs.append((ContinuousClock.now - start).milliseconds) }
            case .executionFinished(_, _, _, let ms, _):
                trace.sandboxMs += ms
            case .candidateStatus(_, .passed):
                if trace.firstPassMs == nil { trace.firstPassMs = (ContinuousClock.now - started).milliseconds }
            case .done(let summary):
                if summary.outcome == .error { trace.error = summary.message }
                trace.visiblePassed = summary.outcome == .passed
            default:
                break
            }
        }
        // The answer is the best candidate's files: the winner's, or else the one that got furthest.
        for action in ResumePoint(events: events).candidates.first?.actions ?? [] { Self.apply(action, to: &trace.files) }
        return trace
    }

    private static func apply(_ action: Action, to files: inout [String: String]) {
        switch action {
        case .writeFile(let path, let content):
            files[path] = content
        case .editFile(let path, let search, let replace):
            guard let current = files[path], current.components(separatedBy: search).count == 2 else { return }
            files[path] = current.replacingOccurrences(of: search, with: replace)
        case .runCommand:
            break
        }
    }
}
