import Foundation

extension Language {
    /// Minitest (bundled with Debian's Ruby), read from its verbose output.
    static let ruby = Language(
        name: "ruby", displayName: "Ruby", extensions: ["rb"], manifests: ["Gemfile", "Rakefile"],
        toolchain: Toolchain([.init("/usr/bin/ruby", package: "ruby")]),
        run: RunRecipe(run: #"exec ruby "$DOER_FILE" "$@""#),
        test: TestRecipe(
            framework: "minitest",
            isTestFile: { path in
                let stem = TestFilePattern.stem(path)
                return TestFilePattern.ext(path) == "rb" && (stem.hasPrefix("test_") || stem.hasSuffix("_test"))
            },
            test: #"""
            doer_files -name '*.rb' | grep -E '(^|/)(test_[^/]*|[^/]*_test)\.rb$' > /tmp/doer-tests
            exec ruby -Ilib -Itest -e '
                files = ARGV.dup
                ARGV.replace(["--verbose"])
                require "minitest/autorun"
                files.each { |f| require File.expand_path(f) }
            ' $(cat /tmp/doer-tests) 2>&1
            """#,
            format: .minitest))

    /// PHPUnit, reporting through its JUnit XML.
    static let php = Language(
        name: "php", displayName: "PHP", extensions: ["php"], manifests: ["composer.json"],
        toolchain: Toolchain([.init("/usr/bin/php", package: "php-cli")], readOnlyPaths: ["/etc/php"]),
        run: RunRecipe(run: #"exec php "$DOER_FILE" "$@""#),
        test: TestRecipe(
            framework: "PHPUnit",
            requirements: [.init("/usr/bin/phpunit", package: "phpunit")],
            isTestFile: { TestFilePattern.ext($0) == "php" && TestFilePattern.stem($0).hasSuffix("Test") },
            test: #"""
            dir=.; [ -d tests ] && dir=tests
            bootstrap=""; [ -f vendor/autoload.php ] && bootstrap="--bootstrap vendor/autoload.php"
            phpunit --do-not-cache-result --log-junit /tmp/doer-junit.xml $bootstrap "$dir" >&2
            status=$?
            cat /tmp/doer-junit.xml 2>/dev/null
            exit $status
            """#,
            format: .junitXML))

    /// Test::More scripts (`t/*.t`), each one's TAP read separately.
    static let perl = Language(
        name: "perl", displayName: "Perl", extensions: ["pl", "pm", "t"], manifests: ["Makefile.PL", "cpanfile"],
        toolchain: Toolchain([.init("/usr/bin/perl", package: "perl")]),
        run: RunRecipe(run: #"exec perl "$DOER_FILE" "$@""#),
        test: TestRecipe(
            framework: "Test::More",
            requirements: [.init("/usr/bin/prove", package: "perl")],
            isTestFile: { TestFilePattern.ext($0) == "t" },
            test: #"""
            status=0
            for f in $(doer_files -name '*.t'); do
                doer_program "$f" perl -Ilib "$f" 2>&1 || status=1
            done
            exit $status
            """#,
            format: .tap))

    /// Shell scripts; their tests are bats files.
    static let shell = Language(
        name: "bash", displayName: "Bash", extensions: ["sh", "bash", "bats"],
        toolchain: Toolchain([.init("/bin/bash", package: "bash")]),
        run: RunRecipe(run: #"exec bash "$DOER_FILE" "$@""#),
        test: TestRecipe(
            framework: "bats",
            requirements: [.init("/usr/bin/bats", package: "bats")],
            isTestFile: { TestFilePattern.ext($0) == "bats" },
            test: #"exec bats --tap $(doer_files -name '*.bats') 2>&1"#,
            format: .tap))

    /// LuaUnit (Debian's lua-unit) with its TAP output.
    static let lua = Language(
        name: "lua", displayName: "Lua", extensions: ["lua"], manifests: [],
        toolchain: Toolchain([.init("/usr/bin/lua5.4", package: "lua5.4")]),
        environment: ["LUA_PATH": "./?.lua;./src/?.lua;./lua/?.lua;/usr/share/lua/5.4/?.lua;/usr/share/lua/5.4/?/init.lua"],
        run: RunRecipe(run: #"exec lua5.4 "$DOER_FILE" "$@""#),
        test: TestRecipe(
            framework: "LuaUnit",
            requirements: [.init("/usr/share/lua/5.4/luaunit.lua", package: "lua-unit")],
            isTestFile: { TestFilePattern.prefixSuffixOrFolder($0, extensions: ["lua"]) },
            test: #"""
            status=0
            for f in $(doer_files -name '*.lua' | grep -E '(^|/)(test_[^/]*|[^/]*_test)\.lua$|(^|/)tests?/[^/]*$'); do
                doer_program "$f" lua5.4 "$f" -o tap 2>&1 || status=1
            done
            exit $status
            """#,
            format: .tap))

    /// testthat with its TAP reporter; the project's `R/` files are sourced first.
    static let r = Language(
        name: "r", displayName: "R", extensions: ["r"], manifests: ["DESCRIPTION"],
        toolchain: Toolchain([.init("/usr/bin/Rscript", package: "r-base-core")], readOnlyPaths: ["/etc/R"]),
        run: RunRecipe(run: #"exec Rscript "$DOER_FILE" "$@""#),
        test: TestRecipe(
            framework: "testthat",
            requirements: [.init("/usr/lib/R/site-library/testthat", package: "r-cran-testthat")],
            isTestFile: { path in
                TestFilePattern.ext(path) == "r" && TestFilePattern.stem(path).hasPrefix("test")
                    && TestFilePattern.folders(path).contains { $0 == "testthat" || $0 == "tests" }
            },
            test: #"""
            dir=tests/testthat; [ -d "$dir" ] || dir=tests
            exec Rscript -e '
                suppressMessages(library(testthat))
                env <- new.env()
                for (f in list.files("R", pattern = "[.][Rr]$", full.names = TRUE)) sys.source(f, envir = env)
                invisible(test_dir(commandArgs(TRUE)[1], reporter = TapReporter$new(), env = env, stop_on_failure = FALSE))
            ' "$(pwd)/$dir" 2>&1
            """#,
            format: .tap))
}
