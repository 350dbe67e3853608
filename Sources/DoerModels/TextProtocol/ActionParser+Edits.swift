import DoerCore

extension ActionParser {
    /// A line of a SEARCH/REPLACE section: `<<<<<<< SEARCH`, `=======` or `>>>>>>> REPLACE`,
    /// with 5 to 9 marker characters, spaces around, any case.
    enum EditMarker {
        case search, divider, replace

        init?(_ line: String) {
            let text = ActionParser.trimmed(line)
            guard let first = text.first, first == "<" || first == "=" || first == ">" else { return nil }
            let run = text.prefix(while: { $0 == first })
            guard (5...9).contains(run.count) else { return nil }
            let word = ActionParser.trimmed(text.dropFirst(run.count)).uppercased()
            switch first {
            case "<" where word == "SEARCH" || word == "ORIGINAL" || word == "SEARCH:":
                self = .search
            case "=" where word.isEmpty:
                self = .divider
            case ">" where word == "REPLACE" || word == "UPDATED" || word == "REPLACE:" || word.isEmpty:
                self = .replace
            default:
                return nil
            }
        }
    }

    /// Reads the SEARCH/REPLACE sections of an edit block into `.editFile` actions.
    func parseEdit(
        path: String, body: [String], firstBodyLine: Int, openingLine: Int, closed: Bool,
        into state: inout ParseState
    ) {
        enum Phase {
            case outside
            case search(start: Int, lines: [String])
            case replace(start: Int, search: [String], lines: [String])
        }
        let subject = "edit block for \(path)"
        var phase = Phase.outside
        var sawMarker = false

        func emit(start: Int, search: [String], replace: [String]) {
            let searchText = Self.sectionText(search)
            let replaceText = Self.sectionText(replace)
            if Self.isBlank(searchText) {
                state.problem(
                    start,
                    "\(subject) has an empty SEARCH section; copy the exact lines to change from the file, "
                        + "or write the whole file with ```file \(path)"
                )
            } else if searchText == replaceText {
                state.problem(start, "\(subject) has a section whose SEARCH and REPLACE are the same, so it changes nothing")
            } else {
                state.actions.append(.editFile(path: path, search: searchText, replace: replaceText))
            }
        }

        for (offset, line) in body.enumerated() {
            let number = firstBodyLine + offset
            let marker = EditMarker(line)
            if marker != nil { sawMarker = true }
            switch (marker, phase) {
            case (.search?, .outside):
                phase = .search(start: number, lines: [])
            case (.search?, .search(let start, _)):
                state.problem(start, "\(subject) has a SEARCH section without =======")
                phase = .search(start: number, lines: [])
            case (.search?, .replace(let start, _, _)):
                state.problem(start, "\(subject) has a SEARCH section without >>>>>>> REPLACE")
                phase = .search(start: number, lines: [])
            case (.divider?, .search(let start, let search)):
                phase = .replace(start: start, search: search, lines: [])
            case (.divider?, .replace(let start, let search, var lines)):
                // A literal ======= in the new text (a reStructuredText underline, say).
                lines.append(line)
                phase = .replace(start: start, search: search, lines: lines)
            case (.divider?, .outside):
                state.problem(number, "\(subject) has ======= outside a section; start each section with <<<<<<< SEARCH")
            case (.replace?, .replace(let start, let search, let lines)):
                emit(start: start, search: search, replace: lines)
                phase = .outside
            case (.replace?, .search(let start, _)):
                state.problem(start, "\(subject) has a SEARCH section without =======")
                phase = .outside
            case (.replace?, .outside):
                state.problem(number, "\(subject) has >>>>>>> REPLACE without a <<<<<<< SEARCH before it")
            case (nil, .search(let start, var lines)):
                lines.append(line)
                phase = .search(start: start, lines: lines)
            case (nil, .replace(let start, let search, var lines)):
                lines.append(line)
                phase = .replace(start: start, search: search, lines: lines)
            case (nil, .outside):
                break
            }
        }

        switch phase {
        case .outside:
            break
        case .search(let start, _):
            state.problem(start, "\(subject) has a SEARCH section without =======")
        case .replace(let start, let search, let lines):
            if closed {
                // The block was closed, so only the marker is missing, not the text.
                emit(start: start, search: search, replace: lines)
            } else {
                state.problem(
                    start, "\(subject) has a SEARCH section without >>>>>>> REPLACE (the reply seems cut off)"
                )
            }
        }
        if !sawMarker {
            state.problem(
                openingLine,
                "\(subject) has no <<<<<<< SEARCH / ======= / >>>>>>> REPLACE section; "
                    + "to replace the whole file use ```file \(path)"
            )
        }
    }

    /// A section's lines, ending in one newline when there are any, like file content.
    static func sectionText(_ lines: [String]) -> String {
        lines.isEmpty ? "" : lines.joined(separator: "\n") + "\n"
    }
}
