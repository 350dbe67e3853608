import DoerCore
import DoerStore
import DoerTestSupport
import Foundation
import Testing

@Suite("doer chat")
struct ChatTests {
    static let calc = "def add(a, b):\n    return a + b\n"
    static let calcWithSub = "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n"
    static let test = "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"
    /// The second message's test: it fails on the first message's code, which is the
    /// evidence that the second change did what was asked.
    static let testWithSub = "from calc import add, sub\n\n\ndef test_add():\n    assert add(2, 3) == 5\n\n\ndef test_sub():\n    assert sub(5, 3) == 2\n"

    static func files(_ files: [String: String]) -> String {
        "Here you go.\n\n" + files.sorted { $0.key < $1.key }.map { "```file \($0.key)\n\($0.value)```\n" }.joined(separator: "\n")
    }

    func environment(_ server: FixtureServer) -> [String: String] {
        ["OPENAI_BASE_URL": server.baseURL + "/v1", "DOER_MODEL": "scripted", "OPENAI_API_KEY": "k", "NO_COLOR": "1"]
    }

    @Test("a workspace that holds Doer's own data folder is refused before anything runs")
    func dataInWorkspace() throws {
        let dir = try TempDir()
        let server = try FixtureServer(replies: [])
        var env = environment(server)
        env["DOER_HOME"] = dir.url.appendingPathComponent("state").path
        for arguments in [["chat", "--provider", "openai"], ["exec", "--provider", "openai", "write x.py"]] {
            let out = try DoerCLI.run(arguments, in: dir.url, stdin: "hello\n", environment: env)
            #expect(out.status != 0)
            #expect(out.stderr.contains("holds Doer's own data folder"), "\(out.stderr)")
        }
        #expect(server.recorded.isEmpty)
    }

    @Test("slash commands answer without a model; bad ones say what is wrong; the chat ends at /quit")
    func slashCommands() throws {
        let dir = try TempDir()
        let server = try FixtureServer(replies: [])
        let out = try DoerCLI.run(["chat", "--provider", "openai"], in: dir.url,
                                  stdin: "/help\n/candidates 3\n/candidates\n/candidates 0\n/plan\n/diff\n/undo\n/nope\n/model\n/model banana\n/quit\nnever read\n",
                                  environment: environment(server))
        #expect(out.status == 0, "\(out.stderr)")
        #expect(out.stdout.contains("/candidates N"))
        #expect(out.stdout.contains("3 candidate(s) per message\n› 3 candidate(s) per message"))
        #expect(out.stdout.contains("/candidates takes a number from 1 to 16, got '0'"))
        #expect(out.stdout.contains("no plan yet"))
        #expect(out.stdout.contains("no finished run yet"))
        #expect(out.stdout.contains("no session has applied changes left to undo"))
        #expect(out.stdout.contains("unknown command /nope"))
        #expect(out.stdout.contains("model openai: scripted"))
        #expect(out.stdout.contains("unknown provider 'banana'"))
        #expect(server.recorded.isEmpty, "no model was asked")
    }

    @Test("two messages: each runs, tests and applies; the second knows the first; /diff, /sessions and /undo act on them")
    func conversation() throws {
        let dir = try TempDir()
        // Each message's pass rests on the model's own test, so each also gets a test written
        // apart from the code (its writer's reply follows the candidate's).
        let server = try FixtureServer(replies: [
            .openAIChat(Self.files(["calc.py": Self.calc, "test_calc.py": Self.test])),
            .openAIChat(Self.files(["test_request_check.py": "from calc import add\n\n\ndef test_adds():\n    assert add(4, 5) == 9\n"])),
            .openAIChat(Self.files(["calc.py": Self.calcWithSub, "test_calc.py": Self.testWithSub])),
            .openAIChat(Self.files(["test_request_check.py": "from calc import sub\n\n\ndef test_subtracts():\n    assert sub(9, 4) == 5\n"])),
        ])
        let input = """
            Write add(a, b) in calc.py with a test
            /diff
            Now add sub(a, b) as well
            /plan
            /sessions
            /undo
            """
        let out = try DoerCLI.run(["chat", "--provider", "openai", "--approval", "never"], in: dir.url, stdin: input + "\n",
                                  environment: environment(server))
        #expect(out.status == 0, "\(out.stderr)")
        // The model's words streamed, then the plan, the sandboxed test run and the result.
        #expect(out.stdout.contains("Here you go."))
        #expect(out.stdout.contains("plan\n  [ ] Write the code for the task in calc.py"))
        #expect(out.stdout.contains("✓ 1 passed, 0 failed"))
        #expect(out.stdout.contains("applied added calc.py"))
        #expect(out.stdout.contains("+    return a + b"), "the /diff of the first message")
        #expect(out.stdout.contains("  [x] Write the code for the task"), "the /plan checklist is ticked")
        // The second request carried what the first message did.
        let second = try #require(server.recorded.dropFirst(2).first)
        #expect(second.body.contains("Earlier in this conversation"))
        #expect(second.body.contains("Write add(a, b) in calc.py with a test"))
        #expect(second.body.contains("done, applied; files: calc.py, test_calc.py"))
        // Both messages are sessions that passed; /undo put back the second one's change.
        #expect(out.stdout.components(separatedBy: "passed           ").count - 1 == 2)
        #expect(out.stdout.contains("undid \"Now add sub(a, b) as well\": calc.py"))
        #expect(try String(contentsOf: dir.url.appendingPathComponent("calc.py"), encoding: .utf8) == Self.calc)
        let store = try SessionStore(path: dir.home.appendingPathComponent("data/doer.sqlite"))
        #expect(try store.sessions().count == 2)
    }
}

@Suite("doer resume from a session's files")
struct ResumeFromFilesTests {
    @Test("a run that passed without a terminal to approve is applied later by resume, without another model turn")
    func applyLater() throws {
        let dir = try TempDir(files: ["test_calc.py": ChatTests.test])
        let server = try FixtureServer(replies: [.openAIChat(ChatTests.files(["calc.py": ChatTests.calc]))])
        let environment = ["OPENAI_BASE_URL": server.baseURL + "/v1", "DOER_MODEL": "scripted", "OPENAI_API_KEY": "k"]
        let first = try DoerCLI.run(["exec", "--provider", "openai", "Write add(a, b) in calc.py"], in: dir.url, environment: environment)
        #expect(first.status == 0)
        #expect(first.stdout.contains("changes not applied"))
        #expect(!FileManager.default.fileExists(atPath: dir.url.appendingPathComponent("calc.py").path))
        let id = try #require(first.stderr.split(separator: "\n").first { $0.hasPrefix("doer: session ") }?.split(separator: " ").last)

        let resumed = try DoerCLI.run(["resume", String(id.prefix(8)), "--provider", "openai", "--approval", "never"], in: dir.url,
                                      environment: environment)
        #expect(resumed.status == 0, "\(resumed.stdout)\(resumed.stderr)")
        #expect(resumed.stdout.contains("passed with the files restored from the session"))
        #expect(try String(contentsOf: dir.url.appendingPathComponent("calc.py"), encoding: .utf8) == ChatTests.calc)
        #expect(server.recorded.count == 1, "the resumed run needed no model turn")

        let again = try DoerCLI.run(["resume", String(id.prefix(8)), "--provider", "openai"], in: dir.url, environment: environment)
        #expect(again.stdout.contains("nothing to resume"))
    }
}
