import Foundation

/// Cuts a failing run's output down to what a model needs to repair it: the failing
/// assertion, the tail of the traceback, the compiler's error with its source lines.
enum FailureTrimmer {
    static func trim(_ output: String, maxLines: Int = 40, maxCharacters: Int = 3000) -> String {
        var lines = output.components(separatedBy: "\n").filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        // pytest: the failure section is what matters; its progress dots and headers are not.
        if let start = lines.firstIndex(where: { $0.contains("= FAILURES =") || $0.contains("= ERRORS =") }) {
            lines = Array(lines[start...])
        }
        lines.removeAll { $0.hasPrefix("platform ") || $0.hasPrefix("rootdir:") || $0.hasPrefix("cachedir:") }
        lines = withoutToolingFrames(lines)
        if lines.count > maxLines {
            // Keep the lines that say what failed from the head, and the tail.
            let important = lines.prefix(lines.count - maxLines / 2).filter {
                $0.contains("Error") || $0.contains("assert") || $0.hasPrefix("E ") || $0.contains("error:")
            }.prefix(maxLines / 2)
            lines = Array(important) + ["…"] + Array(lines.suffix(maxLines / 2))
        }
        var text = lines.joined(separator: "\n")
        if text.count > maxCharacters { text = "…" + String(text.suffix(maxCharacters)) }
        return text
    }

    /// pytest's frames in its own code and the interpreter's import machinery (a collection
    /// error shows a dozen) say nothing about the workspace, and would push the frames that
    /// do out of a small model's window. Each goes with the source line shown under it.
    static func withoutToolingFrames(_ lines: [String]) -> [String] {
        var kept: [String] = []
        var skippingSource = false
        for line in lines {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if isToolingFrame(trimmed) {
                skippingSource = true
                continue
            }
            if skippingSource, line.hasPrefix("    ") || trimmed == "???" { continue }
            skippingSource = false
            kept.append(line)
        }
        return kept.count < lines.count && !kept.isEmpty ? kept : lines
    }

    /// `/usr/lib/python3/dist-packages/_pytest/python.py:618: in _importtestmodule`,
    /// `<frozen importlib._bootstrap>:1206: in _gcd_import`.
    private static func isToolingFrame(_ line: String) -> Bool {
        guard line.contains(": in "), let location = line.components(separatedBy: ": in ").first else { return false }
        if location.hasPrefix("<frozen ") { return true }
        let path = location.split(separator: ":").first.map(String.init) ?? location
        guard path.hasPrefix("/") else { return false }
        return path.contains("/site-packages/") || path.contains("/dist-packages/")
            || path.range(of: "^/usr/(local/)?lib/python3[0-9.]*/", options: .regularExpression) != nil
    }

    /// The same failure twice means the loop is going round in circles. Line numbers and
    /// timings differ between runs, so they are left out of the comparison.
    static func signature(_ trimmed: String) -> String {
        trimmed.replacingOccurrences(of: "[0-9]+(\\.[0-9]+)?s", with: "", options: .regularExpression)
            .replacingOccurrences(of: "0x[0-9a-f]+", with: "", options: .regularExpression)
    }
}
