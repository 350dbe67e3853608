import ArgumentParser
@testable import doer
import Testing

/// The command line's names are what people type and scripts call: renaming or moving the
/// types that declare the commands must leave every one of them where it was.
@Suite("doer command tree")
struct CommandTreeTests {
    /// Every command path as of this writing. New commands may join; none may go or move.
    static let expected: Set<String> = [
        "doer",
        "doer chat", "doer exec", "doer serve", "doer mcp", "doer sessions", "doer resume", "doer undo", "doer run", "doer test",
        "doer version",
        "doer token", "doer token create", "doer token list", "doer token revoke",
        "doer languages", "doer languages list", "doer languages install",
        "doer sandbox", "doer sandbox exec", "doer sandbox check", "doer sandbox registries",
        "doer bench", "doer bench cli", "doer bench sandbox", "doer bench model", "doer bench agent", "doer bench humaneval",
        "doer bench repo", "doer bench languages", "doer bench server",
        "doer config", "doer config show",
        "doer model", "doer model install", "doer model status", "doer model serve", "doer model stop", "doer model ask",
        "doer audit", "doer audit log", "doer audit verify", "doer audit export", "doer audit note",
        "doer store", "doer store status", "doer store migrate",
        "doer deploy", "doer deploy run", "doer deploy status",
    ]

    static func paths(_ command: any ParsableCommand.Type, prefix: String = "") -> [String] {
        let name = command.configuration.commandName ?? "?"
        let path = prefix.isEmpty ? name : prefix + " " + name
        return [path] + command.configuration.subcommands.flatMap { paths($0, prefix: path) }
    }

    @Test("every command keeps its name and its place")
    func namesUnchanged() {
        let actual = Set(Self.paths(Doer.self))
        let missing = Self.expected.subtracting(actual)
        #expect(missing.isEmpty, "gone or moved: \(missing.sorted()); the tree is now \(actual.sorted())")
    }

    @Test("no two commands share a path")
    func pathsUnique() {
        let all = Self.paths(Doer.self)
        #expect(all.count == Set(all).count, "\(all)")
    }
}
