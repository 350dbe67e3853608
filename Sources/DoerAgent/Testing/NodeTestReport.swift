import Foundation

/// `node --test`'s TAP report, test by test, with the file each failing test is in.
///
/// TAP names tests, not files; but a failing test's YAML block gives its `location`
/// (`'/workspace/slug.test.js:5:1'`), and a file that does not load fails as a test named by
/// its path. Ids are written as pytest's are (`slug.test.js::hyphen`, or the file alone when it
/// did not load), so whose tests went from red to green is read the same way for both runners.
/// Only top-level tests count: a `describe` block is one test, as pytest's class is not.
enum NodeTestReport {
    /// Where the sandbox mounts the workspace: locations are made relative to it, or to the
    /// folder itself where a backend runs the tests in place (`roots`).
    static let workspaceRoot = "/workspace/"

    /// Each top-level test's id and whether it passed. A passing test's block has no
    /// location: it is named in `file` when the run was of one file, by its name otherwise.
    static func outcome(of output: String, file: String? = nil, roots: [String] = []) -> CrossCheck.Outcome {
        var outcome = CrossCheck.Outcome()
        for result in results(in: output, roots: roots) {
            if result.passed {
                outcome.passed.insert(file.map { "\($0)::\(result.name)" } ?? result.name)
            } else {
                outcome.failed.insert(result.id(in: file))
            }
        }
        return outcome
    }

    /// The failing top-level tests' ids, in report order.
    static func failedIDs(in output: String, roots: [String] = []) -> [String] {
        var ids: [String] = []
        for result in results(in: output, roots: roots) where !result.passed {
            let id = result.id(in: nil)
            if !ids.contains(id) { ids.append(id) }
        }
        return ids
    }

    /// The report's `not ok` lines with the first line of each error, for a person or the model.
    static func failureLines(in output: String, limit: Int = 12) -> String {
        results(in: output, roots: []).filter { !$0.passed }.prefix(limit)
            .map { "not ok - " + $0.id(in: nil) + ($0.error.map { ": " + $0 } ?? "") }.joined(separator: "\n")
    }

    private struct Result {
        var name: String
        var passed: Bool
        /// The file of a failing test's location, relative to the workspace.
        var location: String?
        var error: String?

        /// The file of a test named by its path: one that did not load.
        var loadFailure: String?

        func id(in file: String?) -> String {
            if let loadFailure { return loadFailure }
            guard let owner = location ?? file else { return name }
            return owner == name ? owner : "\(owner)::\(name)"
        }
    }

    private static func results(in output: String, roots given: [String]) -> [Result] {
        let roots = [workspaceRoot] + given.map { $0.hasSuffix("/") ? $0 : $0 + "/" }
        let lines = output.components(separatedBy: "\n")
        var results: [Result] = []
        for (index, line) in lines.enumerated() {
            let passed: Bool
            let rest: Substring
            if line.hasPrefix("ok ") { passed = true; rest = line.dropFirst(3) }
            else if line.hasPrefix("not ok ") { passed = false; rest = line.dropFirst(7) }
            else { continue }
            guard let dash = rest.range(of: " - ") else { continue }
            var name = String(rest[dash.upperBound...])
            if let directive = name.range(of: " # ") { name = String(name[..<directive.lowerBound]) }
            name = name.replacingOccurrences(of: "\\#", with: "#")
            var result = Result(name: name, passed: passed)
            result.loadFailure = relative(name, to: roots)
            if !passed {
                // The YAML block: indented lines up to the next top-level line.
                for detail in lines[(index + 1)...].prefix(while: { $0.hasPrefix(" ") || $0.isEmpty }) {
                    let text = detail.trimmingCharacters(in: .whitespaces)
                    if text.hasPrefix("location: "), result.location == nil {
                        result.location = file(ofLocation: String(text.dropFirst("location: ".count)), roots: roots)
                    } else if text.hasPrefix("error: "), result.error == nil {
                        let value = text.dropFirst("error: ".count).trimmingCharacters(in: CharacterSet(charactersIn: "'\""))
                        if !value.isEmpty && value != "|-" { result.error = String(value.prefix(200)) }
                    }
                }
            }
            results.append(result)
        }
        return results
    }

    /// `'/workspace/tests/slug.test.js:5:1'` → `tests/slug.test.js`.
    private static func file(ofLocation text: String, roots: [String]) -> String? {
        var value = text.trimmingCharacters(in: CharacterSet(charactersIn: "'\""))
        for _ in 0..<2 {
            guard let colon = value.lastIndex(of: ":"), value[value.index(after: colon)...].allSatisfy(\.isNumber) else { break }
            value = String(value[..<colon])
        }
        return relative(value, to: roots)
    }

    private static func relative(_ path: String, to roots: [String]) -> String? {
        roots.first { path.hasPrefix($0) }.map { String(path.dropFirst($0.count)) }
    }
}
