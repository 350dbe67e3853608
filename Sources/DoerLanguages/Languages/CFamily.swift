import Foundation

extension Language {
    static let c = cFamily(name: "c", displayName: "C", compiler: "gcc", package: "gcc",
                           extensions: ["c"], flags: "-std=c11")
    static let cpp = cFamily(name: "cpp", displayName: "C++", compiler: "g++", package: "g++",
                             extensions: ["cpp", "cc", "cxx"], flags: "-std=c++17")

    /// Each test file (`test_*.c`, `*_test.c`, files in `tests/`) is linked with the
    /// project's sources that have no `main` and with Doer's doer_test.h harness.
    private static func cFamily(name: String, displayName: String, compiler: String, package: String,
                                extensions: [String], flags: String) -> Language {
        let find = extensions.map { "-name '*.\($0)'" }.joined(separator: " -o ")
        let testRegex = #"(^|/)(test_[^/]*|[^/]*_test)\.[a-z]+$|(^|/)tests?/[^/]*$"#
        return Language(
            name: name, displayName: displayName, extensions: extensions, manifests: ["Makefile", "CMakeLists.txt"],
            toolchain: Toolchain([.init("/usr/bin/\(compiler)", package: package),
                                  .init("/usr/include/stdio.h", package: "libc6-dev")]),
            run: RunRecipe(
                build: [LanguageStep(.build, """
                mkdir -p "$DOER_CACHE/run" && \(compiler) \(flags) -O1 -o "$DOER_CACHE/run/program" "$DOER_FILE" -lm
                """)],
                run: #"exec "$DOER_CACHE/run/program" "$@""#),
            test: TestRecipe(
                framework: "doer_test.h",
                isTestFile: { path in TestFilePattern.prefixSuffixOrFolder(path, extensions: Set(extensions)) },
                build: [LanguageStep(.build, """
                out="$DOER_CACHE/tests"; rm -rf "$out"; mkdir -p "$out"
                doer_files \\( \(find) \\) > /tmp/doer-all
                grep -E '\(testRegex)' /tmp/doer-all > /tmp/doer-tests
                grep -vE '\(testRegex)' /tmp/doer-all | while read -r f; do
                    grep -qE '^[[:space:]]*(int|void)[[:space:]]+main[[:space:]]*\\(' "$f" || echo "$f"
                done > /tmp/doer-sources
                while read -r t; do
                    bin=$(echo "${t%.*}" | tr '/' '_')
                    \(compiler) \(flags) -g -O0 -I. -Iinclude -Isrc -I"$DOER_SUPPORT" -o "$out/$bin" "$t" $(cat /tmp/doer-sources) -lm || exit 1
                    echo "$bin $t" >> "$out/index"
                done < /tmp/doer-tests
                """)],
                test: #"""
                out="$DOER_CACHE/tests"; status=0
                [ -f "$out/index" ] || exit 0
                while read -r bin src; do
                    doer_program "$src" "$out/$bin" 2>&1 || status=1
                done < "$out/index"
                exit $status
                """#,
                format: .tap),
            supportFiles: ["doer_test.h": Harnesses.cTestHeader])
    }
}
