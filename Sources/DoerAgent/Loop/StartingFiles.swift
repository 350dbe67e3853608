import DoerCore
import DoerSandbox

/// The files as the candidate's first turn showed them. A fresh draw sends that first
/// turn's request again, so before it the copy is put back to match what the request shows:
/// every file the candidate changed gets its starting content back, and an edit in the draw
/// applies to the text the model was shown. Files the candidate created stay (the action
/// vocabulary has no delete, and a delete could not be replayed on resume); commands'
/// changes are not known and stay too.
struct StartingFiles: Sendable {
    /// Path -> its content before the candidate's first write to it; nil for a file that
    /// did not exist then.
    private var originals: [String: String?] = [:]

    /// Call before a write to `path`: only the first write's "before" is the start.
    mutating func noteWrite(to path: String, in copy: WorkspaceCopy) {
        guard !originals.keys.contains(path) else { return }
        originals[path] = .some(copy.read(path))
    }

    /// Writes the starting content back over every changed file that existed at the start;
    /// returns the writes made, in path order, so they are recorded (and replayed on resume)
    /// like any other write.
    func restore(into copy: WorkspaceCopy) throws(DoerError) -> [Action] {
        try copy.writeBack(originals.compactMapValues { $0 })
    }
}
