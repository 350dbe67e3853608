import DoerAgent
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
    /// `sys.exit()` inside the function) must not pass for not failing.
    ///
    /// The answer is the code the model wrote, not its demonstrations: as the common
    /// sanitising step for chat models does, only its imports, functions, classes and
    /// module-level assignments are kept, so asserts, prints and `from solution import`
    /// lines it added below the function are not run, and a reply cut off by the token limit
    /// keeps what parses. The same step scores every mode.
    func scoringProgram(solution: String) -> String {
        prompt + "\n\n" + Self.sanitiser + "exec(compile(_doer_sanitise(_doer_base64.b64decode(\""
            + Data(solution.utf8).base64EncodedString() + "\").decode()), \"solution.py\", \"exec\"))\n\n"
            + test + "\n\ncheck(\(entryPoint))\nprint(\"\(Self.passMarker)\")\n"
    }

    /// Python, run inside the sandbox before the answer: longest parseable prefix, then the
    /// top-level definitions only.
    static let sanitiser = """
        import ast as _doer_ast, base64 as _doer_base64


        def _doer_sanitise(source):
            lines = source.split("\\n")
            for end in range(len(lines), 0, -1):
                try:
                    tree = _doer_ast.parse("\\n".join(lines[:end]))
                    break
                except SyntaxError:
                    continue
            else:
                return source
            kept = []
            for node in tree.body:
                if isinstance(node, _doer_ast.ImportFrom) and node.module == "solution":
                    continue
                if isinstance(node, (_doer_ast.Import, _doer_ast.ImportFrom, _doer_ast.FunctionDef,
                                     _doer_ast.AsyncFunctionDef, _doer_ast.ClassDef, _doer_ast.Assign, _doer_ast.AnnAssign)):
                    kept.append(node)
            return _doer_ast.unparse(_doer_ast.Module(body=kept, type_ignores=[]))


        """

    static let passMarker = "doer-humaneval-check-returned"

    /// Picks the answer from the files a model wrote: the file defining the entry point,
    /// solution.py first; test files never.
    static func answer(in files: [String: String], entryPoint: String) -> String? {
        let candidates = files.filter { path, content in
            path.hasSuffix(".py") && !TestStrategy.isPythonTest(path) && content.contains("def \(entryPoint)(")
        }
        return candidates["solution.py"] ?? candidates.sorted { $0.key < $1.key }.first?.value
    }
}
