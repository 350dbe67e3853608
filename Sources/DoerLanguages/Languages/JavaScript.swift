import Foundation

extension Language {
    /// node's built-in test runner, reporting TAP.
    static let javascript = Language(
        name: "javascript", displayName: "JavaScript", extensions: ["js", "mjs", "cjs"],
        manifests: ["package.json"],
        toolchain: Toolchain([.init("/usr/bin/node", package: "nodejs")]),
        run: RunRecipe(run: #"exec node "$DOER_FILE" "$@""#),
        test: TestRecipe(
            framework: "node --test",
            isTestFile: { path in
                // node's own default patterns.
                guard ["js", "mjs", "cjs"].contains(TestFilePattern.ext(path)) else { return false }
                let stem = TestFilePattern.stem(path)
                return stem == "test" || stem.hasSuffix(".test") || stem.hasSuffix("-test") || stem.hasSuffix("_test")
                    || stem.hasPrefix("test-") || TestFilePattern.folders(path).contains("test")
            },
            test: "exec node --test --test-reporter=tap 2>&1",
            format: .tap))

    /// Compiled by Debian's tsc into the cache, then run by node's test runner.
    static let typescript = Language(
        name: "typescript", displayName: "TypeScript", extensions: ["ts", "mts", "cts"],
        manifests: ["tsconfig.json"],
        toolchain: Toolchain([.init("/usr/bin/node", package: "nodejs"),
                              .init("/usr/bin/tsc", package: "node-typescript")]),
        run: RunRecipe(
            build: [LanguageStep(.build, #"""
            out="$DOER_CACHE/run"; rm -rf "$out"
            tsc --pretty false --target es2020 --module commonjs --esModuleInterop --skipLibCheck \
                --typeRoots "$DOER_SUPPORT/types" --types doer-node --outDir "$out" "$DOER_FILE"
            """#)],
            run: #"exec node "$DOER_CACHE/run/$(basename "${DOER_FILE%.*}").js" "$@""#),
        test: TestRecipe(
            framework: "tsc + node --test",
            isTestFile: { path in
                let stem = TestFilePattern.stem(path)
                return ["ts", "mts", "cts"].contains(TestFilePattern.ext(path)) && !path.hasSuffix(".d.ts")
                    && (stem.hasSuffix(".test") || stem.hasSuffix("_test") || stem.hasSuffix("-test"))
            },
            build: [LanguageStep(.build, #"""
            out="$DOER_CACHE/out"; rm -rf "$out"
            types="--typeRoots $DOER_SUPPORT/types --types doer-node"
            [ -d node_modules/@types/node ] && types=""
            if [ -f tsconfig.json ]; then
                tsc --pretty false -p . --outDir "$out" $types
            else
                doer_files \( -name '*.ts' -o -name '*.mts' -o -name '*.cts' \) ! -name '*.d.ts' > /tmp/doer-sources
                tsc --pretty false --target es2020 --module commonjs --esModuleInterop --skipLibCheck \
                    --rootDir . --outDir "$out" $types $(cat /tmp/doer-sources)
            fi
            """#)],
            test: #"cd "$DOER_CACHE/out" && exec node --test --test-reporter=tap 2>&1"#,
            format: .tap),
        supportFiles: ["types/doer-node/index.d.ts": Harnesses.nodeDeclarations])
}
