public import DoerCore
public import DoerLanguages
public import DoerSandbox
public import Foundation

/// Times each language's hello-world run and test run, with a cold cache and a warm one,
/// in the sandbox and bare (the same step scripts as plain host processes in the workspace),
/// so the sandbox's share is measured in the same run.
public struct LanguageBenchmark: Sendable {
    public struct Row: Sendable, Codable, Hashable {
        public var language: String
        public var helloColdMs: Double
        public var helloWarmMs: Double
        public var helloBareColdMs: Double
        public var helloBareWarmMs: Double
        public var testColdMs: Double
        public var testWarmMs: Double
        public var testBareColdMs: Double
        public var testBareWarmMs: Double
        /// Anything that did not behave as expected (wrong output, unexpected outcome).
        public var problems: [String]
    }

    public let sandbox: any Sandbox
    let bare: any Sandbox = BareHostRunner()
    public let cache: LanguageCache
    /// Caches of the bare runs, owned by the current user.
    public let bareCache: LanguageCache
    public let scratch: URL

    public init(sandbox: any Sandbox, cache: LanguageCache, scratch: URL) {
        self.sandbox = sandbox
        self.cache = cache
        self.bareCache = LanguageCache(root: cache.root.deletingLastPathComponent().appendingPathComponent("languages-bare"),
                                       owner: nil)
        self.scratch = scratch
    }

    public func run(_ languages: [Language], progress: @Sendable (String) -> Void = { _ in }) async throws(DoerError) -> [Row] {
        var rows: [Row] = []
        for language in languages {
            guard let sample = LanguageSamples.sample(for: language.name) else { continue }
            progress(language.name)
            rows.append(try await measure(language, sample))
        }
        return rows
    }

    private func measure(_ language: Language, _ sample: LanguageSample) async throws(DoerError) -> Row {
        let root = scratch.appendingPathComponent(language.name, isDirectory: true)
        let helloDir = root.appendingPathComponent("hello", isDirectory: true)
        let projectDir = root.appendingPathComponent("project", isDirectory: true)
        try SampleFiles.write([sample.helloFile: sample.helloSource], to: helloDir)
        try SampleFiles.write(sample.project, to: projectDir)
        var problems: [String] = []

        func hello(_ sandbox: any Sandbox, _ cache: LanguageCache) async throws(DoerError) -> Double {
            let started = ContinuousClock.now
            let outcome = try await FileRunner(sandbox: sandbox, cache: cache)
                .run(sample.helloFile, language: language, workspace: helloDir, applyChanges: false)
            let elapsed = (ContinuousClock.now - started).milliseconds
            let output = outcome.run?.stdout.text ?? ""
            if output != sample.helloOutput {
                let why = outcome.failedBuild.map { ProjectTestRunner.output($0) } ?? outcome.run.map { ProjectTestRunner.output($0) } ?? ""
                problems.append("hello printed \(output.debugDescription) (\(why.prefix(300)))")
            }
            return elapsed
        }
        func tests(_ sandbox: any Sandbox, _ cache: LanguageCache) async -> Double {
            let started = ContinuousClock.now
            let report = await ProjectTestRunner(sandbox: sandbox, cache: cache).run(language, workspace: projectDir)
            let elapsed = (ContinuousClock.now - started).milliseconds
            let failing = report.tests.filter { $0.status == .failed }.map(\.name)
            if report.outcome != .failed || failing != [sample.failingTest] {
                problems.append("tests: \(report.outcome.rawValue), failing \(failing) \(report.detail?.prefix(300) ?? "")")
            }
            return elapsed
        }

        cache.clear(language, workspace: helloDir)
        bareCache.clear(language, workspace: helloDir)
        cache.clear(language, workspace: projectDir)
        bareCache.clear(language, workspace: projectDir)
        let helloCold = try await hello(sandbox, cache)
        let helloWarm = try await hello(sandbox, cache)
        let helloBareCold = try await hello(bare, bareCache)
        let helloBareWarm = try await hello(bare, bareCache)
        let testCold = await tests(sandbox, cache)
        let testWarm = await tests(sandbox, cache)
        let testBareCold = await tests(bare, bareCache)
        let testBareWarm = await tests(bare, bareCache)
        return Row(language: language.name, helloColdMs: helloCold, helloWarmMs: helloWarm,
                   helloBareColdMs: helloBareCold, helloBareWarmMs: helloBareWarm,
                   testColdMs: testCold, testWarmMs: testWarm, testBareColdMs: testBareCold, testBareWarmMs: testBareWarm,
                   problems: Array(Set(problems)).sorted())
    }
}
