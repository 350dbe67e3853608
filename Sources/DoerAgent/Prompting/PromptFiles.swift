import DoerSandbox
import Foundation

/// The workspace as a turn shows it, within a budget of tokens: files the request or a
/// failure points at first, whole when they are small and otherwise as the selected
/// definitions with their class's header and the file's imports; then other small files,
/// smallest first; then a map of what is not shown, so the model can ask for it.
struct PromptFiles {
    let index: WorkspaceIndex
    let focus: RequestFocus
    /// Files Doer wrote itself (the tests made from the request's examples), left out.
    var hidden: Set<String> = []
    /// Files the candidate wrote: what it works on, shown before anything else.
    var touched: Set<String> = []

    /// What the map of unshown files may take, at most, of the budget.
    static let mapShare = 0.15

    struct Rendered {
        var text: String
        var tokens: Int
        /// Whether some file was left out or shown only in part.
        var partial: Bool
        /// Definitions shown, for the tests and the figures.
        var shownDefinitions: [String]
        /// Files shown in part, with the definitions shown of each (qualified names).
        var shownInPart: [String: [String]] = [:]
        /// Files shown whole.
        var shownWhole: Set<String> = []
    }

    func render(of copy: WorkspaceCopy, tokens budget: Int, failure: String? = nil) -> Rendered {
        let visible = copy.files().filter { !$0.hasPrefix(".") && !$0.contains("/.") && $0 != "AGENTS.md" && !hidden.contains($0) }
        var contents: [String: String] = [:]
        func content(_ path: String) -> String? {
            if let known = contents[path] { return known }
            let text = copy.read(path)
            contents[path] = text
            return text
        }
        let selections = focus.select(in: index, failure: failure)
        var selectedByFile: [String: [CodeDefinition]] = [:]
        var fileOrder: [String] = []
        for selection in selections {
            guard let definition = index.files[selection.key.path]?.definitions.first(where: {
                $0.qualifiedName == selection.key.qualifiedName && $0.startLine == selection.key.startLine
            }), visible.contains(selection.key.path) else { continue }
            selectedByFile[selection.key.path, default: []].append(definition)
            if !fileOrder.contains(selection.key.path) { fileOrder.append(selection.key.path) }
        }
        let named = focus.namedFiles(among: visible)
        let failing = (failure.map(RequestFocus.locations) ?? []).compactMap { index.resolve($0.path) }.filter(visible.contains)
        // What the candidate wrote, then what the failure passes through, then what the
        // request names, then the files holding the selected definitions.
        var focused: [String] = []
        for path in touched.sorted() + failing.reversed() + named + fileOrder where visible.contains(path) && !focused.contains(path) {
            focused.append(path)
        }

        var blocks: [String] = []
        var used = 0
        var shownWhole = Set<String>()
        var shownPart = Set<String>()
        var shownDefinitions: [String] = []
        var shownInPart: [String: [String]] = [:]
        let largeFile = max(300, budget / 2)
        let mapBudget = Int(Double(budget) * Self.mapShare)
        let body = budget - (visible.count > 1 ? mapBudget : 0)

        for path in focused {
            guard let text = content(path) else { continue }
            let whole = Self.wholeBlock(path, text)
            let cost = TokenEstimate.tokens(whole)
            if cost <= largeFile && used + cost <= body {
                blocks.append(whole)
                used += cost
                shownWhole.insert(path)
                shownDefinitions += (selectedByFile[path] ?? []).map(\.qualifiedName)
                continue
            }
            // Large: the selected definitions, with the imports and class headers they need.
            var definitions = selectedByFile[path] ?? []
            if definitions.isEmpty, let file = index.files[path], let locations = failure.map(RequestFocus.locations) {
                definitions = locations.filter { index.resolve($0.path) == path }.compactMap { file.enclosing(line: $0.line) }
            }
            guard !definitions.isEmpty, used < body else { continue }
            let excerpt = excerptBlock(path, text: text, definitions: definitions, budget: body - used)
            guard let excerpt else { continue }
            blocks.append(excerpt.text)
            used += TokenEstimate.tokens(excerpt.text)
            shownPart.insert(path)
            shownDefinitions += excerpt.shown
            shownInPart[path] = excerpt.shown
        }
        // Then small files, smallest first, as long as they fit. When the request or a failure
        // points at code, only code that defines something: a small model copies back what it
        // is shown, and a licence, a manifest or a packaging file shown whole comes back rewritten.
        // Tests and empty modules neither: they too come back rewritten.
        let onlyCode = !focused.isEmpty && !index.files.isEmpty
        func filler(_ path: String) -> Bool {
            guard onlyCode else { return true }
            guard let file = index.files[path] else { return false }
            return !file.definitions.isEmpty && !TestFiles.isTest(path)
        }
        var rest: [(path: String, block: String, cost: Int)] = []
        for path in visible where !shownWhole.contains(path) && !shownPart.contains(path) && filler(path) {
            guard let text = content(path) else { continue }
            let block = Self.wholeBlock(path, text)
            rest.append((path, block, TokenEstimate.tokens(block)))
        }
        rest.sort { $0.cost != $1.cost ? $0.cost < $1.cost : $0.path < $1.path }
        for file in rest where file.cost <= largeFile {
            guard used + file.cost <= body else { break }
            blocks.append(file.block)
            used += file.cost
            shownWhole.insert(file.path)
        }
        let unshown = visible.filter { !shownWhole.contains($0) }
        var text = blocks.joined()
        if !unshown.isEmpty {
            let map = Self.map(of: unshown, partly: shownPart, index: index, budget: max(0, budget - used))
            text += map
            used += TokenEstimate.tokens(map)
        }
        return Rendered(text: text, tokens: used, partial: !unshown.isEmpty, shownDefinitions: shownDefinitions,
                        shownInPart: shownInPart, shownWhole: shownWhole)
    }

    static func wholeBlock(_ path: String, _ content: String) -> String {
        "```file \(path)\n\(content)\(content.hasSuffix("\n") || content.isEmpty ? "" : "\n")```\n"
    }

    /// The lines of `definitions` (the largest-scored first, as many as fit), with the
    /// file's imports and the header of each method's class; elided lines are marked.
    func excerptBlock(_ path: String, text: String, definitions: [CodeDefinition], budget: Int) -> (text: String, shown: [String])? {
        let lines = text.components(separatedBy: "\n")
        let file = index.files[path]
        var ranges: [ClosedRange<Int>] = file?.imports ?? []
        var shown: [String] = []
        let header = "\(path) has \(lines.count) lines; only the parts below are shown. Change it with edit blocks, or with a ```file block holding only the whole functions you change (Doer puts each in place of its namesake); never write it whole.\n"
        func render(_ ranges: [ClosedRange<Int>]) -> String {
            let merged = Self.merged(ranges, lineCount: lines.count)
            var body = ""
            var next = 1
            for range in merged {
                if range.lowerBound > next { body += "... (lines \(next)-\(range.lowerBound - 1) not shown)\n" }
                body += lines[(range.lowerBound - 1)...(range.upperBound - 1)].joined(separator: "\n") + "\n"
                next = range.upperBound + 1
            }
            if next <= lines.count && !(next == lines.count && lines.last == "") {
                body += "... (lines \(next)-\(lines.count) not shown)\n"
            }
            return header + "```text\n" + body + "```\n"
        }
        for definition in definitions {
            var added = [definition.startLine...definition.endLine]
            // The tables and constants it reads: a wrong entry there is as likely the bug.
            added += file?.globals(usedIn: definition.startLine...definition.endLine) ?? []
            if let parentName = definition.parentName,
               let parent = file?.definitions.first(where: { $0.qualifiedName == parentName && $0.startLine <= definition.startLine }) {
                // The class line and what precedes its first member (docstring, attributes), briefly.
                let firstMember = file?.definitions.filter { $0.parentName == parentName && $0.startLine > parent.startLine }
                    .map(\.startLine).min() ?? definition.startLine
                added.append(parent.startLine...max(parent.startLine, min(firstMember - 1, parent.startLine + 12)))
            }
            let candidate = render(ranges + added)
            if TokenEstimate.tokens(candidate) <= budget {
                ranges += added
                shown.append(definition.qualifiedName)
            } else if shown.isEmpty {
                // Not even the first fits whole: as much of its start as fits.
                let room = budget - TokenEstimate.tokens(render(ranges)) - 20
                guard room > 50 else { return nil }
                let head = TokenEstimate.prefix(lines[(definition.startLine - 1)...(min(definition.endLine, lines.count) - 1)]
                    .joined(separator: "\n"), fitting: room)
                let kept = head.split(separator: "\n", omittingEmptySubsequences: false).count - 1
                guard kept > 0 else { return nil }
                ranges.append(definition.startLine...(definition.startLine + kept - 1))
                shown.append(definition.qualifiedName)
                break
            }
        }
        guard !shown.isEmpty else { return nil }
        // Then the file's functions they call, while they fit: the request names the function
        // that shows the bug (`ordinalize(113)`), the fault is often in one it calls (`ordinal`).
        let focused = definitions.filter { shown.contains($0.qualifiedName) }
        for callee in focused.flatMap({ file?.functionsCalled(in: $0) ?? [] }) where !shown.contains(callee.qualifiedName) {
            let range = callee.startLine...callee.endLine
            guard TokenEstimate.tokens(render(ranges + [range])) <= budget else { continue }
            ranges.append(range)
            shown.append(callee.qualifiedName)
        }
        return (render(ranges), shown)
    }

    static func merged(_ ranges: [ClosedRange<Int>], lineCount: Int) -> [ClosedRange<Int>] {
        let clamped = ranges.compactMap { range -> ClosedRange<Int>? in
            let low = max(1, range.lowerBound), high = min(lineCount, range.upperBound)
            return low <= high ? low...high : nil
        }.sorted { $0.lowerBound < $1.lowerBound }
        var merged: [ClosedRange<Int>] = []
        for range in clamped {
            if let last = merged.last, range.lowerBound <= last.upperBound + 2 {
                merged[merged.count - 1] = last.lowerBound...max(last.upperBound, range.upperBound)
            } else {
                merged.append(range)
            }
        }
        return merged
    }

    /// Files not shown in full with what they define, as much as fits, and how to see more.
    static func map(of paths: [String], partly: Set<String>, index: WorkspaceIndex, budget: Int) -> String {
        let intro = "\nNot shown in full (lines; definitions). To see more, reply with a ```read PATH START-END, ```search TEXT "
            + "or ```definitions PATH block; change large files with edit blocks.\n"
        var text = intro
        var omitted = 0
        for path in paths {
            let file = index.files[path]
            var line = "- \(path)" + (file.map { " (\($0.lineCount))" } ?? "") + (partly.contains(path) ? ", partly shown" : "")
            if let file, !file.definitions.isEmpty {
                let names = file.definitions.filter { $0.kind != .method || $0.qualifiedName.split(separator: ".").count == 2 }
                    .prefix(30).map { $0.kind == .class ? "class \($0.qualifiedName)" : $0.qualifiedName }
                line += ": " + names.joined(separator: ", ")
            }
            line += "\n"
            if TokenEstimate.tokens(text + line) > budget {
                omitted += 1
                continue
            }
            text += line
        }
        if omitted > 0 { text += "- and \(omitted) more file(s)\n" }
        return TokenEstimate.tokens(text) <= budget ? text : ""
    }
}
