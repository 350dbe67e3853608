import ArgumentParser
import DoerCore
@testable import doer
import Foundation
import Testing

@Suite("doer bench")
struct BenchCommandTests {
    static let problem = #"{"task_id": "HumanEval/0", "prompt": "def f():\n    \"\"\"x\"\"\"\n", "entry_point": "f", "canonical_solution": "    return 1\n", "test": "def check(c):\n    assert c() == 1\n"}"#

    @Test("humaneval refuses bad selections and data before any model work, saying what is wrong", arguments: [
        (["--modes", "single,fast"], "--modes takes single, loop and speculative"),
        (["--candidates", "1"], "--candidates must be 2 to 16"),
        (["--limit", "0"], "--limit must be at least 1"),
        (["--problems", "7"], "no problem 7 in the data set"),
        (["--data", "missing.jsonl"], "no such file: missing.jsonl"),
        (["--data", "bad.jsonl"], "HumanEval data line 1 is not a problem"),
    ])
    func badInputs(arguments: [String], message: String) throws {
        let dir = try TempDir(files: ["data.jsonl": Self.problem + "\n", "bad.jsonl": "{\"task_id\": 3}\n"])
        let data = arguments.contains("--data") ? [] : ["--data", "data.jsonl"]
        let out = try DoerCLI.run(["bench", "humaneval"] + data + arguments + ["--out", "results"], in: dir.url)
        #expect(out.status != 0)
        #expect(out.stderr.contains(message), "\(out.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.url.appendingPathComponent("results").path), "nothing was written")
    }

    @Test("the HumanEval loop draws fresh answers after no progress unless told --no-fresh-draws")
    func freshDrawsByDefault() throws {
        #expect(try BenchCommand.HumanEval.parse([]).freshDraws)
        #expect(try BenchCommand.HumanEval.parse(["--fresh-draws"]).freshDraws)
        #expect(try !BenchCommand.HumanEval.parse(["--no-fresh-draws"]).freshDraws)
        #expect(throws: (any Error).self) { try BenchCommand.HumanEval.parse(["--fresh-draws=no"]) }
    }

    @Test("agent refuses a bad candidate list")
    func agentCounts() throws {
        let dir = try TempDir()
        let out = try DoerCLI.run(["bench", "agent", "--candidates", "1,x"], in: dir.url)
        #expect(out.status != 0)
        #expect(out.stderr.contains("--candidates takes numbers from 1 to 16"))
    }
}
