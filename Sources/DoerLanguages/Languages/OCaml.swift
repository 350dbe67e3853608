import Foundation

extension Language {
    /// ocamlfind + ocamlopt with OUnit2 (Debian's libounit-ocaml-dev), read from OUnit's own
    /// JUnit XML. Each test program (a test file that calls `run_test_tt_main` or `run_test_tt`)
    /// is linked with the project's modules that are not programs themselves (no top-level
    /// `let () =` / `let _ =`), in `ocamldep -sort` order; everything is compiled in a copy
    /// under the cache, so no .cmi or .o lands in the workspace.
    static let ocaml = Language(
        name: "ocaml", displayName: "OCaml", extensions: ["ml"], manifests: ["dune-project"],
        toolchain: Toolchain([.init("/usr/bin/ocamlopt", package: "ocaml"),
                              .init("/usr/bin/ocamlfind", package: "ocaml-findlib")],
                             // ocamlfind refuses to start without its configuration.
                             readOnlyPaths: ["/etc/ocamlfind.conf"]),
        run: RunRecipe(
            build: [LanguageStep(.build, #"""
            out="$DOER_CACHE/run"; rm -rf "$out"; mkdir -p "$out" && cp "$DOER_FILE" "$out/" && cd "$out" &&
                ocamlfind ocamlopt -package str,unix -linkpkg -o program "$(basename "$DOER_FILE")"
            """#)],
            run: #"exec "$DOER_CACHE/run/program" "$@""#),
        test: TestRecipe(
            framework: "OUnit2",
            requirements: [.init("/usr/lib/ocaml/ounit2/META", package: "libounit-ocaml-dev")],
            isTestFile: { TestFilePattern.prefixSuffixOrFolder($0, extensions: ["ml"]) },
            build: [LanguageStep(.build, #"""
            out="$DOER_CACHE/tests"; rm -rf "$out"; mkdir -p "$out/src"
            doer_files \( -name '*.ml' -o -name '*.mli' \) > /tmp/doer-all
            while read -r f; do mkdir -p "$out/src/$(dirname "$f")" && cp "$f" "$out/src/$f"; done < /tmp/doer-all
            cd "$out/src"
            : > /tmp/doer-tests; : > /tmp/doer-sources
            while read -r f; do
                if echo "$f" | grep -qE '(^|/)(test_[^/]*|[^/]*_test)\.ml$|(^|/)tests?/[^/]*\.ml$' && grep -qE 'run_test_tt(_main)?' "$f"; then
                    echo "$f" >> /tmp/doer-tests
                elif ! grep -qE '^let[[:space:]]+(\(\)|_)[[:space:]]*=' "$f"; then
                    echo "$f" >> /tmp/doer-sources
                fi
            done < /tmp/doer-all
            includes=$(sed -e '/\//!s|.*|.|' -e 's|/[^/]*$||' /tmp/doer-all | sort -u | sed 's|^|-I |')
            while read -r t; do
                bin=$(echo "${t%.*}" | tr '/' '_')
                files=$(ocamldep -sort $includes $(cat /tmp/doer-sources) "$t") || exit 1
                ocamlfind ocamlopt -package ounit2,str,unix -linkpkg $includes -o "$out/$bin" $files || exit 1
                echo "$bin $t" >> "$out/index"
            done < /tmp/doer-tests
            """#)],
            // Each program writes its own JUnit file; they are printed as one document.
            test: #"""
            out="$DOER_CACHE/tests"; status=0
            [ -f "$out/index" ] || exit 0
            mkdir -p /tmp/doer-junit
            i=0
            while read -r bin src; do
                i=$((i + 1))
                OUNIT_OUTPUT_JUNIT_FILE="/tmp/doer-junit/$i.xml" OUNIT_RUNNER=sequential \
                    OUNIT_OUTPUT_FILE=/tmp/doer-ounit.log OUNIT_CACHE_FILENAME=/tmp/doer-ounit.cache \
                    "$out/$bin" >&2 || status=1
            done < "$out/index"
            echo '<?xml version="1.0" encoding="utf-8"?>'
            echo '<testsuites>'
            for f in /tmp/doer-junit/*.xml; do [ -f "$f" ] && sed '/^<?xml/d' "$f"; done
            echo '</testsuites>'
            exit $status
            """#,
            format: .junitXML))
}
