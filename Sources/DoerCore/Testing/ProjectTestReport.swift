import Foundation

/// One test as a framework reported it.
public struct TestCaseResult: Sendable, Hashable, Codable {
    public enum Status: String, Sendable, Hashable, Codable {
        case passed
        /// An assertion did not hold.
        case failed
        /// The test ended with an unexpected exception, panic or signal rather than an assertion.
        case errored
        case skipped
    }

    /// The test's name as its framework spells it (`test_add`, `TestSum`, `adds numbers`).
    public var name: String
    /// Where it lives: file, class, module or package, when the framework says.
    public var suite: String?
    public var status: Status
    /// The failure or error message, trimmed to what a person (or a model) needs.
    public var message: String?
    public var durationMs: Double?

    public init(name: String, suite: String? = nil, status: Status, message: String? = nil, durationMs: Double? = nil) {
        self.name = name
        self.suite = suite
        self.status = status
        self.message = message
        self.durationMs = durationMs
    }
}

/// How one language's tests went in one project.
public struct LanguageTestReport: Sendable, Hashable, Codable {
    public enum Outcome: String, Sendable, Hashable, Codable {
        /// Every test passed (skipped ones aside).
        case passed
        /// At least one test failed or errored.
        case failed
        /// The code or the tests did not compile; no test ran.
        case buildFailed = "build-failed"
        /// The test program itself died (signal, timeout, runner crash) rather than reporting a failure.
        case crashed
        /// The project has files of this language but no tests the framework found.
        case noTests = "no-tests"
        /// The toolchain is not installed on this machine; `detail` says how to install it.
        case toolchainMissing = "toolchain-missing"
    }

    /// The catalogue name of the language (`python`, `go`, `cpp`).
    public var language: String
    /// The framework that ran (`pytest`, `go test`, `JUnit 4`).
    public var framework: String
    public var outcome: Outcome
    public var tests: [TestCaseResult]
    /// For build failures and crashes: the compiler's errors or the crash, trimmed.
    public var detail: String?
    public var durationMs: Double

    public init(language: String, framework: String, outcome: Outcome, tests: [TestCaseResult] = [],
                detail: String? = nil, durationMs: Double = 0) {
        self.language = language
        self.framework = framework
        self.outcome = outcome
        self.tests = tests
        self.detail = detail
        self.durationMs = durationMs
    }

    public var passedCount: Int { tests.count { $0.status == .passed } }
    public var failedCount: Int { tests.count { $0.status == .failed || $0.status == .errored } }
    public var skippedCount: Int { tests.count { $0.status == .skipped } }
}

/// The tests of a whole project, one entry per language that has tests.
public struct ProjectTestReport: Sendable, Hashable, Codable {
    public var languages: [LanguageTestReport]
    public var durationMs: Double

    public init(languages: [LanguageTestReport], durationMs: Double = 0) {
        self.languages = languages
        self.durationMs = durationMs
    }

    /// True only when some tests ran and every language passed.
    public var passed: Bool { !languages.isEmpty && languages.allSatisfy { $0.outcome == .passed } }

    /// The tests that did not pass, with their language.
    public var failures: [(language: String, test: TestCaseResult)] {
        languages.flatMap { report in
            report.tests.filter { $0.status == .failed || $0.status == .errored }.map { (report.language, $0) }
        }
    }
}
