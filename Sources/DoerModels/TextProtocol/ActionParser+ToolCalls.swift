public import DoerCore
import Foundation

/// Why a native tool call could not become an action.
public enum ActionToolCallError: Error, Sendable, Hashable, CustomStringConvertible {
    case unknownTool(String)
    /// The arguments are not a JSON object.
    case malformedArguments(tool: String, detail: String)
    case missingArgument(tool: String, argument: String)
    /// The argument is there but is not a string.
    case wrongArgumentType(tool: String, argument: String)
    case refusedPath(tool: String, ActionPathRefusal)

    public var description: String {
        switch self {
        case .unknownTool(let name):
            let known = ActionParser.toolDefinitions.map(\.name).joined(separator: ", ")
            return "unknown tool \(name.debugDescription); the tools are \(known)"
        case .malformedArguments(let tool, let detail):
            return "the arguments of \(tool) are not a JSON object (\(detail)); send them like {\"path\": \"app.py\", ...}"
        case .missingArgument(let tool, let argument):
            return "\(tool) needs the argument \"\(argument)\""
        case .wrongArgumentType(let tool, let argument):
            return "the argument \"\(argument)\" of \(tool) must be a string"
        case .refusedPath(let tool, let refusal):
            return "\(tool): \(refusal.description)"
        }
    }
}

extension ActionParser {
    /// The native tools that mirror the text protocol's three block kinds.
    public static let toolDefinitions: [ToolDefinition] = [
        ToolDefinition(
            name: "write_file",
            description: "Create a file or replace a whole file with the given content. Write complete code, never placeholders.",
            parametersSchema: """
                {"type":"object","properties":{\
                "path":{"type":"string","description":"Path relative to the workspace, like src/app.py"},\
                "content":{"type":"string","description":"The complete new content of the file"}},\
                "required":["path","content"],"additionalProperties":false}
                """
        ),
        ToolDefinition(
            name: "edit_file",
            description: "Replace one exact occurrence of `search` in an existing file with `replace`.",
            parametersSchema: """
                {"type":"object","properties":{\
                "path":{"type":"string","description":"Path relative to the workspace, like src/app.py"},\
                "search":{"type":"string","description":"Lines copied exactly from the file; must occur exactly once"},\
                "replace":{"type":"string","description":"The text that takes their place (empty to delete)"}},\
                "required":["path","search","replace"],"additionalProperties":false}
                """
        ),
        ToolDefinition(
            name: "run_command",
            description: "Run a shell command in the sandbox (for example the tests) and see its output and exit code.",
            parametersSchema: """
                {"type":"object","properties":{\
                "command":{"type":"string","description":"The shell command, like python -m pytest -q"}},\
                "required":["command"],"additionalProperties":false}
                """
        ),
    ]

    /// Maps a native tool call to the action the same request would give in the text
    /// protocol. `write_file` content gets the text protocol's trailing newline; edit text
    /// is kept exactly, since a native call can match inside a line.
    public func actions(fromToolCall name: String, arguments: String) throws -> Action {
        let tool = name.lowercased().replacingOccurrences(of: "-", with: "_")
        guard ["write_file", "edit_file", "run_command"].contains(tool) else {
            throw ActionToolCallError.unknownTool(name)
        }
        let object = try Self.argumentObject(arguments, tool: tool)

        func string(_ names: [String]) throws -> String {
            for key in names {
                guard let value = object[key], !(value is NSNull) else { continue }
                if let text = value as? String { return text }
                if key == "command", let parts = value as? [String] { return parts.joined(separator: " ") }
                throw ActionToolCallError.wrongArgumentType(tool: tool, argument: names[0])
            }
            throw ActionToolCallError.missingArgument(tool: tool, argument: names[0])
        }
        func path() throws -> String {
            switch ActionPath.normalize(try string(["path", "file_path", "filename", "file"])) {
            case .success(let path): return path
            case .failure(let refusal): throw ActionToolCallError.refusedPath(tool: tool, refusal)
            }
        }

        switch tool {
        case "write_file":
            let path = try path()
            let content = try string(["content", "contents", "text"])
            return .writeFile(path: path, content: Self.fileContent(Self.lines(of: content)))
        case "edit_file":
            let path = try path()
            let search = try string(["search", "old_string", "old"])
            let replace = try string(["replace", "new_string", "new"])
            return .editFile(path: path, search: search, replace: replace)
        default:
            let command = Self.trimmed(try string(["command", "cmd"]))
            guard !command.isEmpty else { throw ActionToolCallError.missingArgument(tool: tool, argument: "command") }
            return .runCommand(command)
        }
    }

    /// The arguments as a JSON object; a JSON string holding the object (double-encoded, as
    /// some servers send) is unwrapped once.
    static func argumentObject(_ arguments: String, tool: String) throws -> [String: Any] {
        func decode(_ text: String) throws -> Any {
            guard !trimmed(text).isEmpty else {
                throw ActionToolCallError.malformedArguments(tool: tool, detail: "they are empty")
            }
            do {
                return try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
            } catch {
                let shown = text.count > 80 ? String(text.prefix(80)) + "…" : text
                throw ActionToolCallError.malformedArguments(tool: tool, detail: "invalid JSON: \(shown)")
            }
        }
        var value = try decode(arguments)
        if let inner = value as? String { value = try decode(inner) }
        guard let object = value as? [String: Any] else {
            throw ActionToolCallError.malformedArguments(tool: tool, detail: "expected an object, found \(type(of: value))")
        }
        return object
    }
}
