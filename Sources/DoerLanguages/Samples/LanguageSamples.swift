import Foundation

public enum LanguageSamples {
    public static func sample(for language: String) -> LanguageSample? { all.first { $0.language == language } }

    public static let all: [LanguageSample] = [
        LanguageSample(
            language: "python", helloFile: "hello.py", helloSource: "print('hello from python')\n", helloOutput: "hello from python\n",
            project: [
                "calc.py": "def add(a, b):\n    return a + b\n",
                "test_calc.py": """
                from calc import add

                def test_adds():
                    assert add(2, 3) == 5

                def test_adds_wrongly():
                    assert add(2, 2) == 5, "two and two make four"

                """,
            ],
            passingTest: "test_adds", failingTest: "test_adds_wrongly", failureMessage: "two and two make four"),
        LanguageSample(
            language: "javascript", helloFile: "hello.js", helloSource: "console.log('hello from javascript');\n",
            helloOutput: "hello from javascript\n",
            project: [
                "calc.js": "exports.add = (a, b) => a + b;\n",
                "calc.test.js": """
                const test = require('node:test');
                const assert = require('node:assert');
                const { add } = require('./calc');

                test('adds', () => { assert.strictEqual(add(2, 3), 5); });
                test('adds wrongly', () => { assert.strictEqual(add(2, 2), 5, 'two and two make four'); });

                """,
            ],
            passingTest: "adds", failingTest: "adds wrongly", failureMessage: "two and two make four"),
        LanguageSample(
            language: "typescript", helloFile: "hello.ts",
            helloSource: "const greeting: string = 'hello from typescript';\nconsole.log(greeting);\n",
            helloOutput: "hello from typescript\n",
            project: [
                "calc.ts": "export function add(a: number, b: number): number {\n    return a + b;\n}\n",
                "calc.test.ts": """
                import { test } from 'node:test';
                import assert from 'node:assert';
                import { add } from './calc';

                test('adds', () => { assert.strictEqual(add(2, 3), 5); });
                test('adds wrongly', () => { assert.strictEqual(add(2, 2), 5, 'two and two make four'); });

                """,
            ],
            passingTest: "adds", failingTest: "adds wrongly", failureMessage: "two and two make four"),
        LanguageSample(
            language: "go", helloFile: "hello.go",
            helloSource: "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"hello from go\") }\n",
            helloOutput: "hello from go\n",
            project: [
                "go.mod": "module example.com/calc\n\ngo 1.19\n",
                "calc.go": "package calc\n\nfunc Add(a, b int) int { return a + b }\n",
                "calc_test.go": """
                package calc

                import "testing"

                func TestAdds(t *testing.T) {
                	if Add(2, 3) != 5 {
                		t.Fatal("2 + 3")
                	}
                }

                func TestAddsWrongly(t *testing.T) {
                	if got := Add(2, 2); got != 5 {
                		t.Fatalf("two and two make four, got %d", got)
                	}
                }

                """,
            ],
            passingTest: "TestAdds", failingTest: "TestAddsWrongly", failureMessage: "two and two make four, got 4"),
        LanguageSample(
            language: "rust", helloFile: "hello.rs", helloSource: "fn main() {\n    println!(\"hello from rust\");\n}\n",
            helloOutput: "hello from rust\n",
            project: [
                "Cargo.toml": "[package]\nname = \"calc\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
                "src/lib.rs": """
                pub fn add(a: i32, b: i32) -> i32 {
                    a + b
                }

                #[cfg(test)]
                mod tests {
                    use super::*;

                    #[test]
                    fn adds() {
                        assert_eq!(add(2, 3), 5);
                    }

                    #[test]
                    fn adds_wrongly() {
                        assert_eq!(add(2, 2), 5, "two and two make four");
                    }
                }

                """,
            ],
            passingTest: "tests::adds", failingTest: "tests::adds_wrongly", failureMessage: "two and two make four"),
        LanguageSample(
            language: "swift", helloFile: "hello.swift", helloSource: "print(\"hello from swift\")\n",
            helloOutput: "hello from swift\n",
            project: [
                "Package.swift": """
                // swift-tools-version:5.9
                import PackageDescription

                let package = Package(
                    name: "Calc",
                    targets: [.target(name: "Calc"), .testTarget(name: "CalcTests", dependencies: ["Calc"])]
                )

                """,
                "Sources/Calc/Calc.swift": "public func add(_ a: Int, _ b: Int) -> Int { a + b }\n",
                "Tests/CalcTests/CalcTests.swift": """
                import XCTest
                @testable import Calc

                final class CalcTests: XCTestCase {
                    func testAdds() { XCTAssertEqual(add(2, 3), 5) }
                    func testAddsWrongly() { XCTAssertEqual(add(2, 2), 5, "two and two make four") }
                }

                """,
            ],
            passingTest: "testAdds", failingTest: "testAddsWrongly", failureMessage: "two and two make four"),
        LanguageSample(
            language: "c", helloFile: "hello.c",
            helloSource: "#include <stdio.h>\n\nint main(void) {\n    puts(\"hello from c\");\n    return 0;\n}\n",
            helloOutput: "hello from c\n",
            project: [
                "calc.h": "int add(int a, int b);\n",
                "calc.c": "#include \"calc.h\"\n\nint add(int a, int b) { return a + b; }\n",
                "test_calc.c": """
                #include "doer_test.h"
                #include "calc.h"

                TEST(adds) { CHECK_EQ(add(2, 3), 5); }
                TEST(adds_wrongly) { CHECK_EQ(add(2, 2), 5); }

                """,
            ],
            passingTest: "adds", failingTest: "adds_wrongly", failureMessage: "CHECK_EQ(add(2, 2), 5) failed: 4 != 5"),
        LanguageSample(
            language: "cpp", helloFile: "hello.cpp",
            helloSource: "#include <iostream>\n\nint main() {\n    std::cout << \"hello from cpp\" << std::endl;\n}\n",
            helloOutput: "hello from cpp\n",
            project: [
                "calc.hpp": "#include <string>\nstd::string greet(const std::string &name);\n",
                "calc.cpp": "#include \"calc.hpp\"\n\nstd::string greet(const std::string &name) { return \"hi \" + name; }\n",
                "tests/greet_test.cpp": """
                #include "doer_test.h"
                #include "calc.hpp"

                TEST(greets) { CHECK(greet("ada") == "hi ada"); }
                TEST(greets_wrongly) { CHECK(greet("ada") == "hello ada"); }

                """,
            ],
            passingTest: "greets", failingTest: "greets_wrongly", failureMessage: "CHECK(greet(\"ada\") == \"hello ada\") failed"),
        LanguageSample(
            language: "java", helloFile: "Hello.java",
            helloSource: "public class Hello {\n    public static void main(String[] args) {\n        System.out.println(\"hello from java\");\n    }\n}\n",
            helloOutput: "hello from java\n",
            project: [
                "src/Calc.java": "public class Calc {\n    public static int add(int a, int b) { return a + b; }\n}\n",
                "test/CalcTest.java": """
                import static org.junit.Assert.assertEquals;

                import org.junit.Test;

                public class CalcTest {
                    @Test public void adds() { assertEquals(5, Calc.add(2, 3)); }
                    @Test public void addsWrongly() { assertEquals("two and two make four", 5, Calc.add(2, 2)); }
                }

                """,
            ],
            passingTest: "CalcTest.adds", failingTest: "CalcTest.addsWrongly", failureMessage: "two and two make four expected:<5> but was:<4>"),
        LanguageSample(
            language: "ruby", helloFile: "hello.rb", helloSource: "puts 'hello from ruby'\n", helloOutput: "hello from ruby\n",
            project: [
                "lib/calc.rb": "def add(a, b)\n  a + b\nend\n",
                "test/calc_test.rb": """
                require "minitest/autorun"
                require "calc"

                class CalcTest < Minitest::Test
                  def test_adds
                    assert_equal 5, add(2, 3)
                  end

                  def test_adds_wrongly
                    assert_equal 5, add(2, 2), "two and two make four"
                  end
                end

                """,
            ],
            passingTest: "test_adds", failingTest: "test_adds_wrongly", failureMessage: "two and two make four"),
        LanguageSample(
            language: "php", helloFile: "hello.php", helloSource: "<?php\necho \"hello from php\\n\";\n",
            helloOutput: "hello from php\n",
            project: [
                "src/Calc.php": "<?php\nfunction add(int $a, int $b): int { return $a + $b; }\n",
                "tests/CalcTest.php": """
                <?php
                use PHPUnit\\Framework\\TestCase;

                require_once __DIR__ . '/../src/Calc.php';

                final class CalcTest extends TestCase {
                    public function testAdds(): void { $this->assertSame(5, add(2, 3)); }
                    public function testAddsWrongly(): void { $this->assertSame(5, add(2, 2), 'two and two make four'); }
                }

                """,
            ],
            passingTest: "testAdds", failingTest: "testAddsWrongly", failureMessage: "two and two make four"),
        LanguageSample(
            language: "perl", helloFile: "hello.pl", helloSource: "print \"hello from perl\\n\";\n",
            helloOutput: "hello from perl\n",
            project: [
                "lib/Calc.pm": "package Calc;\nsub add { return $_[0] + $_[1] }\n1;\n",
                "t/calc.t": """
                use strict;
                use warnings;
                use Test::More tests => 2;
                use Calc;

                is(Calc::add(2, 3), 5, 'adds');
                is(Calc::add(2, 2), 5, 'adds wrongly');

                """,
            ],
            passingTest: "adds", failingTest: "adds wrongly", failureMessage: "expected: '5'"),
        LanguageSample(
            language: "bash", helloFile: "hello.sh", helloSource: "echo \"hello from bash\"\n", helloOutput: "hello from bash\n",
            project: [
                "calc.sh": "add() { echo $(( $1 + $2 )); }\n",
                "test/calc.bats": """
                setup() { source "$BATS_TEST_DIRNAME/../calc.sh"; }

                @test "adds" {
                  [ "$(add 2 3)" -eq 5 ]
                }

                @test "adds wrongly" {
                  result="$(add 2 2)"
                  [ "$result" -eq 5 ]
                }

                """,
            ],
            passingTest: "adds", failingTest: "adds wrongly", failureMessage: "[ \"$result\" -eq 5 ]' failed"),
        LanguageSample(
            language: "lua", helloFile: "hello.lua", helloSource: "print('hello from lua')\n", helloOutput: "hello from lua\n",
            project: [
                "calc.lua": "local M = {}\nfunction M.add(a, b) return a + b end\nreturn M\n",
                "test_calc.lua": """
                local lu = require('luaunit')
                local calc = require('calc')

                TestCalc = {}
                function TestCalc.test_adds() lu.assertEquals(calc.add(2, 3), 5) end
                function TestCalc.test_adds_wrongly() lu.assertEquals(calc.add(2, 2), 5, 'two and two make four') end

                os.exit(lu.LuaUnit.run())

                """,
            ],
            passingTest: "TestCalc.test_adds", failingTest: "TestCalc.test_adds_wrongly", failureMessage: "two and two make four"),
        LanguageSample(
            language: "r", helloFile: "hello.R", helloSource: "cat('hello from r\\n')\n", helloOutput: "hello from r\n",
            project: [
                "R/calc.R": "add <- function(a, b) a + b\n",
                "tests/testthat/test-calc.R": """
                test_that("adds", {
                  expect_equal(add(2, 3), 5)
                })

                test_that("adds wrongly", {
                  expect_equal(add(2, 2), 5, info = "two and two make four")
                })

                """,
            ],
            passingTest: "adds", failingTest: "adds wrongly", failureMessage: "two and two make four"),
        LanguageSample(
            language: "csharp", helloFile: "Hello.cs",
            helloSource: "using System;\n\nclass Hello {\n    static void Main() { Console.WriteLine(\"hello from csharp\"); }\n}\n",
            helloOutput: "hello from csharp\n",
            project: [
                "Calc.cs": "public static class Calc {\n    public static int Add(int a, int b) { return a + b; }\n}\n",
                "CalcTests.cs": """
                using DoerTest;

                public class CalcTests {
                    [Test] public void Adds() { Assert.Equal(5, Calc.Add(2, 3)); }
                    [Test] public void AddsWrongly() { Assert.True(Calc.Add(2, 2) == 5, "two and two make four"); }
                }

                """,
            ],
            passingTest: "CalcTests.Adds", failingTest: "CalcTests.AddsWrongly", failureMessage: "two and two make four"),
        LanguageSample(
            language: "elixir", helloFile: "hello.exs", helloSource: "IO.puts(\"hello from elixir\")\n",
            helloOutput: "hello from elixir\n",
            project: [
                "lib/calc.ex": "defmodule Calc do\n  def add(a, b), do: a + b\nend\n",
                "test/calc_test.exs": """
                defmodule CalcTest do
                  use ExUnit.Case

                  test "adds" do
                    assert Calc.add(2, 3) == 5
                  end

                  test "adds wrongly" do
                    assert Calc.add(2, 2) == 5, "two and two make four"
                  end
                end

                """,
            ],
            passingTest: "CalcTest.adds", failingTest: "CalcTest.adds wrongly", failureMessage: "two and two make four"),
    ] + [haskell, kotlin, ocaml]
}
