import DoerCore
import DoerLanguages
import DoerSandbox
import Foundation
import Testing

/// The language cache persists between runs, so only build steps may write it, and each
/// workspace has its own.
@Suite("language cache isolation")
struct CacheIsolationTests {
    static let probe = Language(
        name: "cacheprobe", displayName: "Cache probe", extensions: ["probe"],
        toolchain: Toolchain([.init("/bin/sh", package: "dash")]),
        run: RunRecipe(build: [LanguageStep(.build, #"echo built > "$DOER_CACHE/marker""#)],
                       run: #"cat "$DOER_CACHE/marker"; echo poisoned > "$DOER_CACHE/marker" && echo WROTE; echo tried > "$DOER_SUPPORT/x" && echo WROTE-SUPPORT; true"#),
        test: nil)

    @Test("build steps write the cache; run steps read it and cannot write it or the support folder")
    func runStepsCannotWrite() async throws {
        let folder = try LanguageTestSupport.project("cache-probe", ["a.probe": ""])
        let outcome = try await FileRunner(sandbox: LanguageTestSupport.sandbox(), cache: LanguageTestSupport.cache)
            .run("a.probe", language: Self.probe, workspace: folder)
        let run = try #require(outcome.run)
        #expect(run.stdout.text == "built\n", "\(run.stdout.text) \(run.stderr.text)")
        #expect(run.stderr.text.contains("Read-only file system"))
        let marker = try LanguageTestSupport.cache.folders(for: Self.probe, workspace: folder).cache + "/marker"
        #expect(try String(contentsOfFile: marker, encoding: .utf8) == "built\n")
    }

    @Test("two workspaces get different caches; a cache is not readable by other users")
    func perWorkspace() throws {
        let a = try LanguageTestSupport.project("cache-a", [:])
        let b = try LanguageTestSupport.project("cache-b", [:])
        let cacheA = try LanguageTestSupport.cache.folders(for: Self.probe, workspace: a)
        let cacheB = try LanguageTestSupport.cache.folders(for: Self.probe, workspace: b)
        #expect(cacheA.cache != cacheB.cache)
        #expect(cacheA.support == cacheB.support)
        var info = stat()
        #expect(stat(cacheA.cache, &info) == 0)
        #expect(info.st_mode & 0o077 == 0)
    }
}
