import Foundation

extension Language {
    /// Cargo projects with `cargo test --offline`, loose files with `rustc --test`; the test
    /// binaries are built into the cache and run with it read-only.
    static let rust = Language(
        name: "rust", displayName: "Rust", extensions: ["rs"], manifests: ["Cargo.toml"],
        toolchain: Toolchain([.init("/usr/bin/rustc", package: "rustc"), .init("/usr/bin/cargo", package: "cargo")]),
        environment: ["RUST_BACKTRACE": "0"],
        run: RunRecipe(
            build: [LanguageStep(.build, #"""
            mkdir -p "$DOER_CACHE/run" && rustc --edition 2021 -o "$DOER_CACHE/run/program" "$DOER_FILE"
            """#)],
            run: #"exec "$DOER_CACHE/run/program" "$@""#),
        test: TestRecipe(
            framework: "libtest",
            isTestFile: { path in
                // Rust tests live inside the sources; any .rs file may hold them.
                TestFilePattern.ext(path) == "rs"
            },
            build: [LanguageStep(.build, #"""
            out="$DOER_CACHE/tests"; rm -rf "$out"; mkdir -p "$out"
            if [ -f Cargo.toml ]; then
                export CARGO_HOME="$DOER_CACHE/cargo-home" CARGO_TARGET_DIR="$DOER_CACHE/target"
                cargo test --offline --no-run --message-format=json-render-diagnostics > "$out/build.json" || exit 1
                grep -o '"executable":"[^"]*"' "$out/build.json" | sed 's/^"executable":"//; s/"$//' > "$out/index"
            else
                for f in $(doer_files -name '*.rs'); do
                    grep -q '#\[test\]' "$f" || continue
                    name=$(echo "${f%.rs}" | tr '/' '_')
                    rustc --edition 2021 --test -o "$out/$name" "$f" || exit 1
                    echo "$out/$name" >> "$out/index"
                done
            fi
            """#)],
            test: #"""
            out="$DOER_CACHE/tests"; status=0
            [ -f "$out/index" ] || exit 0
            while read -r exe; do
                doer_program "$(basename "$exe")" "$exe" --test-threads=1 2>&1 || status=1
            done < "$out/index"
            exit $status
            """#,
            format: .rustLibtest))
}
