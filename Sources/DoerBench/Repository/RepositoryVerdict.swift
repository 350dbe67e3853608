import Foundation

/// What one run of `doer exec` on a task came to, judged by the hidden tests.
public struct RepositoryVerdict: Sendable, Codable, Hashable {
    public enum Result: String, Sendable, Codable, Hashable {
        /// Doer exited 0 and the hidden tests and the rest of the suite pass.
        case solved
        /// Doer exited 0 but the hidden tests (or the suite) fail: the worst result there is.
        case falseSuccess = "false-success"
        /// Doer did not claim success and the hidden tests fail.
        case failed
        /// Doer did not claim success, yet its applied change passes the hidden tests.
        case unclaimedFix = "unclaimed-fix"
    }

    public var task: String
    public var project: String
    public var kind: RepositoryTask.Kind
    public var result: Result
    public var exitCode: Int32
    /// The run's outcome as Doer reported it (`passed`, `unverified`, `failed`…), when it got that far.
    public var outcome: String?
    /// Whose tests went red to green when Doer claimed evidence (`request-examples`,
    /// `workspace-tests`, `model-tests`, `independent-test`); nil when the run had no evidence event.
    public var evidence: [String]?
    public var hiddenPassed: Bool
    public var suitePassed: Bool
    public var seconds: Double
    /// The last lines Doer or the hidden run printed, for reading a failure later.
    public var detail: String

    public static func judge(exitCode: Int32, hiddenPassed: Bool, suitePassed: Bool) -> Result {
        let fixed = hiddenPassed && suitePassed
        if exitCode == 0 { return fixed ? .solved : .falseSuccess }
        return fixed ? .unclaimedFix : .failed
    }
}

/// Totals over a run of the benchmark.
public struct RepositoryReport: Sendable, Codable {
    public var model: String
    public var candidates: Int
    public var verdicts: [RepositoryVerdict]

    public init(model: String, candidates: Int, verdicts: [RepositoryVerdict]) {
        self.model = model
        self.candidates = candidates
        self.verdicts = verdicts
    }

    /// The verdicts an earlier run of the same model and candidate count recorded in `json` for
    /// these tasks (none when there is no file); a run of other settings is not mixed in.
    public static func earlierVerdicts(in json: URL, model: String, candidates: Int, tasks: [String]) throws -> [RepositoryVerdict] {
        guard FileManager.default.fileExists(atPath: json.path) else { return [] }
        let report: RepositoryReport
        do {
            report = try JSONDecoder().decode(RepositoryReport.self, from: Data(contentsOf: json))
        } catch {
            throw RepositoryBenchmarkError.cannotResume("\(json.path) is not a report this version reads (\(error)); move it away to start afresh")
        }
        guard report.model == model, report.candidates == candidates else {
            throw RepositoryBenchmarkError.cannotResume("\(json.path) holds \(report.model) with \(report.candidates) candidate(s), not \(model) with \(candidates)")
        }
        let wanted = Set(tasks)
        return report.verdicts.filter { wanted.contains($0.task) }
    }

    public func count(_ result: RepositoryVerdict.Result) -> Int { verdicts.filter { $0.result == result }.count }
    public var unverified: Int { verdicts.filter { $0.outcome == "unverified" }.count }
    public var medianSeconds: Double { Statistics.median(verdicts.map(\.seconds)) ?? 0 }

    public var markdown: String {
        var lines = ["| task | kind | result | doer outcome (exit) | red → green from | hidden tests | suite | time |",
                     "|---|---|---|---|---|---|---|---|"]
        for v in verdicts {
            let evidence = v.evidence.map { $0.isEmpty ? "—" : $0.joined(separator: ", ") } ?? "—"
            lines.append("| \(v.task) | \(v.kind.rawValue) | \(v.result.rawValue) | \(v.outcome ?? "—") (\(v.exitCode)) | \(evidence) | "
                + "\(v.hiddenPassed ? "pass" : "fail") | \(v.suitePassed ? "pass" : "fail") | \(String(format: "%.0f s", v.seconds)) |")
        }
        lines.append("")
        lines.append(summary)
        return lines.joined(separator: "\n")
    }

    private func claimed(on sources: [String]) -> Int {
        verdicts.filter { $0.exitCode == 0 && $0.evidence == sources }.count
    }

    public var summary: String {
        "\(model), \(candidates) candidate(s): solved \(count(.solved)) of \(verdicts.count), false successes \(count(.falseSuccess)), "
            + "unverified \(unverified), claimed on the model's own tests only \(claimed(on: ["model-tests"])), "
            + "on the model's own backed by a test written apart \(claimed(on: ["model-tests", "independent-test"])), "
            + "fixed but not claimed \(count(.unclaimedFix)), median \(String(format: "%.0f", medianSeconds)) s per task"
    }
}
