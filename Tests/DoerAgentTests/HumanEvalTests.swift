import DoerCore
@testable import DoerAgent
@testable import DoerBench
import DoerModels
import DoerSandbox
import Foundation
import Testing

enum HumanEvalSample {
    /// HumanEval/0, /2 and /38 as the data set has them (38's prompt has no `>>>` example
    /// and defines a helper the answer needs).
    static let problems: [HumanEvalProblem] = {
        let url = Bundle.module.url(forResource: "Fixtures/humaneval-sample", withExtension: "jsonl")!
        return try! HumanEvalProblem.load(jsonLines: try! Data(contentsOf: url))
    }()

    static var closeElements: HumanEvalProblem { problems[0] }
    static var truncate: HumanEvalProblem { problems[1] }
    static var cyclic: HumanEvalProblem { problems[2] }

    static let sandbox: any Sandbox = try! SandboxFactory(configuration: SandboxConfiguration(
        stagingRoot: URL(fileURLWithPath: "/tmp/doer-humaneval-test-\(getpid())", isDirectory: true))).make()

    static func scorer(seconds: Double = 10) -> HumanEvalScorer {
        HumanEvalScorer(sandbox: sandbox, limits: ResourceLimits(wallClockSeconds: seconds, memoryBytes: 256 << 20))
    }

    static func whole(_ problem: HumanEvalProblem) -> String { problem.prompt + problem.canonicalSolution }
}

@Suite("HumanEval scoring")
struct HumanEvalScoringTests {
    @Test("the data set's own solutions pass, including one that needs the prompt's helper function")
    func canonicalPasses() async throws {
        for problem in HumanEvalSample.problems {
            let score = try await HumanEvalSample.scorer().score(problem, solution: HumanEvalSample.whole(problem))
            #expect(score.passed, "\(problem.taskID): \(score.output)")
        }
        // An answer of just the function, without the helper the prompt defined, is scored
        // with the prompt in front, as the data set's harness does.
        let cyclic = HumanEvalSample.cyclic
        let onlyDecode = "def decode_cyclic(s: str):\n    return encode_cyclic(encode_cyclic(s))\n"
        #expect(try await HumanEvalSample.scorer().score(cyclic, solution: onlyDecode).passed)
    }

    @Test("a wrong answer fails, no answer fails, a syntax error fails")
    func wrongFails() async throws {
        let problem = HumanEvalSample.truncate
        let scorer = HumanEvalSample.scorer()
        #expect(try await !scorer.score(problem, solution: "def truncate_number(number: float) -> float:\n    return number\n").passed)
        #expect(try await !scorer.score(problem, solution: nil).passed)
        #expect(try await !scorer.score(problem, solution: "def truncate_number(number:\n").passed)
    }

    @Test("an endless loop is stopped at the time limit and fails")
    func endlessLoop() async throws {
        let score = try await HumanEvalSample.scorer(seconds: 2).score(
            HumanEvalSample.truncate, solution: "def truncate_number(number: float) -> float:\n    while True:\n        pass\n")
        #expect(score.timedOut)
        #expect(!score.passed)
    }

    @Test("an answer that exits before the hidden test returns does not pass")
    func earlyExit() async throws {
        for exit in ["import sys\n    sys.exit(0)", "import os\n    os._exit(0)", "raise SystemExit"] {
            let solution = "def truncate_number(number: float) -> float:\n    \(exit)\n"
            let score = try await HumanEvalSample.scorer().score(HumanEvalSample.truncate, solution: solution)
            #expect(!score.passed, "\(exit)")
        }
    }

    @Test("the answer is the model's definitions: its own asserts, prints and imports of itself are not run; a cut-off reply keeps what parses")
    func sanitised() async throws {
        let right = "import math\n\nSCALE = 1.0\n\ndef truncate_number(number: float) -> float:\n    return number % SCALE\n"
        let demonstrations = """
            from solution import truncate_number
            print(truncate_number(3.5))
            assert truncate_number(3.5) == 0.25, "the model's own example, wrong"
            if __name__ == "__main__":
                raise SystemExit(1)
            assert truncate_number(2.5) == [0.5, 0.
            """
        let score = try await HumanEvalSample.scorer().score(HumanEvalSample.truncate, solution: right + "\n" + demonstrations)
        #expect(score.passed, "\(score.output)")
        // Sanitising keeps what the function needs and takes nothing away from a wrong answer.
        let wrong = "def truncate_number(number: float) -> float:\n    return number\n\nassert True\n"
        #expect(try await !HumanEvalSample.scorer().score(HumanEvalSample.truncate, solution: wrong).passed)
        let missingHelper = "def truncate_number(number: float) -> float:\n    return number % SCALE\n\nSCALE = 1.0\nprint(SCALE)\n"
        #expect(try await HumanEvalSample.scorer().score(HumanEvalSample.truncate, solution: missingHelper).passed)
    }

    @Test("an answer that reaches outside is contained: no host file, no network, nothing written back")
    func contained() async throws {
        let marker = "/tmp/doer-humaneval-escape-\(getpid())"
        // The probes run as a module-level assignment, which the sanitising keeps.
        let solution = """
            import os, socket
            def _reach_out():
                try:
                    open("\(marker)", "w").write("escaped")
                except OSError:
                    pass
                try:
                    socket.create_connection(("1.1.1.1", 53), timeout=2)
                    raise SystemExit("network reached")
                except OSError:
                    pass
                assert not os.path.exists("/root/.ssh"), "the host's home is visible"
                return True
            REACHED = _reach_out()
            def truncate_number(number: float) -> float:
                return number % 1.0

            """
        let score = try await HumanEvalSample.scorer().score(HumanEvalSample.truncate, solution: solution)
        #expect(score.passed, "\(score.output)")
        #expect(!FileManager.default.fileExists(atPath: marker), "the write stayed inside the sandbox")
    }

    @Test("visible tests come from the prompt's >>> examples only; a prompt without examples has none")
    func visibleTests() {
        let asserts = HumanEvalSample.closeElements.visibleAsserts
        #expect(asserts.count == 2)
        #expect(asserts[0].hasPrefix("assert (has_close_elements([1.0, 2.0, 3.0], 0.5)) == (False)"))
        #expect(HumanEvalSample.truncate.visibleAsserts == ["assert (truncate_number(3.5)) == (0.5), 'example: truncate_number(3.5) should be 0.5'"])
        #expect(HumanEvalSample.cyclic.visibleAsserts.isEmpty)
        // Nothing of the hidden test reaches the task the model sees.
        for problem in HumanEvalSample.problems {
            #expect(!problem.task.contains("def check("))
            #expect(!problem.task.contains(problem.test.split(separator: "\n").last { $0.contains("assert") }.map(String.init) ?? "assert"))
        }
    }

    @Test("a data file with a bad line is refused, naming the line")
    func badData() {
        #expect(throws: DoerError.invalidArgument("the HumanEval data holds no problems")) { try HumanEvalProblem.load(jsonLines: Data("\n".utf8)) }
        #expect { try HumanEvalProblem.load(jsonLines: Data("{\"task_id\": 1}\n".utf8)) } throws: { error in
            (error as? DoerError)?.description.contains("line 1") == true
        }
    }
}

@Suite("HumanEval modes")
struct HumanEvalModeTests {
    static func reply(_ code: String) -> String { Replies.files(["solution.py": code]) }
    static let wrongTruncate = "def truncate_number(number: float) -> float:\n    return number\n"
    static let rightTruncate = "def truncate_number(number: float) -> float:\n    return number % 1.0\n"

    func solver(_ model: ScriptedModel, candidates: Int = 2) -> HumanEvalSolver {
        HumanEvalSolver(provider: model, sandbox: HumanEvalSample.sandbox, scorer: HumanEvalSample.scorer(), maxIterations: 3,
                        candidates: candidates, stagingRoot: URL(fileURLWithPath: "/tmp/doer-humaneval-modes-\(getpid())"))
    }

    @Test("single is one call and runs nothing; the loop repairs with the visible examples; the hidden test scores once")
    func singleAndLoop() async throws {
        let single = try await solver(ScriptedModel(baseSeed: 1, replies: [0: [Self.reply(Self.wrongTruncate)]]))
            .attempt(HumanEvalSample.truncate, mode: .single)
        #expect(!single.passed)
        #expect(single.modelCalls == 1 && single.iterations == 0 && single.sandboxMs == 0)
        #expect(single.visiblePassed == nil)

        let model = ScriptedModel(baseSeed: 1, replies: [0: [Self.reply(Self.wrongTruncate), Self.reply(Self.rightTruncate)]])
        let loop = try await solver(model).attempt(HumanEvalSample.truncate, mode: .loop)
        #expect(loop.passed, "\(loop.scoreOutput)")
        #expect(loop.visiblePassed == true)
        #expect(loop.modelCalls == 2 && loop.iterations == 2)
        #expect(loop.answer == Self.rightTruncate)
        // The feedback the model got was the visible example, never the hidden test.
        let feedback = model.recordedRequests.last?.messages.last?.content ?? ""
        #expect(feedback.contains("truncate_number(3.5)"))
        #expect(!feedback.contains("def check("))
        #expect(!model.recordedRequests.contains { $0.messages.contains { $0.content.contains("candidate(") } })
    }

    @Test("the loop's first turn is single mode's request, word for word, greedy, with the same seed")
    func firstTurnIsSingle() async throws {
        let singleModel = ScriptedModel(baseSeed: 1, replies: [0: [Self.reply(Self.wrongTruncate)]])
        _ = try await solver(singleModel).attempt(HumanEvalSample.truncate, mode: .single)
        let loopModel = ScriptedModel(baseSeed: 1, replies: [0: [Self.reply(Self.wrongTruncate), Self.reply(Self.rightTruncate)]])
        _ = try await solver(loopModel).attempt(HumanEvalSample.truncate, mode: .loop)
        let single = try #require(singleModel.recordedRequests.first)
        let loop = try #require(loopModel.recordedRequests.first)
        #expect(loop.messages == single.messages)
        #expect(loop.temperature == 0 && single.temperature == 0)
        #expect(loop.seed == single.seed && loop.maxTokens == single.maxTokens)
        // Repairs are sampled.
        #expect(loopModel.recordedRequests.dropFirst().allSatisfy { ($0.temperature ?? 0) > 0 })
    }

    @Test("the hidden test is nowhere the loop's code can look while it runs")
    func hiddenTestUnreachable() async throws {
        let hiddenLine = try #require(HumanEvalSample.truncate.test.split(separator: "\n").first { $0.contains("assert") })
            .trimmingCharacters(in: .whitespaces)
        // The needle is cut in two in the source, so that the search does not find itself.
        let (head, tail) = (hiddenLine.prefix(hiddenLine.count / 2), hiddenLine.dropFirst(hiddenLine.count / 2))
        let snooping = """
            import os
            def _search():
                for top in ("/workspace", "/tmp", "/"):
                    for root, dirs, files in os.walk(top):
                        dirs[:] = [d for d in dirs if not root == "/" or d in ("workspace", "tmp", "home", "root")]
                        for name in files:
                            try:
                                if \(String(reflecting: String(head))) + \(String(reflecting: String(tail))) in open(os.path.join(root, name), errors="ignore").read():
                                    return True
                            except OSError:
                                pass
                return False
            FOUND = _search()
            def truncate_number(number: float) -> float:
                assert not FOUND, "found the hidden test"
                return number % 1.0

            """
        let attempt = try await solver(ScriptedModel(baseSeed: 1, replies: [0: [Self.reply(snooping)]])).attempt(HumanEvalSample.truncate, mode: .loop)
        #expect(attempt.visiblePassed == true, "the visible tests passed, so the search found nothing")
        // The control: when scoring, the hidden test is in the program itself, and the same
        // search finds it, so the search does work.
        #expect(!attempt.passed)
        #expect(attempt.scoreOutput.contains("found the hidden test"))
    }

    @Test("speculative: the first candidate to pass the visible tests gives the answer")
    func speculative() async throws {
        let model = ScriptedModel(baseSeed: 1, replies: [0: [ScriptedModel.hang], 1: [Self.reply(Self.rightTruncate)]])
        let attempt = try await solver(model).attempt(HumanEvalSample.truncate, mode: .speculative)
        #expect(attempt.passed)
        #expect(attempt.candidates == 2)
        #expect(attempt.timeToFirstPassMs != nil)
        #expect(model.cancelledStreams == 1)
    }

    @Test("results stream to a file; a resumed run skips what is there and redoes a line cut short")
    func resume() async throws {
        let file = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("doer-he-\(UUID().uuidString.prefix(6)).jsonl")
        defer { try? FileManager.default.removeItem(at: file) }
        let model = ScriptedModel(baseSeed: 1, replies: [0: [Self.reply(Self.rightTruncate)]])
        let problems = [HumanEvalSample.truncate, HumanEvalSample.closeElements]
        let run = HumanEvalRun(problems: problems, modes: [.single], solver: solver(model), resultsFile: file)
        let first = try await run.run(resume: false)
        #expect(first.count == 2)
        #expect(model.recordedRequests.count == 2)
        #expect(try await run.run(resume: true).count == 2)
        #expect(model.recordedRequests.count == 2, "nothing ran again")
        // Cut the last line in half, as a crash while writing would.
        let text = try String(contentsOf: file, encoding: .utf8)
        let lines = text.split(separator: "\n")
        try Data((lines[0] + "\n" + lines[1].prefix(20)).utf8).write(to: file)
        let again = try await run.run(resume: true)
        #expect(again.count == 2)
        #expect(model.recordedRequests.count == 3, "only the cut attempt ran again")
    }
}

@Suite("HumanEval report")
struct HumanEvalReportTests {
    func attempt(_ id: Int, _ mode: HumanEvalMode, passed: Bool) -> HumanEvalAttempt {
        HumanEvalAttempt(taskID: "HumanEval/\(id)", mode: mode, passed: passed, timedOut: false, visiblePassed: mode == .single ? nil : passed,
                         candidates: 1, modelCalls: 2, tokens: 100, iterations: 1, iterationMs: [1000, 3000], wallMs: 4000,
                         modelMs: 3000, sandboxMs: 500, timeToFirstPassMs: passed ? 2000 : nil, answer: "", scoreOutput: "")
    }

    @Test("pass@1 with a Wilson interval, and what the loop fixed and broke against single-shot")
    func figures() throws {
        let attempts = [attempt(0, .single, passed: true), attempt(1, .single, passed: false), attempt(2, .single, passed: false),
                        attempt(0, .loop, passed: false), attempt(1, .loop, passed: true), attempt(2, .loop, passed: true)]
        let report = HumanEvalReport(attempts: attempts, model: "m", command: "doer bench humaneval", machine: "test")
        let loop = try #require(report.modes["loop"])
        #expect(loop.passed == 2 && loop.total == 3)
        #expect(loop.fixedVsSingle == ["HumanEval/1", "HumanEval/2"])
        #expect(loop.brokenVsSingle == ["HumanEval/0"])
        #expect(loop.iterationMedianMs == 2000)
        #expect(abs(loop.sandboxShare - 0.125) < 1e-9)
        #expect(abs((loop.harnessShare ?? 0) - 0.125) < 1e-9)
        #expect(report.modes["single"]?.fixedVsSingle == nil)
        // Fixed 2, broke 1: P(a split at least this uneven | a fair coin on 3 problems) = 2 × (1 + 3) / 8, capped at 1.
        #expect(loop.pairedPValueVsSingle == 1)
        #expect(abs(HumanEvalReport.mcNemar(8, 0) - 2.0 / 256) < 1e-12)
        #expect(abs(HumanEvalReport.mcNemar(10, 2) - 2 * (1.0 + 12 + 66) / 4096) < 1e-12)
        #expect(HumanEvalReport.mcNemar(0, 0) == 1)
        #expect(report.markdown.contains("paired (exact McNemar) p = 1"))
        // Speculative's cost is read against the loop on the same problems.
        var racing = attempt(1, .speculative, passed: true)
        racing.wallMs = 6000
        let withRace = HumanEvalReport(attempts: attempts + [racing], model: "m", command: "c", machine: "t")
        #expect(withRace.modes["speculative"]?.wallVsLoop == 1.5)
        #expect(withRace.modes["loop"]?.wallVsLoop == nil)
        #expect(withRace.markdown.contains("1.50× the loop's wall time"))
        // Split by whether the prompt has examples: problem 0 has them, 1 and 2 do not.
        let split = HumanEvalReport(attempts: attempts, model: "m", command: "c", machine: "t", withExamples: ["HumanEval/0"], problemCount: 3)
        #expect(split.exampleSplit?.withExamples.passed["single"] == 1 && split.exampleSplit?.withExamples.passed["loop"] == nil)
        #expect(split.exampleSplit?.withoutExamples.passed["loop"] == 2 && split.exampleSplit?.withoutExamples.attempted["loop"] == 2)
        #expect(split.exampleSplit?.withoutExamples.problems == 2)
        #expect(split.markdown.contains("| loop | 0/1 (0.0%) | 2/2 (100.0%) |"))
        #expect(report.exampleSplit == nil)
        let (low, high) = HumanEvalReport.wilson(passed: 50, total: 100)
        #expect(abs(low - 0.4038) < 0.001 && abs(high - 0.5962) < 0.001)
        #expect(HumanEvalReport.wilson(passed: 0, total: 10).0 == 0)
        #expect(report.markdown.contains("| loop | 66.7% |"))
        #expect(report.markdown.contains("never shown to the model"))
        #expect(report.svg.hasPrefix("<svg"))
        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(report)) as? [String: Any]
        let modes = try #require(json?["modes"] as? [String: Any])
        #expect((modes["single"] as? [String: Any])?["passed"] as? Int == 1)
        #expect((modes["single"] as? [String: Any])?["total"] as? Int == 3)
        #expect((json?["problems"] as? [Any])?.count == 6)
    }
}
