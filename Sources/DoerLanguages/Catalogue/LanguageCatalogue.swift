public import DoerCore
import Foundation

/// Every language Doer can run and test, found by name, file extension or project files.
public enum LanguageCatalogue {
    public static let all: [Language] = [
        .python, .javascript, .typescript, .go, .rust, .swift, .c, .cpp, .java,
        .ruby, .php, .perl, .shell, .lua, .r, .csharp, .elixir, .haskell, .kotlin, .ocaml,
    ]

    public static func language(named name: String) throws(DoerError) -> Language {
        let key = name.lowercased()
        let aliases = ["c++": "cpp", "cxx": "cpp", "c#": "csharp", "cs": "csharp", "js": "javascript",
                       "ts": "typescript", "sh": "bash", "shell": "bash", "py": "python", "golang": "go", "ex": "elixir",
                       "hs": "haskell", "ghc": "haskell", "kt": "kotlin", "ml": "ocaml"]
        if let language = all.first(where: { $0.name == (aliases[key] ?? key) }) { return language }
        throw .invalidArgument("unknown language '\(name)'; known: \(all.map(\.name).joined(separator: ", "))")
    }

    public static func language(forFile path: String) throws(DoerError) -> Language {
        if let language = all.first(where: { $0.matches(file: path) }) { return language }
        throw .unknownLanguage(file: path, known: all.flatMap { $0.extensions.map { "." + $0 } })
    }

    /// The languages whose tests a project holds, in catalogue order.
    public static func languagesWithTests(in files: [String]) -> [Language] {
        all.filter { language in
            guard let test = language.test else { return false }
            return files.contains { language.matches(file: $0) && test.isTestFile($0) }
        }
    }
}
