import DoerCore
@testable import DoerAgent
import Foundation
import Testing

/// A Go test file as Qwen2.5-Coder-1.5B wrote it for "Create a Go module named strutil … with
/// Reverse … and IsPalindrome … Add tests.": `package strutil_test` with no import of
/// strutil, `strings` imported and unused, `fmt` used and not imported. Go builds none of it,
/// and the model wrote the same file on every turn.
private enum ModelWrote {
    static let test = """
        package strutil_test

        import (
        \t"testing"
        \t"strings"
        )

        func TestReverse(t *testing.T) {
        \ttestCases := []struct {
        \t\tinput    string
        \t\texpected string
        \t}{
        \t\t{"hello", "olleh"},
        \t\t{"world", "dlrow"},
        \t\t{"", ""},
        \t\t{"a", "a"},
        \t}

        \tfor _, tc := range testCases {
        \t\tt.Run(fmt.Sprintf("Reverse(%q)", tc.input), func(t *testing.T) {
        \t\t\tresult := Reverse(tc.input)
        \t\t\tif result != tc.expected {
        \t\t\t\tt.Errorf("Reverse(%q) = %q, want %q", tc.input, result, tc.expected)
        \t\t\t}
        \t\t})
        \t}
        }

        func TestIsPalindrome(t *testing.T) {
        \ttestCases := []struct {
        \t\tinput    string
        \t\texpected bool
        \t}{
        \t\t{"hello", false},
        \t\t{"world", false},
        \t\t{"", true},
        \t\t{"a", true},
        \t}

        \tfor _, tc := range testCases {
        \t\tt.Run(fmt.Sprintf("IsPalindrome(%q)", tc.input), func(t *testing.T) {
        \t\t\tresult := IsPalindrome(tc.input)
        \t\t\tif result != tc.expected {
        \t\t\t\tt.Errorf("IsPalindrome(%q) = %v, want %v", tc.input, result, tc.expected)
        \t\t\t}
        \t\t})
        \t}
        }

        """
    static let code = """
        package strutil

        import (
        \t"strings"
        )

        func Reverse(s string) string {
        \trunes := []rune(s)
        \tfor i, j := 0, len(runes)-1; i < j; i, j = i+1, j-1 {
        \t\trunes[i], runes[j] = runes[j], runes[i]
        \t}
        \treturn string(runes)
        }

        func IsPalindrome(s string) bool {
        \trunes := []rune(strings.ToLower(s))
        \tfor i, j := 0, len(runes)-1; i < j; i, j = i+1, j-1 {
        \t\tif runes[i] != runes[j] {
        \t\t\treturn false
        \t\t}
        \t}
        \treturn true
        }

        """
    static let task = "Create a Go module named strutil (go.mod, package strutil in reverse.go) with Reverse(s string) string that returns s "
        + "with its characters in reverse order, and IsPalindrome(s string) bool that ignores case. Add tests."
}

@Suite("Go files mended the way goimports would")
struct GoImportsTests {
    @Test("the model's test: in its code's package, the unused import out, the missing one in")
    func modelsTest() throws {
        let tidied = try #require(GoImports.tidied(ModelWrote.test, package: "strutil", isTest: true))
        #expect(tidied.hasPrefix("package strutil\n"))
        #expect(!tidied.contains("\"strings\""))
        #expect(tidied.contains("\"fmt\"") && tidied.contains("\"testing\""))
        #expect(tidied.contains("func TestIsPalindrome(t *testing.T) {"))
        #expect(GoImports.tidied(tidied, package: "strutil", isTest: true) == nil, "tidy twice changes nothing")
        #expect(GoImports.tidied(ModelWrote.code) == nil, "a file that builds is left as it is")
    }

    @Test("left alone: an external test that imports its package, aliases, a name the file declares itself, a method called time")
    func leftAlone() {
        let external = "package strutil_test\n\nimport (\n\t\"example.com/strutil\"\n\t\"testing\"\n)\n\nfunc TestA(t *testing.T) { strutil.Reverse(\"a\") }\n"
        #expect(GoImports.tidied(external, package: "strutil", isTest: true) == nil)
        let alias = "package a\n\nimport (\n\tstr \"strings\"\n)\n\nfunc A() string { return str.ToUpper(\"a\") }\n"
        #expect(GoImports.tidied(alias) == nil)
        let shadow = "package a\n\nfunc A(strings []string) int { return len(strings) }\n\nfunc B(x T) { x.time.Add() }\n"
        #expect(GoImports.tidied(shadow) == nil)
        let commented = "package a\n\nimport \"fmt\"\n\n// like strings.Fields\nfunc A() { fmt.Println(\"see sort.Ints\", `os.Exit`, '\\'') }\n"
        #expect(GoImports.tidied(commented) == nil, "names in comments and strings are not uses")
        #expect(GoImports.codeOnly("a // b.c\nd /* e.f */ g \"h.i\\\"j\" k") == "a \nd   g \"\" k")
        let trailing = "package a\n\nimport (\n\t\"strings\" // for Fields\n)\n\nfunc A() []string { return strings.Fields(\"a b\") }\n"
        #expect(GoImports.tidied(trailing) == nil, "an import with a comment after it is still an import")
        let single = "package a\n\nimport \"strings\"\n\nfunc A() int { return 1 }\n"
        #expect(GoImports.tidied(single) == "package a\n\n\nfunc A() int { return 1 }\n")
    }

    @Test("end to end: the model's own files, tidied, build and pass; the test written apart agrees; passed and applied as tidied")
    func endToEnd() async throws {
        let ws = try AgentWorkspace()
        let check = Replies.files(["request_check_test.go": """
            package strutil

            import (
            \t"strings"
            \t"testing"
            )

            func TestRequestCheckReverse(t *testing.T) {
            \tif got := Reverse("abc"); got != "cba" {
            \t\tt.Fatalf("got %q", got)
            \t}
            \tif !IsPalindrome("Abba") {
            \t\tt.Fatal("Abba")
            \t}
            }

            """])
        let model = ScriptedModel(replies: [0: [Replies.files(["go.mod": "module strutil\n\ngo 1.19\n", "reverse.go": ModelWrote.code,
                                                               "test_reverse.go": ModelWrote.test])],
                                            Replies.independentWriter: [check]])
        let (events, summary) = try await AgentHarness.run(model, task: ModelWrote.task, in: ws, approval: .never)
        #expect(summary.outcome == .passed, "\(summary.message)")
        #expect(AgentHarness.evidence(events)?.sources == [.modelTests, .independentTest])
        #expect(ws.read("reverse_test.go")?.hasPrefix("package strutil\n") == true && ws.read("test_reverse.go") == nil)
        #expect(ws.read("request_check_test.go") == nil)
    }
}
