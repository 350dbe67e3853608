import DoerCore
import Foundation
import Testing

@Suite("doer test, doer languages, doer run in other languages")
struct LanguagesCLITests {
    @Test("doer test on a Python + JavaScript project: per-test JSON report, exit 1, the failing tests named")
    func mixedProject() throws {
        let dir = try TempDir(files: [
            "calc.py": "def add(a, b):\n    return a + b\n",
            "test_calc.py": "from calc import add\n\ndef test_adds():\n    assert add(1, 2) == 3\n\ndef test_wrong():\n    assert add(1, 1) == 3, 'one and one'\n",
            "sum.test.js": "const test = require('node:test');\nconst assert = require('node:assert');\ntest('sums', () => assert.strictEqual(1 + 1, 2));\ntest('sums badly', () => assert.strictEqual(1 + 1, 3, 'not three'));\n",
        ])
        let out = try DoerCLI.run(["test", "--json"], in: dir.url)
        #expect(out.status == 1, "\(out.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [String: Any]
        let languages = try #require(object?["languages"] as? [[String: Any]])
        #expect(languages.map { $0["language"] as? String } == ["python", "javascript"])
        for language in languages {
            #expect(language["outcome"] as? String == "failed")
            let tests = language["tests"] as? [[String: Any]] ?? []
            let failed = tests.filter { $0["status"] as? String == "failed" }
            #expect(failed.count == 1)
            let message = failed.first?["message"] as? String ?? ""
            #expect(message.contains("one and one") || message.contains("not three"), "\(message)")
        }
        // The run left nothing behind in the project.
        let left = try FileManager.default.contentsOfDirectory(atPath: dir.url.path).filter { $0 != ".doer-home" }.sorted()
        #expect(left == ["calc.py", "sum.test.js", "test_calc.py"])
    }

    @Test("doer test prints a readable report and exits 0 when everything passes")
    func passingGo() throws {
        let dir = try TempDir(files: [
            "go.mod": "module example.com/ok\n\ngo 1.19\n",
            "ok_test.go": "package ok\n\nimport \"testing\"\n\nfunc TestOK(t *testing.T) {}\n",
        ])
        let out = try DoerCLI.run(["test"], in: dir.url)
        #expect(out.status == 0, "\(out.stdout)\(out.stderr)")
        #expect(out.stdout.contains("go (go test): passed — 1 passed, 0 failed"), "\(out.stdout)")
    }

    @Test("doer test reports a compile error as such")
    func compileError() throws {
        let dir = try TempDir(files: [
            "test_broken.c": "#include \"doer_test.h\"\nTEST(x) { CHECK(undeclared_name == 1); }\n",
        ])
        let out = try DoerCLI.run(["test"], in: dir.url)
        #expect(out.status == 1)
        #expect(out.stdout.contains("c (doer_test.h): build-failed"), "\(out.stdout)")
        #expect(out.stdout.contains("undeclared_name"), "\(out.stdout)")
    }

    @Test("doer test with no tests says so and fails")
    func noTests() throws {
        let dir = try TempDir(files: ["README.md": "nothing\n"])
        let out = try DoerCLI.run(["test"], in: dir.url)
        #expect(out.status == 1)
        #expect(out.stderr.contains("no tests found"))
    }

    @Test("doer run compiles and runs Go and Rust files")
    func runCompiled() throws {
        let dir = try TempDir(files: [
            "main.go": "package main\n\nimport (\"fmt\"; \"os\")\n\nfunc main() { fmt.Println(\"go\", os.Args[1]); os.Exit(4) }\n",
            "main.rs": "fn main() { let a: Vec<String> = std::env::args().collect(); println!(\"rust {}\", a[1]); }\n",
            "bad.rs": "fn main() { let x: i32 = \"no\"; }\n",
        ])
        let go = try DoerCLI.run(["run", "main.go", "--", "arg"], in: dir.url)
        #expect(go.stdout == "go arg\n", "\(go.stderr)")
        #expect(go.status == 4)
        let rust = try DoerCLI.run(["run", "main.rs", "--", "arg"], in: dir.url)
        #expect(rust.stdout == "rust arg\n", "\(rust.stderr)")
        let bad = try DoerCLI.run(["run", "bad.rs"], in: dir.url)
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("did not compile") && bad.stderr.contains("mismatched types"), "\(bad.stderr)")
    }

    @Test("doer languages lists the catalogue with what is installed; install names its apt command")
    func languagesList() throws {
        let dir = try TempDir()
        let list = try DoerCLI.run(["languages"], in: dir.url)
        #expect(list.status == 0)
        for name in ["python", "javascript", "typescript", "go", "rust", "swift", "c", "cpp", "java", "ruby", "php", "perl", "bash", "lua", "r", "csharp", "elixir"] {
            #expect(list.stdout.contains("\n" + name + " "), "\(name) missing from\n\(list.stdout)")
        }
        let json = try DoerCLI.run(["languages", "list", "--json"], in: dir.url)
        let rows = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]]
        #expect(rows?.first { $0["name"] as? String == "go" }?["packages"] as? [String] == ["golang-go"])
        let dry = try DoerCLI.run(["languages", "install", "--dry-run", "all"], in: dir.url)
        #expect(dry.status == 0)
        let unknown = try DoerCLI.run(["languages", "install", "cobol"], in: dir.url)
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("unknown language 'cobol'"))
    }
}
