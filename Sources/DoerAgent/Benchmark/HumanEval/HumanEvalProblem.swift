public import DoerCore
public import Foundation

/// One problem of the HumanEval set: a Python function's signature and docstring to
/// complete, and the hidden `check` that scores the answer.
public struct HumanEvalProblem: Sendable, Hashable, Codable {
    public var taskID: String
    public var prompt: String
    public var entryPoint: String
    public var canonicalSolution: String
    /// Defines `check(candidate)`. Never shown to the model, never used to stop, retry or
    /// choose; run once on the final answer.
    public var test: String

    enum CodingKeys: String, CodingKey {
        case taskID = "task_id", prompt, entryPoint = "entry_point", canonicalSolution = "canonical_solution", test
    }

    public init(taskID: String, prompt: String, entryPoint: String, canonicalSolution: String, test: String) {
        self.taskID = taskID
        self.prompt = prompt
        self.entryPoint = entryPoint
        self.canonicalSolution = canonicalSolution
        self.test = test
    }

    /// The asserts made from the prompt's `>>>` examples: the only tests the loop sees.
    public var visibleAsserts: [String] { ExampleTests.asserts(fromDocstring: prompt) }

    /// What the agent is asked: the same words in every mode.
    public var task: String {
        """
        Complete this Python function. Write the whole function, with its imports, in solution.py; \
        keep its name and signature.

        ```python
        \(prompt)```
        """
    }

    /// Reads the data set's JSON lines; a bad line is an error naming it.
    public static func load(jsonLines data: Data) throws(DoerError) -> [HumanEvalProblem] {
        var problems: [HumanEvalProblem] = []
        for (index, line) in data.split(separator: UInt8(ascii: "\n")).enumerated() where !line.allSatisfy({ $0 == 32 || $0 == 13 }) {
            do {
                problems.append(try JSONDecoder().decode(HumanEvalProblem.self, from: Data(line)))
            } catch {
                throw .invalidArgument("HumanEval data line \(index + 1) is not a problem: \(error)")
            }
        }
        guard !problems.isEmpty else { throw .invalidArgument("the HumanEval data holds no problems") }
        return problems
    }

    /// The program that scores `solution`, built as the data set's own harness builds it
    /// (the prompt, which brings the imports and any helper functions it defines, then the
    /// answer, which redefines the entry point), then the hidden test and its call, then a
    /// line printed only when `check` returned: an answer that exits early (a stray
    /// `sys.exit()` under `if __name__ == "__main__":`) must not pass for not failing.
    func scoringProgram(solution: String) -> String {
        prompt + "\n\n" + solution + "\n\n" + test + "\n\ncheck(\(entryPoint))\nprint(\"\(Self.passMarker)\")\n"
    }

    static let passMarker = "doer-humaneval-check-returned"

    /// Picks the answer from the files a model wrote: the file defining the entry point,
    /// solution.py first; test files never.
    static func answer(in files: [String: String], entryPoint: String) -> String? {
        let candidates = files.filter { path, content in
            let name = (path as NSString).lastPathComponent
            return name.hasSuffix(".py") && !name.hasPrefix("test_") && !name.hasSuffix("_test.py")
                && content.contains("def \(entryPoint)(")
        }
        return candidates["solution.py"] ?? candidates.sorted { $0.key < $1.key }.first?.value
    }
}
