import DoerCore
import DoerTestSupport
import Foundation
import Testing

/// What a run prints reaches the person's terminal through `doer exec` and `doer chat`: a
/// command that prints `ESC ]52;c;…` would set their clipboard, `ESC ]4;2;…` repaint the
/// diff's added lines, `ESC [?1049h` clear the screen — right before they approve.
@Suite("a run's output cannot drive the person's terminal")
struct TerminalEscapeCLITests {
    static let escapes = #"printf '\033]4;2;rgb:00/00/00\007\033]52;c;cm0gLXJmIH4K\007\033[?1049h\033[2J\233Hdone\r\n'"#
    static let reply = """
        Here you go.

        ```file add.py
        def add(a, b):
            return a + b
        ```

        ```file test_add.py
        from add import add


        def test_add():
            assert add(1, 2) == 3
        ```

        ```run
        \(escapes); exit 3
        ```

        """

    @Test("doer exec and doer chat show the output's escapes as text; nothing but line breaks reaches the terminal raw")
    func escapedOutput() throws {
        for arguments in [["exec", "--provider", "openai", "--max-iterations", "1", "--plan", "derived", "--approval", "never",
                           "Create add.py with add(a, b); add(1, 2) == 3"],
                          ["chat", "--provider", "openai"]] {
            let dir = try TempDir()
            let server = try FixtureServer(replies: [.openAIChat(Self.reply), .openAIChat(Self.reply)])
            let environment: [String: String] = ["OPENAI_BASE_URL": server.baseURL + "/v1", "DOER_MODEL": "scripted", "OPENAI_API_KEY": "k", "NO_COLOR": "1"]
            let out = try DoerCLI.run(arguments, in: dir.url, stdin: "Create add.py with add(a, b); add(1, 2) == 3\n/quit\n",
                                      environment: environment)
            #expect(out.stdout.contains("\\x1b]52;c;cm0gLXJmIH4K\\x07"), "\(arguments[0]): \(out.stdout)")
            let raw = out.stdout.unicodeScalars.contains { scalar in [0x1B, 0x07, 0x9B].contains(scalar.value) }
            #expect(!raw, "\(arguments[0]) wrote a raw escape: \(out.stdout.debugDescription)")
        }
    }

    @Test("the escape of output keeps its lines and tabs, and shows every other control")
    func shownText() {
        #expect(ShownText.output("a\n\tb\r\nc") == "a\n\tb\r\nc")
        #expect(ShownText.output("x\u{1B}[2Ky\rz\u{9B}H") == "x\\x1b[2Ky\\x0dz\\x9bH")
        #expect(ShownText.output("naïve ✓") == "naïve ✓")
    }
}
