import Foundation

extension Language {
    /// `go test -c` per package in the build step (the only one that writes GOCACHE), then
    /// the test binaries under `go tool test2json` with the cache read-only.
    static let go = Language(
        name: "go", displayName: "Go", extensions: ["go"], manifests: ["go.mod"],
        toolchain: Toolchain([.init("/usr/bin/go", package: "golang-go")]),
        environment: ["GOPROXY": "off", "GOTOOLCHAIN": "local", "GOFLAGS": "-buildvcs=false", "CGO_ENABLED": "0"],
        run: RunRecipe(
            build: [LanguageStep(.build, #"""
            export GOCACHE="$DOER_CACHE/go-build" GOPATH="$DOER_CACHE/gopath"
            mkdir -p "$DOER_CACHE/run" && go build -o "$DOER_CACHE/run/program" "$DOER_FILE"
            """#)],
            run: #"exec "$DOER_CACHE/run/program" "$@""#),
        test: TestRecipe(
            framework: "go test",
            isTestFile: { $0.hasSuffix("_test.go") },
            build: [LanguageStep(.build, #"""
            export GOCACHE="$DOER_CACHE/go-build" GOPATH="$DOER_CACHE/gopath"
            out="$DOER_CACHE/tests"; rm -rf "$out"; mkdir -p "$out"
            go list -f '{{if or .TestGoFiles .XTestGoFiles}}{{.ImportPath}} {{.Dir}}{{end}}' ./... > "$out/packages" || exit 1
            i=0
            while read -r pkg dir; do
                [ -n "$pkg" ] || continue
                i=$((i + 1))
                go test -c -o "$out/$i.test" "$pkg" || exit 1
                # Relative, so the test step finds the package wherever its workspace is mounted.
                echo "$i $pkg .${dir#"$(pwd)"}" >> "$out/index"
            done < "$out/packages"
            """#)],
            test: #"""
            export GOCACHE=/tmp/go-build GOPATH=/tmp/gopath
            out="$DOER_CACHE/tests"; status=0
            [ -f "$out/index" ] || exit 0
            while read -r i pkg dir; do
                (cd "$dir" && go tool test2json -p "$pkg" "$out/$i.test" -test.v) || status=1
            done < "$out/index"
            exit $status
            """#,
            format: .goTestJSON))
}
