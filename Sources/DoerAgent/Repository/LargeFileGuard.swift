import Foundation

/// A whole-file write that would drop most of a large file is refused: a model shown only
/// part of a file, asked to change one function, tends to write back just that function.
enum LargeFileGuard {
    /// Files with more lines than this are edited with search/replace blocks.
    static let largeFileLines = 200
    /// A write keeping less than this share of the old lines drops most of the file.
    static let keptShare = 0.5

    /// Why `new` may not replace `old` at `path`, or nil when it may.
    static func refusal(path: String, old: String?, new: String) -> String? {
        guard let old else { return nil }
        let oldLines = old.split(separator: "\n", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard oldLines.count > largeFileLines else { return nil }
        var remaining: [String: Int] = [:]
        for line in new.split(separator: "\n", omittingEmptySubsequences: false) {
            remaining[line.trimmingCharacters(in: .whitespaces), default: 0] += 1
        }
        var kept = 0
        var counted = 0
        for line in oldLines where !line.isEmpty {
            counted += 1
            if let left = remaining[line], left > 0 {
                kept += 1
                remaining[line] = left - 1
            }
        }
        guard counted > 0, Double(kept) < Double(counted) * keptShare else { return nil }
        return "Refused to write \(path) whole: it has \(oldLines.count) lines and your version keeps only \(kept) of its "
            + "\(counted) non-blank lines. Change a large file with an edit block (```edit \(path) with <<<<<<< SEARCH / "
            + "======= / >>>>>>> REPLACE) holding only the lines to change; ```read \(path) START-END shows lines you need to see."
    }
}
