import DoerCore
import DoerModels
import Testing

@Suite("lookups in the text protocol and as native tools")
struct ActionQueryTests {
    let parser = ActionParser()

    @Test("read blocks give a path and a line range, in every form the protocol accepts")
    func readForms() {
        let forms: [(String, WorkspaceQuery)] = [
            ("```read src/app.py 120-180\n```", .readRange(path: "src/app.py", startLine: 120, endLine: 180)),
            ("```read src/app.py:120-180\n```", .readRange(path: "src/app.py", startLine: 120, endLine: 180)),
            ("```read src/app.py lines 120 to 180\n```", .readRange(path: "src/app.py", startLine: 120, endLine: 180)),
            ("```read ./src//app.py 7\n```", .readRange(path: "src/app.py", startLine: 7, endLine: nil)),
            ("```read\nsrc/app.py 3-4\n```", .readRange(path: "src/app.py", startLine: 3, endLine: 4)),
            ("```view app.py\n```", .readRange(path: "app.py", startLine: nil, endLine: nil)),
        ]
        for (reply, expected) in forms {
            let result = parser.parse("Let me look first.\n\n" + reply)
            #expect(result.queries == [expected], "\(reply)")
            #expect(result.actions.isEmpty && result.problems.isEmpty, "\(reply): \(result.problems)")
        }
    }

    @Test("search and definitions blocks, with and without a scope")
    func searchAndDefinitions() {
        #expect(parser.parse("```search parse_header\n```").queries == [.search(text: "parse_header", path: nil)])
        #expect(parser.parse("```search raw_decode in jsonkit/decoder.py\n```").queries == [.search(text: "raw_decode", path: "jsonkit/decoder.py")])
        #expect(parser.parse("```search\nreturn None if\n```").queries == [.search(text: "return None if", path: nil)])
        #expect(parser.parse("```definitions\n```").queries == [.listDefinitions(path: nil)])
        #expect(parser.parse("```definitions jsonkit/decoder.py\n```").queries == [.listDefinitions(path: "jsonkit/decoder.py")])
        #expect(parser.parse("```defs .\n```").queries == [.listDefinitions(path: nil)])
    }

    @Test("lookups never name a path outside the workspace")
    func refusedPaths() {
        for reply in ["```read ../secrets.txt 1-5\n```", "```read /etc/passwd\n```", "```read ~/.ssh/id_rsa\n```",
                      "```definitions ../other\n```", "```search token in ../../etc/\n```", "```read src/../../x.py\n```"] {
            let result = parser.parse(reply)
            #expect(result.queries.isEmpty, "\(reply) gave \(result.queries)")
            #expect(!result.problems.isEmpty, "\(reply) must say why")
        }
        #expect(!parser.parse("```read\n```").problems.isEmpty)
        #expect(!parser.parse("```search\n```").problems.isEmpty)
    }

    @Test("a reply mixing lookups and actions keeps both, in order")
    func mixed() {
        let reply = "```read a.py 1-3\n```\n\n```edit a.py\n<<<<<<< SEARCH\nx = 1\n=======\nx = 2\n>>>>>>> REPLACE\n```\n\n```search x =\n```\n"
        let result = parser.parse(reply)
        #expect(result.actions == [.editFile(path: "a.py", search: "x = 1\n", replace: "x = 2\n")])
        #expect(result.queries == [.readRange(path: "a.py", startLine: 1, endLine: 3), .search(text: "x =", path: nil)])
    }

    @Test("the native lookup tools map to the same queries; other tools are not lookups")
    func nativeTools() throws {
        #expect(try parser.query(fromToolCall: "read_file", arguments: #"{"path": "src/app.py", "start_line": 5, "end_line": 9}"#)
                == .readRange(path: "src/app.py", startLine: 5, endLine: 9))
        #expect(try parser.query(fromToolCall: "read_file", arguments: #"{"path": "app.py", "start_line": "5"}"#)
                == .readRange(path: "app.py", startLine: 5, endLine: nil))
        #expect(try parser.query(fromToolCall: "search_workspace", arguments: #"{"text": "def parse", "path": "src"}"#)
                == .search(text: "def parse", path: "src"))
        #expect(try parser.query(fromToolCall: "list_definitions", arguments: "{}") == .listDefinitions(path: nil))
        #expect(try parser.query(fromToolCall: "list-definitions", arguments: "") == .listDefinitions(path: nil))
        #expect(try parser.query(fromToolCall: "write_file", arguments: #"{"path": "a.py", "content": "x"}"#) == nil)
        #expect(throws: ActionToolCallError.self) { try parser.query(fromToolCall: "read_file", arguments: #"{"path": "../x"}"#) }
        #expect(throws: ActionToolCallError.self) { try parser.query(fromToolCall: "read_file", arguments: #"{"path": "/etc/passwd"}"#) }
        #expect(throws: ActionToolCallError.self) { try parser.query(fromToolCall: "read_file", arguments: "{}") }
        #expect(throws: ActionToolCallError.self) { try parser.query(fromToolCall: "search_workspace", arguments: #"{"text": ""}"#) }
        let names = ActionParser.queryToolDefinitions.map(\.name)
        #expect(names == ["read_file", "search_workspace", "list_definitions"])
        #expect(Set(names).isDisjoint(with: ActionParser.toolDefinitions.map(\.name)))
    }

    @Test("blocks that were actions before stay actions")
    func unchanged() {
        #expect(parser.parse("```file read.py\nx = 1\n```").actions == [.writeFile(path: "read.py", content: "x = 1\n")])
        #expect(parser.parse("```python search.py\nx = 1\n```").actions == [.writeFile(path: "search.py", content: "x = 1\n")])
        #expect(parser.parse("```run\ngrep -rn foo .\n```").actions == [.runCommand("grep -rn foo .")])
    }
}
