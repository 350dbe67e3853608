import Foundation

extension Language {
    /// SwiftPM packages with XCTest, built into the cache; the toolchain is the swift.org
    /// one at /opt/swift (Debian has none), mounted read-only.
    static let swift = Language(
        name: "swift", displayName: "Swift", extensions: ["swift"], manifests: ["Package.swift"],
        toolchain: Toolchain([.init("/opt/swift/usr/bin/swiftc", package: nil)], readOnlyPaths: ["/opt/swift"],
                             manualInstall: "install the swift.org toolchain for Debian 12 into /opt/swift"),
        environment: ["PATH": "/opt/swift/usr/bin:/usr/local/bin:/usr/bin:/bin"],
        run: RunRecipe(
            build: [LanguageStep(.build, #"""
            mkdir -p "$DOER_CACHE/run" && swiftc -module-cache-path "$DOER_CACHE/module-cache" -o "$DOER_CACHE/run/program" "$DOER_FILE"
            """#)],
            run: #"exec "$DOER_CACHE/run/program" "$@""#),
        test: TestRecipe(
            framework: "XCTest",
            isTestFile: { path in
                TestFilePattern.ext(path) == "swift" && TestFilePattern.folders(path).first == "Tests"
            },
            build: [LanguageStep(.build, #"""
            [ -f Package.swift ] || { echo "Swift tests need a Package.swift" >&2; exit 1; }
            swift build --build-tests --scratch-path "$DOER_CACHE/build" -j 2
            """#)],
            test: #"""
            status=0
            for t in "$DOER_CACHE"/build/debug/*.xctest; do
                [ -e "$t" ] || continue
                doer_program "$(basename "$t")" "$t" 2>&1 || status=1
            done
            exit $status
            """#,
            format: .xctest))
}
