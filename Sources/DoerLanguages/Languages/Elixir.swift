import Foundation

extension Language {
    /// ExUnit with Doer's TAP formatter; `lib/**/*.ex` is loaded before the tests.
    static let elixir = Language(
        name: "elixir", displayName: "Elixir", extensions: ["ex", "exs"], manifests: ["mix.exs"],
        toolchain: Toolchain([.init("/usr/bin/elixir", package: "elixir")]),
        environment: ["ERL_AFLAGS": "+S 2:2"],
        run: RunRecipe(run: #"exec elixir "$DOER_FILE" "$@""#),
        test: TestRecipe(
            framework: "ExUnit",
            isTestFile: { $0.hasSuffix("_test.exs") },
            test: #"""
            doer_files -name '*_test.exs' > /tmp/doer-tests
            exec elixir -r "$DOER_SUPPORT/doer_tap_formatter.exs" -e '
                ExUnit.start(autorun: false, formatters: [DoerTAPFormatter])
                for f <- Path.wildcard("lib/**/*.ex"), do: Code.require_file(f)
                for f <- System.argv(), do: Code.require_file(f)
                result = ExUnit.run()
                System.halt(if result.failures > 0, do: 1, else: 0)
            ' $(cat /tmp/doer-tests) 2>&1
            """#,
            format: .tap),
        supportFiles: ["doer_tap_formatter.exs": Harnesses.elixirFormatter])
}
