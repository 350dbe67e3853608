import DoerCore
import DoerLanguages
import DoerSandbox
import Foundation
import Testing

/// Every catalogued language, end to end in the real sandbox: a project with one passing
/// and one failing test must be reported test by test, naming exactly the failing test and
/// its message; the hello-world program must print its line.
// One language at a time: every sandbox runs as the same host uid, whose process count
// (RLIMIT_NPROC) a JVM and a SwiftPM build running at once can push near the limit other runs get.
@Suite("language conformance", .serialized)
struct ConformanceTests {
    static let languages = LanguageSamples.all.map(\.language)

    @Test("the catalogue has a sample for every language, and at least 16 languages")
    func catalogueCoverage() {
        #expect(LanguageCatalogue.all.count >= 16)
        #expect(Set(LanguageCatalogue.all.map(\.name)) == Set(Self.languages))
    }

    @Test("a project's tests are reported one by one", arguments: languages)
    func tests(_ name: String) async throws {
        let language = try LanguageCatalogue.language(named: name)
        let sample = try #require(LanguageSamples.sample(for: name))
        try #require(LanguageToolchains.isInstalled(language),
                     "\(name) is not installed: \(LanguageToolchains.missing(language).map(\.path)); scripts/setup.sh installs it")
        let project = try LanguageTestSupport.project("conformance-\(name)", sample.project)
        // Detection finds this language (and only languages with tests) from the files.
        #expect(LanguageCatalogue.languagesWithTests(in: ProjectFiles.list(project)).map(\.name) == [name])

        let report = try await LanguageTestSupport.runner().run(language, workspace: project)
        #expect(report.outcome == .failed, "\(report.outcome): \(report.detail ?? "")")
        #expect(report.tests.filter { $0.status == .failed }.map(\.name) == [sample.failingTest])
        #expect(report.tests.filter { $0.status == .passed }.map(\.name) == [sample.passingTest])
        let failure = report.tests.first { $0.name == sample.failingTest }
        #expect(failure?.message?.contains(sample.failureMessage) == true, "message: \(failure?.message ?? "nil")")
        #expect(report.framework == language.test?.framework)
    }

    @Test("a source file runs and prints", arguments: languages)
    func hello(_ name: String) async throws {
        let language = try LanguageCatalogue.language(named: name)
        let sample = try #require(LanguageSamples.sample(for: name))
        try #require(LanguageToolchains.isInstalled(language))
        let folder = try LanguageTestSupport.project("hello-\(name)", [sample.helloFile: sample.helloSource])
        #expect(try LanguageCatalogue.language(forFile: sample.helloFile).name == name)
        let outcome = try await FileRunner(sandbox: LanguageTestSupport.sandbox(), cache: LanguageTestSupport.cache)
            .run(sample.helloFile, language: language, arguments: [], workspace: folder, applyChanges: false)
        #expect(outcome.failedBuild == nil, "\(outcome.failedBuild?.stderr.text ?? "")")
        #expect(outcome.run?.stdout.text == sample.helloOutput, "\(outcome.run?.stderr.text ?? "")")
        #expect(outcome.run?.termination == .exited(0))
    }
}
