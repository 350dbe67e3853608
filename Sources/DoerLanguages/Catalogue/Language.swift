public import DoerCore
import Foundation

/// Everything Doer knows about one language: how to recognise it, which toolchain it needs,
/// and how to build, run and test it inside the sandbox.
///
/// Steps are shell scripts run by `/bin/sh -c` in the sandbox, starting in the workspace.
/// They see `DOER_CACHE` (the language's persistent cache for this workspace, writable only
/// in build steps), `DOER_SUPPORT` (Doer's read-only harness files for the language) and,
/// for `doer run`, `DOER_FILE` plus the program's arguments as `"$@"`.
public struct Language: Sendable {
    /// Catalogue name, used on the command line (`python`, `cpp`).
    public var name: String
    public var displayName: String
    public var extensions: [String]
    /// Files whose presence at the project root marks a project of this language.
    public var manifests: [String]
    public var toolchain: Toolchain
    /// Variables added to every step (caches, PATH).
    public var environment: [String: String]
    public var run: RunRecipe?
    public var test: TestRecipe?
    /// Files written into the read-only support folder (harnesses, type declarations).
    public var supportFiles: [String: String]

    public init(name: String, displayName: String, extensions: [String], manifests: [String] = [],
                toolchain: Toolchain, environment: [String: String] = [:], run: RunRecipe?,
                test: TestRecipe?, supportFiles: [String: String] = [:]) {
        self.name = name
        self.displayName = displayName
        self.extensions = extensions
        self.manifests = manifests
        self.toolchain = toolchain
        self.environment = environment
        self.run = run
        self.test = test
        self.supportFiles = supportFiles
    }

    /// Whether `path` (relative to the workspace) is a source file of this language.
    public func matches(file path: String) -> Bool {
        extensions.contains((path as NSString).pathExtension.lowercased())
    }
}

/// One sandboxed command of a recipe.
public struct LanguageStep: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable {
        /// Compiles; the only kind of step that may write the language cache.
        case build
        case run
        case test
    }

    public var kind: Kind
    public var script: String

    public init(_ kind: Kind, _ script: String) {
        self.kind = kind
        self.script = script
    }
}

/// How `doer run FILE` runs one source file.
public struct RunRecipe: Sendable, Hashable {
    /// Steps before the program runs (compiling); empty for interpreted languages.
    public var build: [LanguageStep]
    public var run: LanguageStep

    public init(build: [LanguageStep] = [], run: String) {
        self.build = build
        self.run = LanguageStep(.run, run)
    }
}

/// How a project's tests are found, built and run, and how their output is read.
public struct TestRecipe: Sendable {
    /// The framework's name, as shown in reports.
    public var framework: String
    /// What the framework needs beyond the language's own toolchain.
    public var requirements: [Toolchain.Requirement]
    /// Whether a file (relative path) is a test file of this framework.
    public var isTestFile: @Sendable (_ path: String) -> Bool
    public var build: [LanguageStep]
    /// Prints the machine-readable report on stdout; the framework's own chatter goes to stderr.
    public var test: LanguageStep
    public var format: TestOutputFormat

    public init(framework: String, requirements: [Toolchain.Requirement] = [],
                isTestFile: @escaping @Sendable (_ path: String) -> Bool,
                build: [LanguageStep] = [], test: String, format: TestOutputFormat) {
        self.framework = framework
        self.requirements = requirements
        self.isTestFile = isTestFile
        self.build = build
        self.test = LanguageStep(.test, test)
        self.format = format
    }
}

/// The machine-readable output a test step prints on stdout.
public enum TestOutputFormat: String, Sendable, Hashable {
    /// Test Anything Protocol, possibly several programs framed by `##doer-begin`/`##doer-end` lines.
    case tap
    /// JUnit XML (pytest, PHPUnit, testthat).
    case junitXML
    /// `go test -json` / `go tool test2json` events.
    case goTestJSON
    /// libtest's text output (`test name ... ok`), one block per test binary.
    case rustLibtest
    /// Minitest's verbose output.
    case minitest
    /// XCTest's console output.
    case xctest
}
