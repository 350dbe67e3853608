import Foundation

/// What Doer reads of Go source without a Go parser: the lines `gofmt` gives every file
/// (`package x`, top-level `func` and `type` at the start of a line).
enum GoSource {
    /// The top-level test functions a Go file declares (`func TestX(t *testing.T)`).
    static func testNames(in text: String) -> [String] {
        matches(of: #"(?m)^func\s+(Test\w*)\s*\(\s*\w+\s+\*testing\.T\s*\)"#, in: text)
    }

    /// The package a Go file declares.
    static func packageName(in text: String) -> String? {
        matches(of: #"(?m)^package\s+(\w+)"#, in: text).first
    }

    /// The top-level functions, methods and types a Go file declares.
    static func declaredNames(in text: String) -> [String] {
        matches(of: #"(?m)^(?:func\s+(?:\([^)]*\)\s*)?|type\s+)([A-Za-z_]\w*)"#, in: text)
    }

    /// The package the code in `folder` declares (its first non-test Go file's), which a test
    /// written there must declare too.
    static func package(in folder: String, files: [String], read: (String) -> String?) -> String? {
        let sources = files.filter { path in
            path.hasSuffix(".go") && !path.hasSuffix("_test.go") && (path as NSString).deletingLastPathComponent == folder
        }.sorted()
        for path in sources {
            if let name = read(path).flatMap(packageName) { return name }
        }
        return nil
    }

    /// The names `new` declares that `old` (nil for a new file) does not.
    static func newNames(old: String?, new: String) -> [String] {
        let had = Set(old.map(declaredNames) ?? [])
        return declaredNames(in: new).filter { !had.contains($0) }
    }

    private static func matches(of pattern: String, in text: String) -> [String] {
        guard let expression = try? NSRegularExpression(pattern: pattern) else { return [] }
        let range = NSRange(text.startIndex..., in: text)
        var names: [String] = []
        for match in expression.matches(in: text, range: range) {
            guard let name = Range(match.range(at: 1), in: text).map({ String(text[$0]) }), !names.contains(name) else { continue }
            names.append(name)
        }
        return names
    }
}
