import Foundation

extension Language {
    /// Mono's C# compiler; tests are public methods marked `[Test]` (Doer's DoerTest
    /// namespace provides the attribute and a small Assert), run by a reflection runner.
    static let csharp = Language(
        name: "csharp", displayName: "C#", extensions: ["cs"], manifests: [],
        toolchain: Toolchain([.init("/usr/bin/mcs", package: "mono-mcs"), .init("/usr/bin/mono", package: "mono-runtime")],
                             readOnlyPaths: ["/etc/mono"]),
        environment: ["MONO_GAC_PREFIX": "/usr"],
        run: RunRecipe(
            build: [LanguageStep(.build, #"""
            mkdir -p "$DOER_CACHE/run" && mcs -nologo -out:"$DOER_CACHE/run/program.exe" "$DOER_FILE"
            """#)],
            run: #"exec mono "$DOER_CACHE/run/program.exe" "$@""#),
        test: TestRecipe(
            framework: "DoerTest",
            isTestFile: { path in
                let stem = TestFilePattern.stem(path)
                return TestFilePattern.ext(path) == "cs" && (stem.hasSuffix("Test") || stem.hasSuffix("Tests"))
            },
            build: [LanguageStep(.build, #"""
            out="$DOER_CACHE/tests"; rm -rf "$out"; mkdir -p "$out"
            doer_files -name '*.cs' | while read -r f; do
                grep -qE 'static[[:space:]]+(void|int|async[[:space:]]+[A-Za-z<>]+)[[:space:]]+Main[[:space:]]*\(' "$f" || echo "$f"
            done > /tmp/doer-sources
            mcs -nologo -target:library -out:"$out/project.dll" "$DOER_SUPPORT/DoerTest.cs" $(cat /tmp/doer-sources) || exit 1
            mcs -nologo -out:"$out/runner.exe" "$DOER_SUPPORT/DoerTestRunner.cs"
            """#)],
            test: #"exec mono "$DOER_CACHE/tests/runner.exe" "$DOER_CACHE/tests/project.dll" 2>&1"#,
            format: .tap),
        supportFiles: ["DoerTest.cs": Harnesses.csharpAssert, "DoerTestRunner.cs": Harnesses.csharpRunner])
}
