import DoerCore

/// What the model is told when a project's tests in other languages did not pass: the
/// compiler's errors, the crash, or each failing test with its message.
enum ProjectFailureSummary {
    static func text(of report: ProjectTestReport) -> String? {
        var parts: [String] = []
        for language in report.languages where language.outcome != .passed {
            switch language.outcome {
            case .buildFailed:
                parts.append("\(language.language): the code did not compile (\(language.framework)):\n\(language.detail ?? "")")
            case .crashed:
                parts.append("\(language.language): the test program crashed:\n\(language.detail ?? "")")
            case .toolchainMissing, .noTests:
                parts.append("\(language.language): \(language.detail ?? language.outcome.rawValue)")
            case .failed:
                let failures = language.tests.filter { $0.status == .failed || $0.status == .errored }.map { test in
                    "FAILED \((test.suite.map { $0 + "." } ?? ""))\(test.name)" + (test.message.map { ": " + $0 } ?? "")
                }
                parts.append("\(language.language) (\(language.framework)): \(language.passedCount) passed, \(failures.count) failed\n"
                             + failures.joined(separator: "\n"))
            case .passed:
                break
            }
        }
        if report.languages.isEmpty { parts.append("no tests were found") }
        return parts.isEmpty ? nil : parts.joined(separator: "\n\n")
    }
}
