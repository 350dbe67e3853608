@testable import DoerBench
import Foundation
import Testing

@Suite("bench repo: verdicts and resuming a long run")
struct RepositoryReportTests {
    private func verdict(_ task: String, exit: Int32, hidden: Bool, suite: Bool = true, outcome: String? = nil,
                         evidence: [String]? = nil) -> RepositoryVerdict {
        var verdict = RepositoryVerdict(task: task, project: "p", kind: .bug,
                                        result: RepositoryVerdict.judge(exitCode: exit, hiddenPassed: hidden, suitePassed: suite),
                                        exitCode: exit, outcome: outcome, hiddenPassed: hidden, suitePassed: suite, seconds: 10, detail: "")
        verdict.evidence = evidence
        return verdict
    }

    private func scratch() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("repo-report-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    @Test("an exit 0 whose hidden tests or suite fail is a false success; a fix Doer did not claim is counted apart")
    func judging() {
        #expect(RepositoryVerdict.judge(exitCode: 0, hiddenPassed: true, suitePassed: true) == .solved)
        #expect(RepositoryVerdict.judge(exitCode: 0, hiddenPassed: false, suitePassed: true) == .falseSuccess)
        #expect(RepositoryVerdict.judge(exitCode: 0, hiddenPassed: true, suitePassed: false) == .falseSuccess)
        #expect(RepositoryVerdict.judge(exitCode: 3, hiddenPassed: true, suitePassed: true) == .unclaimedFix)
        #expect(RepositoryVerdict.judge(exitCode: 3, hiddenPassed: false, suitePassed: true) == .failed)
    }

    @Test("resuming keeps the earlier verdicts of the chosen tasks and only those")
    func resumeKeepsChosen() throws {
        let folder = try scratch()
        defer { try? FileManager.default.removeItem(at: folder) }
        let json = folder.appendingPathComponent("r.json")
        let report = RepositoryReport(model: "m", candidates: 1, verdicts: [verdict("a", exit: 0, hidden: true), verdict("b", exit: 3, hidden: false)])
        try JSONEncoder().encode(report).write(to: json)
        let kept = try RepositoryReport.earlierVerdicts(in: json, model: "m", candidates: 1, tasks: ["b", "c"])
        #expect(kept.map(\.task) == ["b"])
        #expect(try RepositoryReport.earlierVerdicts(in: folder.appendingPathComponent("none.json"), model: "m", candidates: 1, tasks: ["a"]).isEmpty)
    }

    @Test("a report of another model or candidate count, or one that does not decode, is refused, never mixed in")
    func resumeRefusesOthers() throws {
        let folder = try scratch()
        defer { try? FileManager.default.removeItem(at: folder) }
        let json = folder.appendingPathComponent("r.json")
        try JSONEncoder().encode(RepositoryReport(model: "m", candidates: 4, verdicts: [verdict("a", exit: 0, hidden: true)])).write(to: json)
        #expect(throws: RepositoryBenchmarkError.self) {
            try RepositoryReport.earlierVerdicts(in: json, model: "m", candidates: 1, tasks: ["a"])
        }
        try Data("{ not json".utf8).write(to: json)
        do {
            _ = try RepositoryReport.earlierVerdicts(in: json, model: "m", candidates: 4, tasks: ["a"])
            Issue.record("a broken report was read")
        } catch let error as RepositoryBenchmarkError {
            #expect(error.description.contains("move it away"))
        }
        #expect(FileManager.default.fileExists(atPath: json.path), "the broken report is left where it was")
    }

    @Test("the evidence's sources are read from doer exec --json's last evidence event")
    func evidenceFromJSON() {
        let lines = """
            {"plan":{"_0":{"steps":[]}}}
            {"evidence":{"_0":{"kind":"red-green","verified":true,"sources":["request-examples","model-tests"],"summary":"s","command":"c","failedBefore":[],"passedAfter":[]}}}
            {"done":{"_0":{"outcome":"passed"}}}
            """
        #expect(RepositoryBenchmark.evidenceSources(inJSONLines: lines) == ["request-examples", "model-tests"])
        #expect(RepositoryBenchmark.evidenceSources(inJSONLines: "{\"done\":{}}\nnot json") == nil)
        // As `doer exec --json` writes them: one flat object per event.
        let flat = """
            {"type":"plan","steps":[]}
            {"command":"c","failedBefore":[],"kind":"red-green","passedAfter":[],"sources":["model-tests"],"summary":"s","type":"evidence","verified":true}
            {"outcome":"passed","type":"done"}
            """
        #expect(RepositoryBenchmark.evidenceSources(inJSONLines: flat) == ["model-tests"])
        #expect(RepositoryBenchmark.evidenceSources(inJSONLines: "{\"type\":\"evidence\",\"kind\":\"none\"}") == [])
        // A record written before sources were kept has none.
        #expect(RepositoryBenchmark.evidenceSources(inJSONLines: "{\"evidence\":{\"_0\":{\"kind\":\"none\"}}}") == [])
    }

    @Test("the summary counts unverified runs and false successes")
    func summary() {
        let report = RepositoryReport(model: "m", candidates: 1, verdicts: [
            verdict("a", exit: 0, hidden: true, outcome: "passed"),
            verdict("b", exit: 0, hidden: false, outcome: "passed"),
            verdict("c", exit: 2, hidden: false, outcome: "unverified"),
            verdict("d", exit: 0, hidden: true, outcome: "passed", evidence: ["model-tests"]),
            verdict("e", exit: 0, hidden: true, outcome: "passed", evidence: ["model-tests", "independent-test"]),
        ])
        #expect(report.count(.falseSuccess) == 1)
        #expect(report.summary.contains("claimed on the model's own tests only 1,"))
        #expect(report.summary.contains("on the model's own backed by a test written apart 1,"))
        #expect(report.summary.contains("solved 3 of 5"))
        #expect(report.summary.contains("false successes 1"))
        #expect(report.summary.contains("unverified 1"))
    }
}
