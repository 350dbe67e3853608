import DoerCore
import DoerModels
import Foundation

/// When the agent spends a model turn on a plan.
public enum PlanningMode: String, Sendable, CaseIterable {
    /// The model writes the plan for larger tasks; small ones get a derived plan.
    case auto
    /// Always ask the model for the plan.
    case model
    /// Never spend a model turn on the plan.
    case derived
}

/// The plan shown before the work starts and kept in the session. Small tasks (the common
/// case with a small local model) get a short plan derived from the request and the
/// workspace without a model turn; larger ones get a plan the model writes.
enum Planner {
    static func plan(task: String, files: [String], strategy: TestStrategy) -> Plan {
        let mentioned = mentionedFiles(in: task)
        var steps = ["Write the code for the task" + (mentioned.isEmpty ? "" : " in " + mentioned.joined(separator: ", "))]
        if !strategy.hasTests(files) { steps.append("Write tests for it") }
        steps.append("Run the tests: \(strategy.description)")
        steps.append("Repair what fails until the tests pass")
        steps.append("Show the diff and apply it with approval")
        return Plan(steps: steps, files: mentioned, language: language(of: strategy), testStrategy: strategy.description)
    }

    /// A task is larger when it asks for several things or spans several files: then a
    /// written plan helps the model keep to all of it, worth one extra turn.
    static func wantsModelPlan(task: String, files: [String], mode: PlanningMode) -> Bool {
        switch mode {
        case .model: return true
        case .derived: return false
        case .auto:
            // Code the request quotes (fenced, or indented like a function with its
            // docstring) says what to write, not how many things to do.
            let prose = task.components(separatedBy: "```").enumerated().filter { $0.offset % 2 == 0 }.map(\.element).joined()
                .split(separator: "\n").filter { line in
                    guard let first = line.first, !first.isWhitespace else { return false }
                    return line.range(of: #"^(def|class|import|from|>>>|#|@|return)\b"#, options: .regularExpression) == nil
                }.joined(separator: "\n")
            let words = prose.split(whereSeparator: \.isWhitespace).count
            let requests = prose.components(separatedBy: CharacterSet(charactersIn: ".;\n")).filter {
                $0.split(whereSeparator: \.isWhitespace).count >= 3
            }.count
            return words > 60 || requests >= 4 || mentionedFiles(in: task).count >= 3
        }
    }

    /// Asks the model for the plan; nil when the reply holds no usable steps (the caller
    /// falls back to the derived plan, so a weak model costs one turn, never the run).
    static func modelPlan(task: String, files: [String], strategy: TestStrategy, provider: any ModelProvider,
                          configuration: AgentConfiguration) async throws -> Plan? {
        let request = ModelRequest(
            messages: [.system(PromptBuilder.planningSystem), .user(PromptBuilder.planningRequest(task, files: files, strategy: strategy))],
            temperature: 0, seed: configuration.seed &- 1000, maxTokens: 400)
        let reply = try await provider.complete(request)
        guard let written = parse(reply.text), PlanCheck.problem(written.steps) == nil else { return nil }
        let mentioned = (written.files + mentionedFiles(in: task)).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        return Plan(steps: written.steps, files: mentioned, language: language(of: strategy), testStrategy: strategy.description)
    }

    /// Reads numbered or bulleted steps and an optional `Files:` line.
    static func parse(_ text: String) -> (steps: [String], files: [String])? {
        var steps: [String] = []
        var files: [String] = []
        for raw in text.split(separator: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.lowercased().hasPrefix("files:") {
                files = line.dropFirst(6).split(separator: ",").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: " `*")) }
                    .filter { mentionedFiles(in: $0) == [$0] }
                continue
            }
            guard let marker = line.range(of: #"^(\d{1,2}[.)]|[-*])\s+"#, options: .regularExpression) else { continue }
            let step = line[marker.upperBound...].trimmingCharacters(in: CharacterSet(charactersIn: " *"))
            if step.count >= 3 && !step.hasPrefix("```") { steps.append(String(step.prefix(200))) }
        }
        guard steps.count >= 2 else { return nil }
        return (Array(steps.prefix(8)), files)
    }

    /// The one file the request asks to write, when its words (not the code it quotes)
    /// name exactly one that is not a test.
    static func targetFile(of task: String) -> String? {
        let prose = task.components(separatedBy: "```").enumerated().filter { $0.offset % 2 == 0 }.map(\.element).joined(separator: "\n")
        let named = mentionedFiles(in: prose).filter { path in
            let name = (path as NSString).lastPathComponent
            return !name.hasPrefix("test_") && !name.contains("_test.") && !name.contains(".test.") && !name.contains(".spec.")
        }
        return named.count == 1 ? named[0] : nil
    }

    static func mentionedFiles(in text: String) -> [String] {
        // "in solution.py;" and "to app.py." name files too: sentence punctuation is not part of the name.
        text.split(whereSeparator: { " \n\t`'\"(),:;!?".contains($0) })
            .map { String($0.reversed().drop { $0 == "." }.reversed()) }
            .filter { $0.range(of: "^[A-Za-z0-9_./-]+\\.[a-z]{1,5}$", options: .regularExpression) != nil }
            .reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
    }

    private static func language(of strategy: TestStrategy) -> String {
        switch strategy.kind {
        case .pytest: "python"
        case .nodeTest: "javascript"
        case .project: strategy.languages.first ?? "unknown"
        }
    }
}
