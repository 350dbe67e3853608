import DoerCore
import Foundation

/// Unified diffs with three lines of context, from Swift's own collection difference.
/// Lines are compared byte for byte and shown escaped (`ShownText`), and a missing final
/// newline is marked as git marks it, so no change to a file's bytes goes unshown.
enum UnifiedDiff {
    /// `before`/`after`: nil when the file does not exist on that side; `.some(nil)` when
    /// it exists but is not text.
    static func render(path: String, before: String??, after: String??) -> String {
        let shownPath = ShownText.escape(path)
        let oldName = before == nil ? "/dev/null" : "a/\(shownPath)"
        let newName = after == nil ? "/dev/null" : "b/\(shownPath)"
        if case .some(.none) = before { return "Binary file \(shownPath) changed\n" }
        if case .some(.none) = after { return "Binary file \(shownPath) changed\n" }
        let old = lines(before ?? nil), new = lines(after ?? nil)
        if old == new { return "" }
        var out = "--- \(oldName)\n+++ \(newName)\n"
        // Walk both files, marking each line kept, removed or inserted.
        let difference = new.difference(from: old)
        var removed = Set<Int>(), inserted = Set<Int>()
        for change in difference {
            switch change {
            case .remove(let offset, _, _): removed.insert(offset)
            case .insert(let offset, _, _): inserted.insert(offset)
            }
        }
        enum Step { case keep(Line), remove(Line), insert(Line) }
        var script: [(Step, Int, Int)] = []  // line, old index, new index
        var i = 0, j = 0
        while i < old.count || j < new.count {
            if i < old.count && removed.contains(i) {
                script.append((.remove(old[i]), i, j)); i += 1
            } else if j < new.count && inserted.contains(j) {
                script.append((.insert(new[j]), i, j)); j += 1
            } else {
                script.append((.keep(i < old.count ? old[i] : Line(bytes: [], lastWithoutNewline: false)), i, j)); i += 1; j += 1
            }
        }
        let context = 3
        let changed = script.indices.filter { if case .keep = script[$0].0 { return false } else { return true } }
        var hunkStart = 0
        while hunkStart < changed.count {
            var hunkEnd = hunkStart
            while hunkEnd + 1 < changed.count && changed[hunkEnd + 1] - changed[hunkEnd] <= 2 * context { hunkEnd += 1 }
            let from = max(0, changed[hunkStart] - context), to = min(script.count - 1, changed[hunkEnd] + context)
            let slice = script[from...to]
            let oldCount = slice.filter { if case .insert = $0.0 { return false } else { return true } }.count
            let newCount = slice.filter { if case .remove = $0.0 { return false } else { return true } }.count
            let oldStart = oldCount == 0 ? slice.first!.1 : slice.first!.1 + 1
            let newStart = newCount == 0 ? slice.first!.2 : slice.first!.2 + 1
            out += "@@ -\(oldStart),\(oldCount) +\(newStart),\(newCount) @@\n"
            for (line, _, _) in slice {
                switch line {
                case .keep(let line): out += " \(line.shown)\n"
                case .remove(let line): out += "-\(line.shown)\n"
                case .insert(let line): out += "+\(line.shown)\n"
                }
            }
            hunkStart = hunkEnd + 1
        }
        return out
    }

    /// One line, compared by its bytes: String's own equality holds canonically equivalent
    /// text equal ("é" as one scalar or as "e" and a combining accent, "Ω" as an ohm sign
    /// or an omega), which would show a changed line as unchanged.
    struct Line: Equatable {
        var bytes: [UInt8]
        /// The file's last line, with no newline after it.
        var lastWithoutNewline: Bool

        var shown: String {
            ShownText.line(String(decoding: bytes, as: UTF8.self))
                + (lastWithoutNewline ? "\n\\ No newline at end of file" : "")
        }
    }

    /// Split on newline bytes (not Characters: "\r\n" is one Character to Swift).
    static func lines(_ text: String?) -> [Line] {
        guard let text, !text.isEmpty else { return [] }
        var parts = Array(text.utf8).split(separator: 0x0A, omittingEmptySubsequences: false).map { Array($0) }
        let endsWithNewline = parts.last == []
        if endsWithNewline { parts.removeLast() }
        return parts.enumerated().map { index, bytes in
            Line(bytes: bytes, lastWithoutNewline: !endsWithNewline && index == parts.count - 1)
        }
    }
}
