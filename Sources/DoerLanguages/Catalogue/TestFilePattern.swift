import Foundation

/// Test-file naming conventions shared by several languages.
enum TestFilePattern {
    static func name(_ path: String) -> String { (path as NSString).lastPathComponent }
    static func stem(_ path: String) -> String { ((path as NSString).lastPathComponent as NSString).deletingPathExtension }
    static func ext(_ path: String) -> String { (path as NSString).pathExtension.lowercased() }
    static func folders(_ path: String) -> [String] { path.split(separator: "/").dropLast().map(String.init) }

    /// `test_x.EXT`, `x_test.EXT`, or any `.EXT` file in a `test`/`tests` folder.
    static func prefixSuffixOrFolder(_ path: String, extensions: Set<String>) -> Bool {
        guard extensions.contains(ext(path)) else { return false }
        let stem = stem(path)
        return stem.hasPrefix("test_") || stem.hasSuffix("_test")
            || folders(path).contains { $0 == "test" || $0 == "tests" }
    }
}
