import Foundation

extension LanguageSamples {
    /// hspec's report names an example by its groups and its words, joined by `/` (as `--match` takes them).
    static let haskell = LanguageSample(
        language: "haskell", helloFile: "hello.hs", helloSource: "main :: IO ()\nmain = putStrLn \"hello from haskell\"\n",
        helloOutput: "hello from haskell\n",
        project: [
            "src/Calc.hs": "module Calc (add) where\n\nadd :: Int -> Int -> Int\nadd a b = a + b\n",
            "test/Spec.hs": """
            import Test.Hspec
            import Calc (add)

            main :: IO ()
            main = hspec $ describe "add" $ do
              it "adds" $ add 2 3 `shouldBe` 5
              it "adds wrongly" $ add 2 2 `shouldBe` 5

            """,
        ],
        passingTest: "add/adds", failingTest: "add/adds wrongly", failureMessage: "expected: 5\nbut got: 4")

    static let kotlin = LanguageSample(
        language: "kotlin", helloFile: "hello.kt", helloSource: "fun main() {\n    println(\"hello from kotlin\")\n}\n",
        helloOutput: "hello from kotlin\n",
        project: [
            "src/Calc.kt": "fun add(a: Int, b: Int): Int = a + b\n",
            "test/CalcTest.kt": """
            import org.junit.Assert.assertEquals
            import org.junit.Test

            class CalcTest {
                @Test fun adds() { assertEquals(5, add(2, 3)) }
                @Test fun addsWrongly() { assertEquals("two and two make four", 5, add(2, 2)) }
            }

            """,
        ],
        passingTest: "CalcTest.adds", failingTest: "CalcTest.addsWrongly", failureMessage: "two and two make four expected:<5> but was:<4>")

    /// OUnit2 names a test by its path in the suite: the suite's label, the index, the test's label.
    static let ocaml = LanguageSample(
        language: "ocaml", helloFile: "hello.ml", helloSource: "let () = print_endline \"hello from ocaml\"\n",
        helloOutput: "hello from ocaml\n",
        project: [
            "calc.ml": "let add a b = a + b\n",
            "test/test_calc.ml": """
            open OUnit2

            let suite = "calc" >::: [
              "adds" >:: (fun _ -> assert_equal 5 (Calc.add 2 3));
              "adds wrongly" >:: (fun _ ->
                assert_equal ~msg:"two and two make four" ~printer:string_of_int 5 (Calc.add 2 2));
            ]

            let () = run_test_tt_main suite

            """,
        ],
        passingTest: "calc:0:adds", failingTest: "calc:1:adds wrongly", failureMessage: "two and two make four")
}
