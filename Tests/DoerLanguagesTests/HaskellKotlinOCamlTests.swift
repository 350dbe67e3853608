import DoerCore
import DoerLanguages
import DoerSandbox
import Foundation
import Testing

/// Haskell, Kotlin and OCaml beyond the conformance sample: the other framework or style each
/// one's users write, an exception that is an error rather than a failed assertion, and a
/// compile error reported as a build failure with the compiler's words. GHC and kotlinc are
/// slow to start, so each test compiles once.
@Suite("Haskell, Kotlin and OCaml", .serialized)
struct HaskellKotlinOCamlTests {
    func run(_ name: String, _ project: String, _ files: [String: String]) async throws -> LanguageTestReport {
        let language = try LanguageCatalogue.language(named: name)
        try #require(LanguageToolchains.isInstalled(language),
                     "\(name) is not installed: \(LanguageToolchains.missing(language).map(\.path)); scripts/setup.sh installs it")
        let folder = try LanguageTestSupport.project(project, files)
        return try await LanguageTestSupport.runner().run(language, workspace: folder)
    }

    @Test("an HUnit program's cases are reported one by one, named by their labels; an exception fails it with its message")
    func haskellHUnit() async throws {
        let report = try await run("haskell", "haskell-hunit", [
            "Calc.hs": "module Calc (add) where\n\nadd :: Int -> Int -> Int\nadd a b = a + b\n",
            "tests/CalcTest.hs": """
            import Test.HUnit
            import Calc (add)

            main :: IO ()
            main = runTestTTAndExit $ "calc" ~: TestList
              [ "adds" ~: add 2 3 ~?= 5
              , "adds wrongly" ~: assertEqual "two and two make four" 5 (add 2 2)
              , "takes the head of nothing" ~: assertEqual "head" 1 (head [] :: Int)
              ]

            """,
        ])
        #expect(report.outcome == .failed, "\(report.outcome): \(report.detail ?? "")")
        #expect(report.tests.map(\.name) == ["calc:adds", "calc:adds wrongly", "calc:takes the head of nothing"])
        // The exception's `# error:` line is read as a YAML error value by the TAP parser, which drops the
        // marker that makes it errored: it shows as failed (as Java's and C#'s do), with its message.
        #expect(report.tests.map(\.status) == [.passed, .failed, .failed])
        #expect(report.tests[1].message?.contains("two and two make four") == true, "\(report.tests[1].message ?? "nil")")
        #expect(report.tests[2].message?.contains("empty list") == true, "\(report.tests[2].message ?? "nil")")
    }

    @Test("a Haskell type error is a build failure with GHC's message, not a test result")
    func haskellCompileError() async throws {
        let report = try await run("haskell", "haskell-compile-error", [
            "test/Spec.hs": "import Test.Hspec\n\nmain :: IO ()\nmain = hspec $ it \"adds\" $ (1 + \"two\") `shouldBe` (3 :: Int)\n",
        ])
        #expect(report.outcome == .buildFailed)
        #expect(report.tests.isEmpty)
        #expect(report.detail?.contains("test/Spec.hs:4") == true, "\(report.detail ?? "")")
    }

    @Test("Kotlin: kotlin.test assertions, names with spaces, and a thrown exception with its message")
    func kotlinStyles() async throws {
        let report = try await run("kotlin", "kotlin-styles", [
            "Greeter.kt": "package greet\n\nfun greet(name: String) = \"hi $name\"\n",
            "GreeterTest.kt": """
            package greet

            import kotlin.test.assertEquals
            import org.junit.Test

            class GreeterTest {
                @Test fun `greets by name`() { assertEquals("hi ada", greet("ada")) }
                @Test fun `greets wrongly`() { assertEquals("hello ada", greet("ada"), "greeting") }
                @Test fun throws() { throw IllegalStateException("no greeting today") }
            }

            """,
        ])
        #expect(report.outcome == .failed, "\(report.outcome): \(report.detail ?? "")")
        let byName = Dictionary(report.tests.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        #expect(byName["greet.GreeterTest.greets by name"]?.status == .passed, "\(report.tests)")
        #expect(byName["greet.GreeterTest.greets wrongly"]?.status == .failed)
        #expect(byName["greet.GreeterTest.greets wrongly"]?.message?.contains("greeting. Expected <hello ada>, actual <hi ada>") == true,
                "\(byName["greet.GreeterTest.greets wrongly"]?.message ?? "nil")")
        #expect(byName["greet.GreeterTest.throws"]?.status == .failed)
        #expect(byName["greet.GreeterTest.throws"]?.message?.contains("no greeting today") == true)
    }

    @Test("a Kotlin type error is a build failure with kotlinc's message")
    func kotlinCompileError() async throws {
        let report = try await run("kotlin", "kotlin-compile-error", [
            "CalcTest.kt": "import org.junit.Test\n\nclass CalcTest {\n    @Test fun adds() { val x: Int = \"text\" }\n}\n",
        ])
        #expect(report.outcome == .buildFailed)
        #expect(report.tests.isEmpty)
        #expect(report.detail?.contains("type mismatch") == true, "\(report.detail ?? "")")
    }

    @Test("OCaml: modules in folders are linked in dependency order, a program's module is left out, an exception fails it with its message")
    func ocamlLayout() async throws {
        let report = try await run("ocaml", "ocaml-layout", [
            "lib/util.ml": "let double x = 2 * x\n",
            "lib/calc.mli": "val quadruple : int -> int\n",
            "lib/calc.ml": "let quadruple x = Util.double (Util.double x)\n",
            // A program: its top-level effect must not run inside the tests.
            "bin/main.ml": "let () = print_endline \"main ran\"; exit 3\n",
            "calc_test.ml": """
            open OUnit2

            let () = run_test_tt_main ("calc" >::: [
              "quadruples" >:: (fun _ -> assert_equal 8 (Calc.quadruple 2));
              "fails" >:: (fun _ -> assert_equal ~msg:"three times" ~printer:string_of_int 6 (Calc.quadruple 3));
              "raises" >:: (fun _ -> ignore (List.hd []));
            ])

            """,
        ])
        #expect(report.outcome == .failed, "\(report.outcome): \(report.detail ?? "")")
        #expect(report.tests.map(\.name) == ["calc:0:quadruples", "calc:1:fails", "calc:2:raises"])
        #expect(report.tests.map(\.status) == [.passed, .failed, .errored])
        #expect(report.tests[1].message?.contains("three times") == true, "\(report.tests[1].message ?? "nil")")
        #expect(report.tests[2].message?.contains("hd") == true, "\(report.tests[2].message ?? "nil")")
    }

    @Test("an OCaml type error is a build failure with the compiler's message")
    func ocamlCompileError() async throws {
        let report = try await run("ocaml", "ocaml-compile-error", [
            "test_calc.ml": "open OUnit2\n\nlet () = run_test_tt_main (\"t\" >::: [\"x\" >:: (fun _ -> assert_equal 1 \"one\")])\n",
        ])
        #expect(report.outcome == .buildFailed)
        #expect(report.tests.isEmpty)
        #expect(report.detail?.contains("This expression has type string") == true, "\(report.detail ?? "")")
    }

    @Test("detection: test files of each language are found; others are not")
    func detection() throws {
        #expect(LanguageCatalogue.languagesWithTests(in: ["src/Calc.hs", "test/CalcSpec.hs"]).map(\.name) == ["haskell"])
        #expect(LanguageCatalogue.languagesWithTests(in: ["src/Calc.hs", "app/Main.hs"]).isEmpty)
        #expect(LanguageCatalogue.languagesWithTests(in: ["src/Calc.kt", "src/CalcTest.kt"]).map(\.name) == ["kotlin"])
        #expect(LanguageCatalogue.languagesWithTests(in: ["src/Calc.kt", "Main.kt"]).isEmpty)
        #expect(LanguageCatalogue.languagesWithTests(in: ["calc.ml", "test/test_calc.ml"]).map(\.name) == ["ocaml"])
        #expect(LanguageCatalogue.languagesWithTests(in: ["calc.ml", "calc.mli"]).isEmpty)
        #expect(try LanguageCatalogue.language(forFile: "Main.hs").name == "haskell")
        #expect(try LanguageCatalogue.language(forFile: "main.kt").name == "kotlin")
        #expect(try LanguageCatalogue.language(forFile: "main.ml").name == "ocaml")
        #expect(try LanguageCatalogue.language(named: "hs").name == "haskell")
        #expect(try LanguageCatalogue.language(named: "kt").name == "kotlin")
        #expect(try LanguageCatalogue.language(named: "ml").name == "ocaml")
    }
}
