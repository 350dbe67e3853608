/// Why a path a model wrote cannot be used.
public enum ActionPathRefusal: Error, Sendable, Hashable, CustomStringConvertible {
    case empty
    case absolute(String)
    case leavesWorkspace(String)
    case invalid(String, reason: String)

    public var description: String {
        switch self {
        case .empty:
            return "empty file name; name the file in the fence, like ```file app.py"
        case .absolute(let path):
            return "refused path \(path): it is absolute; paths are relative to the workspace, like src/app.py"
        case .leavesWorkspace(let path):
            return "refused path \(path): it contains .., and paths must stay inside the workspace"
        case .invalid(let path, let reason):
            return "refused path \(path): \(reason)"
        }
    }
}

/// Turns the path a model wrote into a workspace-relative one.
enum ActionPath {
    static let maximumLength = 1024

    /// `./src//app.py` → `src/app.py`; absolute paths and `..` are refused.
    static func normalize(_ raw: String) -> Result<String, ActionPathRefusal> {
        let text = ActionParser.unwrapped(raw)
        guard !text.isEmpty else { return .failure(.empty) }
        let shown = String(text.prefix(200))
        if text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            return .failure(.invalid(shown.debugDescription, reason: "it contains control characters"))
        }
        guard text.utf8.count <= maximumLength else {
            return .failure(.invalid(shown + "…", reason: "it is longer than \(maximumLength) bytes"))
        }
        let slashed = String(text.map { $0 == "\\" ? "/" : $0 })
        let isDriveLetter: Bool = {
            let scalars = Array(slashed.unicodeScalars.prefix(3))
            return scalars.count >= 2 && scalars[0].properties.isAlphabetic && scalars[0].isASCII && scalars[1] == ":"
        }()
        if slashed.hasPrefix("/") || slashed.hasPrefix("~") || isDriveLetter {
            return .failure(.absolute(shown))
        }
        let components = slashed.split(separator: "/").filter { $0 != "." }
        if components.contains(where: { $0 == ".." }) { return .failure(.leavesWorkspace(shown)) }
        guard !components.isEmpty else { return .failure(.empty) }
        if slashed.hasSuffix("/") {
            return .failure(.invalid(shown, reason: "it names a directory; name a file, like \(shown)app.py"))
        }
        return .success(components.joined(separator: "/"))
    }
}
