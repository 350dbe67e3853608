import Foundation

extension Language {
    /// GHC with hspec or HUnit (Debian's libghc-hspec-dev, libghc-hunit-dev). Every test file
    /// that defines `main` is a test program, compiled with `ghc --make` over the project's
    /// source folders, with Doer's stand-ins for `Test.Hspec` and `Test.HUnit` first on the
    /// search path so `hspec` and `runTestTT` print TAP (`HaskellHarness`).
    static let haskell = Language(
        name: "haskell", displayName: "Haskell", extensions: ["hs"], manifests: ["package.yaml", "stack.yaml", "cabal.project"],
        // Debian keeps GHC's package database under /var/lib/ghc; without it ghc knows no package, not even base.
        toolchain: Toolchain([.init("/usr/bin/ghc", package: "ghc")], readOnlyPaths: ["/var/lib/ghc"]),
        run: RunRecipe(
            build: [LanguageStep(.build, #"""
            out="$DOER_CACHE/run"; rm -rf "$out"; mkdir -p "$out"
            # A file that names its module (module Hello where) is still the program.
            module=$(sed -n 's/^module[[:space:]]\{1,\}\([A-Za-z0-9_.]*\).*/\1/p' "$DOER_FILE" | head -n 1)
            main_is=""; [ -n "$module" ] && [ "$module" != Main ] && main_is="-main-is $module"
            ghc -v0 -O0 $main_is -i"$(dirname "$DOER_FILE")" -outputdir "$out/obj" -o "$out/program" "$DOER_FILE"
            """#)],
            run: #"exec "$DOER_CACHE/run/program" "$@""#),
        test: TestRecipe(
            framework: "hspec / HUnit",
            // Versioned paths elsewhere; the copyright file is where each package always puts it.
            requirements: [.init("/usr/share/doc/libghc-hspec-dev/copyright", package: "libghc-hspec-dev"),
                           .init("/usr/share/doc/libghc-hunit-dev/copyright", package: "libghc-hunit-dev")],
            isTestFile: { path in
                guard TestFilePattern.ext(path) == "hs" else { return false }
                let stem = TestFilePattern.stem(path)
                return stem.hasSuffix("Spec") || stem.hasSuffix("Test") || stem.hasSuffix("Tests") || stem.hasPrefix("Test")
                    || TestFilePattern.folders(path).contains { $0 == "test" || $0 == "tests" }
            },
            build: [LanguageStep(.build, #"""
            out="$DOER_CACHE/tests"; rm -rf "$out"; mkdir -p "$out"
            doer_files -name '*.hs' | grep -E '(^|/)(tests?/[^/]*|[^/]*(Spec|Tests?)\.hs|Test[^/]*\.hs)$' > /tmp/doer-candidates
            while read -r f; do
                grep -qE '^main[[:space:]]*(::|=)' "$f" && echo "$f"
            done < /tmp/doer-candidates > /tmp/doer-tests
            # The source folders a .cabal file or package.yaml names, then the usual ones.
            folders=$(cat ./*.cabal 2>/dev/null | sed -n 's/^[[:space:]]*hs-source-dirs:[[:space:]]*//p' | tr ',' ' ')
            folders="$folders $(sed -n 's/^[[:space:]]*source-dirs:[[:space:]]*//p' package.yaml 2>/dev/null | tr -d '[],')"
            search=""
            for d in $folders . src lib app test tests; do [ -d "$d" ] && search="$search -i$d"; done
            while read -r t; do
                bin=$(echo "${t%.*}" | tr '/' '_')
                ghc -v0 -O0 -i"$DOER_SUPPORT" $search -i"$(dirname "$t")" -outputdir "$out/obj/$bin" -o "$out/$bin" "$t" || exit 1
                echo "$bin $t" >> "$out/index"
            done < /tmp/doer-tests
            """#)],
            test: #"""
            out="$DOER_CACHE/tests"; status=0
            [ -f "$out/index" ] || exit 0
            while read -r bin src; do
                doer_program "$src" "$out/$bin" 2>&1 || status=1
            done < "$out/index"
            exit $status
            """#,
            format: .tap),
        supportFiles: HaskellHarness.files)
}
