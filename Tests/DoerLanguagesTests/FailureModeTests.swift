import DoerCore
import DoerLanguages
import DoerSandbox
import Foundation
import Testing

/// Compile errors and crashes are reported as such, never as failed tests; a missing
/// toolchain names its install command.
@Suite("build errors, crashes and missing toolchains", .serialized)
struct FailureModeTests {
    func run(_ name: String, _ project: String, _ files: [String: String]) async throws -> LanguageTestReport {
        let language = try LanguageCatalogue.language(named: name)
        try #require(LanguageToolchains.isInstalled(language))
        let folder = try LanguageTestSupport.project(project, files)
        return try await LanguageTestSupport.runner().run(language, workspace: folder)
    }

    @Test("a Go compile error is a build failure with the compiler's message")
    func goCompileError() async throws {
        let report = try await run("go", "go-compile-error", [
            "go.mod": "module example.com/broken\n\ngo 1.19\n",
            "calc.go": "package calc\n\nfunc Add(a, b int) int { return a + undefinedThing }\n",
            "calc_test.go": "package calc\n\nimport \"testing\"\n\nfunc TestAdd(t *testing.T) { _ = Add(1, 2) }\n",
        ])
        #expect(report.outcome == .buildFailed)
        #expect(report.tests.isEmpty)
        #expect(report.detail?.contains("undefined: undefinedThing") == true, "\(report.detail ?? "")")
    }

    @Test("a Java compile error is a build failure")
    func javaCompileError() async throws {
        let report = try await run("java", "java-compile-error", [
            "CalcTest.java": "import org.junit.Test;\npublic class CalcTest {\n  @Test public void adds() { int x = \"text\"; }\n}\n",
        ])
        #expect(report.outcome == .buildFailed)
        #expect(report.detail?.contains("incompatible types") == true, "\(report.detail ?? "")")
    }

    @Test("a Rust compile error is a build failure")
    func rustCompileError() async throws {
        let report = try await run("rust", "rust-compile-error", [
            "lib.rs": "#[test]\nfn adds() { let x: i32 = \"text\"; }\n",
        ])
        #expect(report.outcome == .buildFailed)
        #expect(report.detail?.contains("mismatched types") == true, "\(report.detail ?? "")")
    }

    @Test("a C test that segfaults is a crash naming the test it was in, after the tests before it")
    func cSegfault() async throws {
        let report = try await run("c", "c-segfault", [
            "test_crash.c": """
            #include "doer_test.h"
            TEST(passes_first) { CHECK(1 + 1 == 2); }
            TEST(dereferences_null) { volatile int *p = 0; *p = 1; }
            TEST(never_reached) { CHECK(1); }
            """,
        ])
        #expect(report.outcome == .crashed)
        #expect(report.tests.map(\.name) == ["passes_first"])
        #expect(report.detail?.contains("SIGSEGV") == true, "\(report.detail ?? "")")
        #expect(report.detail?.contains("dereferences_null") == true, "\(report.detail ?? "")")
    }

    @Test("a Python test run whose process dies is a crash, not a failure")
    func pythonCrash() async throws {
        let report = try await run("python", "python-crash", [
            "test_dies.py": "import os, signal\n\ndef test_dies():\n    os.kill(os.getpid(), signal.SIGKILL)\n",
        ])
        #expect(report.outcome == .crashed, "\(report.outcome) \(report.tests)")
        #expect(report.tests.allSatisfy { $0.status != .failed })
    }

    @Test("a Go test that panics is reported as errored, with the panic")
    func goPanic() async throws {
        let report = try await run("go", "go-panic", [
            "go.mod": "module example.com/panics\n\ngo 1.19\n",
            "p_test.go": "package p\n\nimport \"testing\"\n\nfunc TestFine(t *testing.T) {}\n\nfunc TestPanics(t *testing.T) { var m map[string]int; m[\"x\"] = 1 }\n",
        ])
        #expect(report.outcome == .failed || report.outcome == .crashed)
        let panicked = report.tests.first { $0.name == "TestPanics" }
        #expect(panicked?.status == .errored)
        #expect(panicked?.message?.contains("assignment to entry in nil map") == true, "\(panicked?.message ?? "nil")")
    }

    @Test("a Ruby test file that does not parse is reported as a crash with the syntax error")
    func rubySyntaxError() async throws {
        let report = try await run("ruby", "ruby-syntax", ["test/broken_test.rb": "class BrokenTest < Minitest::Test\n  def test_x\n    assert(\n  end\n"])
        #expect(report.outcome == .crashed)
        #expect(report.detail?.contains("syntax error") == true, "\(report.detail ?? "")")
    }

    static let ghost = Language(
        name: "ghost", displayName: "Ghost", extensions: ["ghost"],
        toolchain: Toolchain([.init("/nonexistent/bin/ghostc", package: "ghost-compiler")]),
        run: RunRecipe(run: "exit 0"),
        test: TestRecipe(framework: "ghost-test", isTestFile: { _ in true }, test: "exit 0", format: .tap))

    @Test("a missing toolchain is reported with the command that installs it")
    func missingToolchain() async throws {
        let folder = try LanguageTestSupport.project("ghost", ["a_test.ghost": ""])
        let report = try await LanguageTestSupport.runner().run(Self.ghost, workspace: folder)
        #expect(report.outcome == .toolchainMissing)
        #expect(report.detail?.contains("doer languages install ghost") == true)
        #expect(report.detail?.contains("apt-get install ghost-compiler") == true)
        await #expect(throws: DoerError.toolchainMissing(language: "ghost", missing: ["/nonexistent/bin/ghostc"], packages: ["ghost-compiler"])) {
            _ = try await FileRunner(sandbox: LanguageTestSupport.sandbox(), cache: LanguageTestSupport.cache)
                .run("x.ghost", language: Self.ghost, workspace: folder)
        }
    }

    @Test("a project without tests of a language reports no language; unknown names are refused")
    func detection() throws {
        #expect(LanguageCatalogue.languagesWithTests(in: ["main.go", "README.md"]).isEmpty)
        #expect(LanguageCatalogue.languagesWithTests(in: ["src/lib.py", "tests/test_lib.py", "web/app.test.js"]).map(\.name)
            == ["python", "javascript"])
        #expect(throws: DoerError.self) { try LanguageCatalogue.language(named: "cobol") }
        #expect(try LanguageCatalogue.language(named: "C++").name == "cpp")
    }
}

@Suite("set-up script")
struct SetupScriptTests {
    @Test("scripts/setup.sh installs every Debian package the catalogue checks for, by the same file")
    func setupCoversCatalogue() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let script = try String(contentsOf: root.appendingPathComponent("scripts/setup.sh"), encoding: .utf8)
        for language in LanguageCatalogue.all {
            for requirement in language.toolchain.requirements + (language.test?.requirements ?? []) {
                guard let package = requirement.package else { continue }
                let listed = script.contains("\(requirement.path):\(package)")
                    || script.contains("need_apt+=(\(package))")
                #expect(listed, "\(language.name): \(requirement.path) (\(package)) is not installed by scripts/setup.sh")
            }
        }
    }
}
