/// Something the model asks to see before it changes anything: a range of a file, where a
/// text occurs, or what a file defines. Parsed from the text protocol's `read`, `search`
/// and `definitions` blocks or from the matching native tools; answered from the
/// candidate's copy on the model's next turn. Unlike an `Action` it changes nothing.
public enum WorkspaceQuery: Sendable, Hashable, Codable {
    /// Lines `startLine...endLine` (1-based, inclusive) of a file; nil bounds mean the
    /// file's start or end.
    case readRange(path: String, startLine: Int?, endLine: Int?)
    /// Lines holding `text` (literal, case-sensitive), in one file or folder, or everywhere.
    case search(text: String, path: String?)
    /// The functions, classes and methods of one file or folder, or of the whole workspace.
    case listDefinitions(path: String?)
}
