import Foundation

/// Completes the imports of Python tests the model wrote. A small model writes good
/// asserts and then forgets `from solution import f`; every test fails with a `NameError`,
/// and told so, it sends the same file back. The import is what such a test means, so Doer
/// adds it: for each function or class the test calls that a module beside it defines at
/// top level, and that the test neither defines nor imports.
///
/// A line-based reading of Python, not a parser: only top-level `def`/`class` lines of the
/// modules and the test's own top-level names and imports are read. Anything unclear (a
/// star import, a name two modules define) is left as the model wrote it.
enum TestImports {
    /// The test with the missing `from MODULE import NAME` lines added at its top, or nil
    /// when nothing is missing. `modules` maps module names (`solution`) to their source.
    static func completed(test: String, modules: [String: String]) -> String? {
        let bound = boundNames(in: test)
        guard !bound.starImports.contains(where: { modules[$0] != nil }) else { return nil }
        var definers: [String: [String]] = [:]
        for (module, source) in modules {
            for name in topLevelDefinitions(in: source) { definers[name, default: []].append(module) }
        }
        var missing: [String: [String]] = [:]
        for (name, owners) in definers where owners.count == 1 && !bound.names.contains(name) && calls(name, in: test) {
            missing[owners[0], default: []].append(name)
        }
        // `pytest.raises` without `import pytest` is a NameError no model turn needs to fix.
        let plainImports = standardModules.filter { module in
            !bound.names.contains(module) && modules[module] == nil
                && test.range(of: "(^|[^A-Za-z0-9_.])\(module)\\.[A-Za-z_]", options: .regularExpression) != nil
        }.sorted()
        guard !missing.isEmpty || !plainImports.isEmpty else { return nil }
        let imports = plainImports.map { "import \($0)" }
            + missing.keys.sorted().map { "from \($0) import \(missing[$0]!.sorted().joined(separator: ", "))" }
        var lines = test.components(separatedBy: "\n")
        // `from __future__` must stay the first statement; the new imports go right after it, or at the top.
        let insertAt = lines.lastIndex { $0.hasPrefix("from __future__ import") }.map { $0 + 1 } ?? 0
        let separated = insertAt < lines.count && !lines[insertAt].isEmpty && !lines[insertAt].hasPrefix("import ") && !lines[insertAt].hasPrefix("from ")
        lines.insert(contentsOf: imports + (separated ? ["", ""] : []), at: insertAt)
        return lines.joined(separator: "\n")
    }

    /// Test-framework and standard-library modules a test may use by their module name
    /// (`pytest.raises`, `math.isclose`) and forget to import.
    static let standardModules: Set<String> = [
        "pytest", "math", "re", "os", "sys", "json", "random", "string", "itertools", "collections", "functools",
        "datetime", "decimal", "fractions", "statistics", "unittest", "typing", "io", "tempfile", "pathlib",
    ]

    /// The modules the test at `testPath` can import by name: the non-test `.py` files in its folder
    /// (pytest puts a test's folder on the import path).
    static func modules(beside testPath: String, files: [String], read: (String) -> String?) -> [String: String] {
        let directory = (testPath as NSString).deletingLastPathComponent
        var modules: [String: String] = [:]
        for path in files where (path as NSString).deletingLastPathComponent == directory && path.hasSuffix(".py")
            && !TestStrategy.isPythonTest(path) && !path.hasSuffix("conftest.py") {
            let name = String((path as NSString).lastPathComponent.dropLast(3))
            guard name.range(of: "^[A-Za-z_][A-Za-z0-9_]*$", options: .regularExpression) != nil, let source = read(path) else { continue }
            modules[name] = source
        }
        return modules
    }

    /// The test with each `from MODULE import NAME` that cannot work corrected: MODULE is one
    /// of the workspace's (`modules`, by dotted name) and binds no NAME, while exactly one
    /// workspace module defines NAME at top level — `from isodate import max_days_in_month`
    /// becomes `from isodate.duration import max_days_in_month`. Nil when nothing changes.
    static func correctedImports(test: String, modules: [String: String]) -> String? {
        var definers: [String: [String]] = [:]
        for (module, source) in modules {
            for name in topLevelDefinitions(in: source) { definers[name, default: []].append(module) }
        }
        var changed = false
        var lines: [String] = []
        for line in test.components(separatedBy: "\n") {
            guard line.hasPrefix("from "), let range = line.range(of: " import "), !line.contains("("), !line.contains("#") else {
                lines.append(line)
                continue
            }
            let module = line.dropFirst(5)[..<range.lowerBound].trimmingCharacters(in: .whitespaces)
            guard let source = modules[module] else { lines.append(line); continue }
            let bound = boundNames(in: source)
            guard bound.starImports.isEmpty else { lines.append(line); continue }
            var kept: [String] = []
            var moved: [String: [String]] = [:]
            for item in line[range.upperBound...].split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !item.isEmpty {
                let name = String(item.split(separator: " ").first ?? "")
                if !bound.names.contains(name), let owners = definers[name], owners.count == 1, owners[0] != module {
                    moved[owners[0], default: []].append(item)
                } else {
                    kept.append(item)
                }
            }
            guard !moved.isEmpty else { lines.append(line); continue }
            changed = true
            if !kept.isEmpty { lines.append("from \(module) import \(kept.joined(separator: ", "))") }
            for owner in moved.keys.sorted() { lines.append("from \(owner) import \(moved[owner]!.joined(separator: ", "))") }
        }
        return changed ? lines.joined(separator: "\n") : nil
    }

    /// At most this many package modules are read for definitions.
    static let mostPackageModules = 2_000

    /// The modules of the workspace's packages by their dotted names (`webcolors._types`,
    /// `pkg` for `pkg/__init__.py`), from the workspace's top or `src/`, where each folder on
    /// the way is a package: a test in `tests/` imports a project's code this way.
    static func packageModules(files: [String], read: (String) -> String?) -> [(name: String, path: String, source: String)] {
        let present = Set(files)
        var modules: [(name: String, path: String, source: String)] = []
        for path in files where path.hasSuffix(".py") && !TestStrategy.isPythonTest(path) && !TestFiles.isTest(path) {
            guard modules.count < mostPackageModules else { break }
            let relative = path.hasPrefix("src/") ? String(path.dropFirst(4)) : path
            var parts = relative.split(separator: "/").map(String.init)
            guard parts.count >= 2 else { continue }
            let stem = String(parts.removeLast().dropLast(3))
            let root = path.hasPrefix("src/") ? "src/" : ""
            let packaged = parts.indices.allSatisfy { present.contains(root + parts[...$0].joined(separator: "/") + "/__init__.py") }
            let name = (stem == "__init__" ? parts : parts + [stem]).joined(separator: ".")
            guard packaged, name.split(separator: ".").allSatisfy({ $0.range(of: "^[A-Za-z_][A-Za-z0-9_]*$", options: .regularExpression) != nil }),
                  let source = read(path) else { continue }
            modules.append((name, path, source))
        }
        return modules
    }

    /// The modules a test at `testPath` can import: those beside it by file name, and the
    /// workspace's packages' other modules by dotted name (a module beside the test is not
    /// counted twice, or every name it defines would look ambiguous).
    static func importable(by testPath: String, files: [String], packages: [(name: String, path: String, source: String)],
                           read: (String) -> String?) -> [String: String] {
        let directory = (testPath as NSString).deletingLastPathComponent
        var modules = modules(beside: testPath, files: files, read: read)
        for module in packages where (module.path as NSString).deletingLastPathComponent != directory && modules[module.name] == nil {
            modules[module.name] = module.source
        }
        return modules
    }

    /// Top-level functions (read as `UnwrittenFunctions` reads them) and classes.
    static func topLevelDefinitions(in source: String) -> [String] {
        source.components(separatedBy: "\n").compactMap { line in
            if let function = UnwrittenFunctions.definedName(line) { return function }
            guard line.hasPrefix("class ") else { return nil }
            let name = line.dropFirst(6).prefix { $0.isLetter || $0.isNumber || $0 == "_" }
            return name.isEmpty ? nil : String(name)
        }
    }

    /// Names the test binds at top level (definitions, assignments and imports), and the
    /// modules it star-imports.
    static func boundNames(in test: String) -> (names: Set<String>, starImports: Set<String>) {
        var names = Set(topLevelDefinitions(in: test))
        var stars = Set<String>()
        for raw in test.components(separatedBy: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("from "), let range = line.range(of: " import ") {
                let module = line.dropFirst(5)[..<range.lowerBound].trimmingCharacters(in: .whitespaces)
                let list = line[range.upperBound...].trimmingCharacters(in: CharacterSet(charactersIn: " ()\\"))
                if list == "*" { stars.insert(module); continue }
                for item in list.split(separator: ",") { names.insert(boundName(String(item))) }
            } else if line.hasPrefix("import ") {
                for item in line.dropFirst(7).split(separator: ",") { names.insert(boundName(String(item)).components(separatedBy: ".")[0]) }
            } else if !raw.hasPrefix(" "), !raw.hasPrefix("\t"),
                      let match = raw.range(of: "^[A-Za-z_][A-Za-z0-9_]*\\s*=[^=]", options: .regularExpression) {
                names.insert(String(raw[match].prefix { $0.isLetter || $0.isNumber || $0 == "_" }))
            }
        }
        return (names, stars)
    }

    /// `a as b` binds `b`; `a` binds `a`.
    private static func boundName(_ item: String) -> String {
        let parts = item.split(separator: " ").map(String.init)
        return (parts.count == 3 && parts[1] == "as" ? parts[2] : parts.first ?? "").trimmingCharacters(in: CharacterSet(charactersIn: " ()"))
    }

    /// Whether the test calls `name` as a plain name (not as `obj.name(`).
    static func calls(_ name: String, in test: String) -> Bool {
        test.range(of: "(?<![A-Za-z0-9_.])\(NSRegularExpression.escapedPattern(for: name))\\s*\\(", options: .regularExpression) != nil
    }
}
