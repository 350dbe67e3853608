public import Foundation

/// The figures a skeptical reader asks for, per mode, from the attempts: pass@1 with a 95%
/// interval, what the loop fixed and broke against single-shot, cost and time.
public struct HumanEvalReport: Sendable, Codable {
    public struct ModeSummary: Sendable, Codable {
        public var passed: Int
        public var total: Int
        public var passAt1: Double
        /// Wilson score interval, 95%.
        public var ciLow: Double
        public var ciHigh: Double
        public var visiblePassed: Int?
        public var timedOut: Int
        public var errors: Int
        public var modelCallsPerProblem: Double
        public var tokensPerProblem: Double
        public var iterationMedianMs: Double?
        public var iterationP90Ms: Double?
        public var wallPerProblemMedianMs: Double
        public var wallPerProblemMeanMs: Double
        public var timeToFirstPassMedianMs: Double?
        /// Share of wall time spent in sandboxed runs (tests and commands).
        public var sandboxShare: Double
        /// Share of wall time that was neither the model nor the sandbox: Doer's own work
        /// (one candidate only; racing candidates overlap).
        public var harnessShare: Double?
        /// Problems this mode passed and single-shot failed, and the reverse.
        public var fixedVsSingle: [String]?
        public var brokenVsSingle: [String]?
        /// Single-shot's pass@1 on exactly this mode's problems (they differ in a partial run).
        public var singleOnSameProblems: Double?
        /// The exact two-sided McNemar p-value of fixed against broken: how likely a split at
        /// least this uneven is if the mode made no difference. Only the problems the two
        /// modes disagree on carry information about the difference.
        public var pairedPValueVsSingle: Double?
        /// Mean wall time per problem against the loop's on the same problems (speculative
        /// mode's cost of racing N candidates instead of one).
        public var wallVsLoop: Double?
    }

    /// pass@1 split by whether the prompt has `>>>` examples: only on those does the loop get
    /// tests it did not write itself, so that is where running code can help most.
    public struct ExampleSplit: Sendable, Codable {
        public struct Side: Sendable, Codable {
            public var problems: Int
            /// Per mode: passed and attempted (they differ from `problems` in a partial run).
            public var passed: [String: Int]
            public var attempted: [String: Int]
        }
        public var withExamples: Side
        public var withoutExamples: Side
    }

    public var model: String
    public var command: String
    public var machine: String
    public var date: String
    public var protocolDescription: String
    public var modes: [String: ModeSummary]
    public var exampleSplit: ExampleSplit?
    public var problems: [HumanEvalAttempt]

    enum CodingKeys: String, CodingKey {
        case model, command, machine, date, protocolDescription = "protocol", modes, exampleSplit, problems
    }

    public static let protocolText = """
        Every mode gets the same task words (the problem's prompt, asked to be completed in solution.py) and the same \
        model, served by the same server. single: one greedy generation, nothing run. loop: Doer's agent with one \
        candidate whose first turn is single mode's request, word for word and greedy; its only tests are the \
        prompt's own `>>>` examples, each turned into its own assert test (when a prompt has none, the model is asked \
        to write its own test file). While they fail: an attempt that passed more examples than the best so far is \
        repaired (the model gets the failing examples back with its code), and one that did not is followed by a \
        fresh draw (single mode's request again, without the failed code); with `--no-fresh-draws` in the command, \
        every failed attempt is repaired. Every turn after the first is sampled (the repair temperature). The loop \
        stops when the examples pass or at the iteration limit and keeps the attempt that passed the most of them \
        (ties keep the earlier one). speculative: the same loop with N \
        candidates, candidate 0 as in loop mode and the others at rising temperatures; the first to pass its \
        visible tests wins, and if none does, candidate 0's best attempt is the answer. The final answer is the model's solution.py as the common sanitising step for chat \
        models reads it: its longest parseable prefix, of which only the imports, functions, classes and \
        module-level assignments are kept (its own asserts and prints are not run), the same in every mode. The data \
        set's hidden `check` is run exactly once per problem and mode, on the final answer, after the prompt's own code, in the bubblewrap sandbox (no network, 10 s, 512 MiB); it is never shown to the model and \
        never used to stop, retry or choose. pass@1 is the share of problems whose final answer passes the hidden \
        test, with a 95% Wilson interval.
        """

    /// `withExamples`: the problems whose prompt has `>>>` examples the loop turns into tests
    /// (nil leaves the split out).
    public init(attempts: [HumanEvalAttempt], model: String, command: String, machine: String, date: Date = Date(),
                withExamples: Set<String>? = nil, problemCount: Int? = nil) {
        if let withExamples {
            func side(_ included: (String) -> Bool, problems: Int) -> ExampleSplit.Side {
                let mine = attempts.filter { included($0.taskID) }
                return ExampleSplit.Side(problems: problems,
                                         passed: Dictionary(grouping: mine.filter(\.passed), by: \.mode.rawValue).mapValues(\.count),
                                         attempted: Dictionary(grouping: mine, by: \.mode.rawValue).mapValues(\.count))
            }
            let total = problemCount ?? Set(attempts.map(\.taskID)).count
            exampleSplit = ExampleSplit(withExamples: side({ withExamples.contains($0) }, problems: withExamples.count),
                                        withoutExamples: side({ !withExamples.contains($0) }, problems: total - withExamples.count))
        }
        self.model = model
        self.command = command
        self.machine = machine
        self.date = ISO8601DateFormatter().string(from: date)
        self.protocolDescription = Self.protocolText
        self.problems = attempts.sorted { ($0.mode.rawValue, Self.order($0.taskID)) < ($1.mode.rawValue, Self.order($1.taskID)) }
        let single = Set(attempts.filter { $0.mode == .single && $0.passed }.map(\.taskID))
        let loopWall = Dictionary(attempts.filter { $0.mode == .loop }.map { ($0.taskID, $0.wallMs) }, uniquingKeysWith: { a, _ in a })
        let singleSeen = Set(attempts.filter { $0.mode == .single }.map(\.taskID))
        var modes: [String: ModeSummary] = [:]
        for mode in HumanEvalMode.allCases {
            let mine = attempts.filter { $0.mode == mode }
            guard !mine.isEmpty else { continue }
            let passed = mine.filter(\.passed).count
            let (low, high) = Self.wilson(passed: passed, total: mine.count)
            let iterations = mine.flatMap(\.iterationMs).sorted()
            let wall = mine.map(\.wallMs).reduce(0, +)
            let comparable = mine.filter { singleSeen.contains($0.taskID) }
            let fixed = comparable.filter { $0.passed && !single.contains($0.taskID) }.map(\.taskID).sorted { Self.order($0) < Self.order($1) }
            let broken = comparable.filter { !$0.passed && single.contains($0.taskID) }.map(\.taskID).sorted { Self.order($0) < Self.order($1) }
            let againstLoop = mine.filter { loopWall[$0.taskID] != nil }
            let loopWallSum = againstLoop.compactMap { loopWall[$0.taskID] }.reduce(0, +)
            modes[mode.rawValue] = ModeSummary(
                passed: passed, total: mine.count, passAt1: Double(passed) / Double(mine.count), ciLow: low, ciHigh: high,
                visiblePassed: mode == .single ? nil : mine.filter { $0.visiblePassed == true }.count,
                timedOut: mine.filter(\.timedOut).count, errors: mine.filter { $0.error != nil }.count,
                modelCallsPerProblem: Double(mine.map(\.modelCalls).reduce(0, +)) / Double(mine.count),
                tokensPerProblem: Double(mine.map(\.tokens).reduce(0, +)) / Double(mine.count),
                iterationMedianMs: Statistics.median(iterations), iterationP90Ms: Statistics.percentile(iterations, 0.9),
                wallPerProblemMedianMs: Statistics.median(mine.map(\.wallMs)) ?? 0,
                wallPerProblemMeanMs: wall / Double(mine.count),
                timeToFirstPassMedianMs: Statistics.median(mine.compactMap(\.timeToFirstPassMs)),
                sandboxShare: wall > 0 ? mine.map(\.sandboxMs).reduce(0, +) / wall : 0,
                harnessShare: mode == .speculative || wall <= 0 ? nil
                    : max(0, wall - mine.map(\.modelMs).reduce(0, +) - mine.map(\.sandboxMs).reduce(0, +)) / wall,
                fixedVsSingle: mode == .single || singleSeen.isEmpty ? nil : fixed,
                brokenVsSingle: mode == .single || singleSeen.isEmpty ? nil : broken,
                singleOnSameProblems: mode == .single || comparable.isEmpty ? nil
                    : Double(comparable.filter { single.contains($0.taskID) }.count) / Double(comparable.count),
                pairedPValueVsSingle: mode == .single || singleSeen.isEmpty ? nil : Self.mcNemar(fixed.count, broken.count),
                wallVsLoop: mode != .speculative || loopWallSum <= 0 ? nil
                    : againstLoop.map(\.wallMs).reduce(0, +) / loopWallSum)
        }
        self.modes = modes
    }

    /// The 95% Wilson score interval of a proportion.
    public static func wilson(passed: Int, total: Int, z: Double = 1.959964) -> (Double, Double) {
        guard total > 0 else { return (0, 0) }
        let n = Double(total), p = Double(passed) / n
        let centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        let half = z * ((p * (1 - p) / n + z * z / (4 * n * n)).squareRoot()) / (1 + z * z / n)
        return (max(0, centre - half), min(1, centre + half))
    }

    /// Exact two-sided McNemar test: under "no difference" each discordant problem is a fair
    /// coin, so the p-value is twice the binomial tail of the smaller count (at most 1).
    public static func mcNemar(_ fixed: Int, _ broken: Int) -> Double {
        let n = fixed + broken
        guard n > 0 else { return 1 }
        var tail = 0.0, term = pow(0.5, Double(n))  // C(n, 0) / 2^n
        for k in 0...min(fixed, broken) {
            tail += term
            term = term * Double(n - k) / Double(k + 1)
        }
        return min(1, 2 * tail)
    }

    /// HumanEval/12 sorts before HumanEval/100.
    static func order(_ taskID: String) -> Int { Int(taskID.split(separator: "/").last ?? "") ?? Int.max }

    private var orderedModes: [(String, ModeSummary)] {
        HumanEvalMode.allCases.compactMap { mode in modes[mode.rawValue].map { (mode.rawValue, $0) } }
    }

    public var markdown: String {
        func pct(_ v: Double) -> String { String(format: "%.1f%%", v * 100) }
        func sec(_ v: Double?) -> String { v.map { String(format: "%.1f s", $0 / 1000) } ?? "—" }
        var text = "# HumanEval with \(model)\n\n"
        text += "Command: `\(command)`  \nMachine: \(machine)  \nDate: \(date)\n\n"
        text += "| mode | pass@1 | 95% CI | passed | visible tests passed | calls/problem | tokens/problem | iteration median | iteration p90 | wall/problem (median) | first pass (median) | sandbox share | harness share |\n"
        text += "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n"
        for (name, m) in orderedModes {
            text += "| \(name) | \(pct(m.passAt1)) | \(pct(m.ciLow))–\(pct(m.ciHigh)) | \(m.passed)/\(m.total) | "
                + "\(m.visiblePassed.map(String.init) ?? "—") | \(String(format: "%.2f", m.modelCallsPerProblem)) | "
                + "\(String(format: "%.0f", m.tokensPerProblem)) | \(sec(m.iterationMedianMs)) | \(sec(m.iterationP90Ms)) | "
                + "\(sec(m.wallPerProblemMedianMs)) | \(sec(m.timeToFirstPassMedianMs)) | \(pct(m.sandboxShare)) | "
                + "\(m.harnessShare.map(pct) ?? "—") |\n"
        }
        for (name, m) in orderedModes where m.fixedVsSingle != nil {
            text += "\n**\(name) against single:** fixed \(m.fixedVsSingle?.count ?? 0), broke \(m.brokenVsSingle?.count ?? 0)"
                + (m.singleOnSameProblems.map { "; on the same \(m.total) problems single-shot passed \(pct($0)), \(name) \(pct(m.passAt1))" } ?? "")
            if let fixed = m.fixedVsSingle, !fixed.isEmpty { text += "  \nfixed: " + fixed.joined(separator: ", ") }
            if let broken = m.brokenVsSingle, !broken.isEmpty { text += "  \nbroken: " + broken.joined(separator: ", ") }
            if let p = m.pairedPValueVsSingle { text += "  \npaired (exact McNemar) p = " + String(format: "%.3g", p) }
            text += "\n"
        }
        for (name, m) in orderedModes {
            guard let ratio = m.wallVsLoop else { continue }
            text += "\n**\(name) cost:** \(String(format: "%.2f", ratio))× the loop's wall time per problem (mean, same problems)\n"
        }
        if let split = exampleSplit {
            text += "\n**By prompt:** the loop's tests are the prompt's `>>>` examples where it has them, and the model's own otherwise.\n\n"
            text += "| mode | \(split.withExamples.problems) problems with `>>>` examples | \(split.withoutExamples.problems) problems without |\n|---|---|---|\n"
            func cell(_ side: ExampleSplit.Side, _ mode: String) -> String {
                let passed = side.passed[mode] ?? 0, attempted = side.attempted[mode] ?? 0
                return attempted == 0 ? "—" : "\(passed)/\(attempted) (\(pct(Double(passed) / Double(attempted))))"
            }
            for (name, _) in orderedModes {
                text += "| \(name) | \(cell(split.withExamples, name)) | \(cell(split.withoutExamples, name)) |\n"
            }
        }
        text += "\n## Protocol\n\n" + Self.protocolText + "\n"
        return text
    }

    /// A bar per mode with its 95% interval.
    public var svg: String {
        let rows = orderedModes
        let width = 520, barHeight = 36, top = 40, left = 110, span = 360
        let height = top + rows.count * (barHeight + 14) + 30
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" font-family=\"sans-serif\" font-size=\"13\">\n"
        svg += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        svg += "<text x=\"10\" y=\"24\" font-size=\"15\">HumanEval pass@1, \(Self.escape(model)) (95% CI)</text>\n"
        for (index, (name, m)) in rows.enumerated() {
            let y = top + index * (barHeight + 14)
            let w = Int(Double(span) * m.passAt1)
            svg += "<text x=\"10\" y=\"\(y + barHeight / 2 + 5)\">\(name)</text>\n"
            svg += "<rect x=\"\(left)\" y=\"\(y)\" width=\"\(w)\" height=\"\(barHeight)\" fill=\"#4a7fb5\"/>\n"
            let lo = left + Int(Double(span) * m.ciLow), hi = left + Int(Double(span) * m.ciHigh), mid = y + barHeight / 2
            svg += "<line x1=\"\(lo)\" y1=\"\(mid)\" x2=\"\(hi)\" y2=\"\(mid)\" stroke=\"black\"/>"
            svg += "<line x1=\"\(lo)\" y1=\"\(mid - 6)\" x2=\"\(lo)\" y2=\"\(mid + 6)\" stroke=\"black\"/>"
            svg += "<line x1=\"\(hi)\" y1=\"\(mid - 6)\" x2=\"\(hi)\" y2=\"\(mid + 6)\" stroke=\"black\"/>\n"
            svg += "<text x=\"\(min(left + w + 6, width - 60))\" y=\"\(y - 3)\">\(String(format: "%.1f%%", m.passAt1 * 100)) (\(m.passed)/\(m.total))</text>\n"
        }
        svg += "<line x1=\"\(left)\" y1=\"\(height - 24)\" x2=\"\(left + span)\" y2=\"\(height - 24)\" stroke=\"#888\"/>"
        svg += "<text x=\"\(left)\" y=\"\(height - 8)\">0%</text><text x=\"\(left + span - 30)\" y=\"\(height - 8)\">100%</text>\n"
        return svg + "</svg>\n"
    }

    private static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
