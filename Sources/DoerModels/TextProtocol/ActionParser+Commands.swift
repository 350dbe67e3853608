extension ActionParser {
    static let shellLanguages: Set<String> = [
        "bash", "sh", "zsh", "ksh", "fish", "shell", "console", "terminal", "shell-session",
        "shellsession", "cmd", "command", "commands",
    ]
    /// Blocks that show rather than do: output, logs, plain text. Never actions, never problems.
    static let quietLanguages: Set<String> = [
        "text", "txt", "output", "plaintext", "plain", "log", "logs", "none", "stdout", "stderr",
        "result", "results", "example", "pytest", "traceback", "pycon", "python-repl", "pyrepl", "repl",
    ]

    /// Programs a model runs, for untagged blocks (and mislabelled ones such as a ```python
    /// block holding `python -m pytest`) whose every line starts with one.
    static let knownCommands: Set<String> = [
        "python", "python3", "python2", "py", "pytest", "pip", "pip3", "uv", "poetry", "pipenv", "tox",
        "ruff", "mypy", "black", "flake8", "pylint", "node", "npm", "npx", "yarn", "pnpm", "bun", "deno",
        "tsc", "jest", "vitest", "go", "cargo", "rustc", "make", "cmake", "ninja", "gcc", "g++", "clang",
        "clang++", "cc", "javac", "java", "mvn", "gradle", "kotlinc", "swift", "swiftc", "ruby",
        "bundle", "rake", "rspec", "php", "composer", "dotnet", "bash", "sh", "zsh", "ls", "cat",
        "echo", "mkdir", "cd", "rm", "cp", "mv", "touch", "chmod", "git", "export", "source", "mix",
        "elixir", "ghc", "runghc", "stack", "cabal", "lua", "perl", "rscript", "julia", "scala", "sbt",
        "zig", "nim", "ocaml", "dune", "sudo", "apt", "apt-get", "which", "env", "time", "head", "tail",
    ]

    /// Strips a `$ ` prompt; nil when the line has none.
    static func removingPrompt(_ line: String) -> String? {
        let text = trimmed(line)
        if text == "$" { return "" }
        guard text.hasPrefix("$ ") else { return nil }
        return String(text.dropFirst(2))
    }

    static func significantLines(_ body: [String]) -> [String] {
        body.map { removingPrompt($0) ?? trimmed($0) }.filter { !$0.isEmpty && !$0.hasPrefix("#") }
    }

    /// A script meant to be saved (`#!/bin/bash` first), not commands to run now.
    static func startsWithShebang(_ body: [String]) -> Bool {
        body.first(where: { !isBlank($0) }).map { trimmed($0).hasPrefix("#!") } ?? false
    }

    /// For shell-tagged blocks: does the body read as commands rather than their output?
    static func looksLikeShell(_ body: [String]) -> Bool {
        if body.contains(where: { removingPrompt($0) != nil }) { return true }
        guard let first = significantLines(body).first else { return false }
        if first.hasSuffix(":") { return false }
        let word = String(first.prefix(while: { !$0.isWhitespace }))
        guard let initial = word.first, initial.isLetter || initial == "." || initial == "/" || initial == "~" || initial == "_"
        else { return false }
        if word.count > 1 && word.allSatisfy({ $0.isUppercase || $0 == ":" }) { return false }
        if ["Traceback", "Error", "Hello", "Ran", "collected"].contains(word) { return false }
        return word.allSatisfy { $0.isLetter || $0.isNumber || "_./~+-=:".contains($0) }
    }

    /// Does every line start with a well-known program (`python app.py`, `npm test`, `./run.sh`)?
    static func isOnlyKnownCommands(_ body: [String]) -> Bool {
        let lines = significantLines(body)
        guard !lines.isEmpty, lines.count <= 20 else { return false }
        return lines.allSatisfy { line in
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard let word = words.first else { return false }
            if word.hasPrefix("./") && word.count > 2 { return true }
            guard knownCommands.contains(word.lowercased()) else { return false }
            // `ls = [1, 2]`, `print (x)`: code that happens to start with a program's name.
            if words.count > 1, let next = words[1].first, next == "=" || next == "(" || next == "+" { return false }
            return true
        }
    }

    /// The command of a run block: the lines after their `$ ` prompts (lines without one
    /// are output, unless they continue a line ending in `\`), or the whole body.
    static func commandScript(from body: [String]) -> String {
        var lines: [String]
        if body.contains(where: { removingPrompt($0) != nil }) {
            lines = []
            var continuing = false
            for line in body {
                if let command = removingPrompt(line) {
                    lines.append(command)
                    continuing = command.hasSuffix("\\")
                } else if continuing {
                    lines.append(line)
                    continuing = line.hasSuffix("\\")
                }
            }
        } else {
            lines = body
        }
        return trimBlankLines(lines).joined(separator: "\n")
    }
}
