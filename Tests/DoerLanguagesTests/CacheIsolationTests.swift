import DoerCore
import DoerLanguages
import DoerSandbox
import Foundation
import Testing

/// The language cache persists between runs, so only build steps may write it, and each
/// workspace has its own.
@Suite("language cache isolation")
struct CacheIsolationTests {
    /// Its build opens its cache to every account.
    static let opener = Language(
        name: "openprobe", displayName: "Open cache probe", extensions: ["open"],
        toolchain: Toolchain([.init("/bin/sh", package: "dash")]),
        run: RunRecipe(build: [LanguageStep(.build, #"chmod 777 "$DOER_CACHE" && echo OPENED"#)], run: "true"),
        test: nil)

    @Test("a build that opens its cache to every account leaves it closed again")
    func openedCacheIsClosed() async throws {
        let folder = try LanguageTestSupport.project("cache-open", ["a.open": ""])
        let folders = try LanguageTestSupport.cache.folders(for: Self.opener, workspace: folder)
        let runner = LanguageStepRunner(sandbox: try LanguageTestSupport.sandbox(), language: Self.opener, folders: folders, workspace: folder)
        let r = try await runner.run(try #require(Self.opener.run?.build.first), limits: ResourceLimits())
        #expect(r.stdout.text.contains("OPENED"), "\(r.stderr.text)")
        var info = stat()
        #expect(stat(folders.cache, &info) == 0 && info.st_mode & 0o777 == 0o700)
    }

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

    /// Its build nests folders past what the disk limit's scan measures, then writes 24 MiB
    /// under a 16 MiB limit.
    static let deepBuilder = Language(
        name: "deepprobe", displayName: "Deep cache probe", extensions: ["deep"],
        toolchain: Toolchain([.init("/bin/sh", package: "dash")]),
        run: RunRecipe(build: [LanguageStep(.build, #"""
            cd "$DOER_CACHE"; ls -d d >/dev/null 2>&1 && echo WARM
            i=0; while [ $i -lt 140 ]; do mkdir -p d && cd d; i=$((i+1)); done
            head -c 25165824 /dev/zero > big && echo WROTE
            """#)], run: "true"),
        test: nil)

    @Test("a cache an earlier build nested past the disk limit's reach starts cold: the next build is measured")
    func unmeasurableCacheStartsCold() async throws {
        let folder = try LanguageTestSupport.project("cache-deep", ["a.deep": ""])
        let limits = ResourceLimits(diskBytes: 16 << 20)
        let runner = LanguageStepRunner(sandbox: try LanguageTestSupport.sandbox(), language: Self.deepBuilder,
                                        folders: try LanguageTestSupport.cache.folders(for: Self.deepBuilder, workspace: folder), workspace: folder)
        let step = try #require(Self.deepBuilder.run?.build.first)
        // The first build goes over the limit once the tree is deep; whatever it left stays.
        let first = try await runner.run(step, limits: limits)
        #expect(first.warnings.contains { $0.contains("disk limit") }, "\(first.warnings) \(first.stdout.text)")
        // The second finds its cache unmeasurable and starts cold, so it is stopped again.
        let second = try await runner.run(step, limits: limits)
        #expect(!second.stdout.text.contains("WARM"), "the deep tree was cleared before the build: \(second.stdout.text)")
        #expect(second.warnings.contains { $0.contains("disk limit") }, "\(second.warnings) \(second.stdout.text)")
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
