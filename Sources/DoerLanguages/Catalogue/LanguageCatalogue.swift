public import DoerCore
import Foundation

/// The languages `doer run` knows, found by file extension.
public enum LanguageCatalogue {
    public static let all: [Language] = [
        Language(name: "python", extensions: ["py"], toolchainPackage: "python3", toolchainProgram: "/usr/bin/python3") {
            ["python3", $0] + $1
        },
        Language(name: "shell", extensions: ["sh", "bash"], toolchainPackage: "bash", toolchainProgram: "/bin/bash") {
            ["bash", $0] + $1
        },
        // Compiled into the private /tmp, so the workspace gets no build output.
        Language(name: "c", extensions: ["c"], toolchainPackage: "gcc", toolchainProgram: "/usr/bin/gcc") { file, arguments in
            ["sh", "-c", "gcc -O1 -o /tmp/doer-program \"$0\" -lm && exec /tmp/doer-program \"$@\"", file] + arguments
        },
    ]

    public static func language(forFile path: String) throws(DoerError) -> Language {
        let ext = (path as NSString).pathExtension.lowercased()
        if let language = all.first(where: { $0.extensions.contains(ext) }) { return language }
        throw .unknownLanguage(file: path, known: all.flatMap { $0.extensions.map { "." + $0 } })
    }
}
