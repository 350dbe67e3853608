/// Something the agent asks to do, parsed from a native tool call or from the text
/// action protocol; both forms produce the same values.
public enum Action: Sendable, Hashable, Codable {
    /// Write a whole file (created or replaced).
    case writeFile(path: String, content: String)
    /// Replace `search` (exactly once) with `replace` in an existing file.
    case editFile(path: String, search: String, replace: String)
    /// Run a shell command in the sandbox.
    case runCommand(String)
}

extension Action {
    /// The file a write or an edit changes; nil for a command.
    public var writtenPath: String? {
        switch self {
        case .writeFile(let path, _), .editFile(let path, _, _): path
        case .runCommand: nil
        }
    }
}
