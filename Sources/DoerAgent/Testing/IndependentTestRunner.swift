import DoerCore
import DoerLanguages
import DoerSandbox
import Foundation

extension IndependentTest {
    /// How the test written apart is named, asked for, recognised and run: with the runner
    /// the strategy's own tests use, whose report names each test, so "red before" and
    /// "green after" are read test by test.
    enum Runner: Sendable, Equatable {
        case pytest
        /// `node --test`: its TAP read by `NodeTestReport`, which finds each test's file.
        case node
        /// `go test` through the catalogue: the test is a file of the package it tests, so
        /// it calls the package's names as they are, unexported ones included.
        case go

        init?(_ strategy: TestStrategy) {
            switch strategy.kind {
            case .pytest: self = .pytest
            case .nodeTest: self = .node
            case .project where strategy.languages.contains("go"): self = .go
            case .project: return nil
            }
        }

        func fileName(numbered suffix: String) -> String {
            switch self {
            case .pytest: "test_request_check\(suffix).py"
            case .node: "request_check\(suffix).test.js"
            case .go: "request_check\(suffix)_test.go"
            }
        }

        var system: String {
            switch self {
            case .pytest: PromptBuilder.independentTestSystem
            case .node: PromptBuilder.independentNodeTestSystem
            case .go: PromptBuilder.independentGoTestSystem
            }
        }

        /// The code fence's language in the writer's request.
        var fence: String {
            switch self {
            case .pytest: "python"
            case .node: "javascript"
            case .go: "go"
            }
        }

        /// Whether a file the writer wrote is of this runner's language.
        func writes(_ path: String) -> Bool {
            switch self {
            case .pytest: path.hasSuffix(".py")
            case .node: [".js", ".mjs", ".cjs"].contains(where: path.hasSuffix)
            case .go: path.hasSuffix(".go")
            }
        }

        /// Whether a file's text holds a test this runner runs.
        func hasTest(_ content: String) -> Bool {
            switch self {
            case .pytest: content.contains("def test")
            case .node: content.range(of: "\\b(test|it)\\s*\\(", options: .regularExpression) != nil
            case .go: !GoSource.testNames(in: content).isEmpty
            }
        }

        func isTest(_ path: String) -> Bool {
            switch self {
            case .pytest: TestStrategy.isPythonTest(path)
            case .node: TestStrategy.isNodeTest(path)
            case .go: path.hasSuffix("_test.go")
            }
        }

        /// The lines of a project's test that show how tests reach its code.
        func isImportLine(_ line: Substring) -> Bool {
            switch self {
            case .pytest: line.hasPrefix("import ") || line.hasPrefix("from ")
            case .node: line.contains("require(") || line.hasPrefix("import ")
            case .go: line.hasPrefix("package ") || line.hasPrefix("import ") || line.hasPrefix("\t\"")
            }
        }
    }

    /// `go test` on the copy through the catalogue, read as the check file's tests alone:
    /// a build that failed ran none of them, which counts as the file's own failure (pytest's
    /// id of a module that did not import). Nil when Go's tests could not be run at all.
    static func goOutcome(of content: String, at path: String, in copy: WorkspaceCopy, sandbox: any Sandbox,
                          cache: LanguageCache) async -> (result: CrossCheck.Outcome, failures: String)? {
        guard let go = try? LanguageCatalogue.language(named: "go") else { return nil }
        let report = await ProjectTestRunner(sandbox: sandbox, cache: cache).run(go, workspace: copy.directory)
        var outcome = CrossCheck.Outcome(complete: true)
        switch report.outcome {
        case .toolchainMissing, .noTests:
            return nil
        case .buildFailed, .crashed:
            outcome.failed = [path]
            return (outcome, FailureTrimmer.trim(report.detail ?? "the tests did not build", maxLines: 12, maxCharacters: 1500))
        case .passed, .failed:
            let names = Set(GoSource.testNames(in: content))
            var failures: [String] = []
            for test in report.tests where names.contains(String(test.name.prefix { $0 != "/" })) {
                let id = path + "::" + test.name
                switch test.status {
                case .passed: outcome.passed.insert(id)
                case .failed, .errored:
                    outcome.failed.insert(id)
                    failures.append("FAILED \(id)" + (test.message.map { ": " + $0.prefix(400) } ?? ""))
                case .skipped: break
                }
            }
            return (outcome, failures.prefix(12).joined(separator: "\n"))
        }
    }
}
