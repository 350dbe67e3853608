import DoerCore
import DoerModels
import DoerSandbox
import Foundation

/// The words the agent says to the model: short and concrete, for small models.
enum PromptBuilder {
    static func system(projectInstructions: String?) -> String {
        var text = ActionProtocol.systemPrompt + """


        You are Doer, a careful programmer. Make the change the user asks for, with tests.
        Write new and small files whole; change large files with edit blocks. The tests run automatically after every reply; you see the result.
        """
        if let projectInstructions, !projectInstructions.isEmpty {
            text += "\n\nProject instructions (AGENTS.md):\n" + projectInstructions
        }
        return text
    }

    static let planningSystem = """
        You are Doer, a careful programmer. Before writing any code you write a short plan.
        Reply with a numbered list of 2 to 6 steps, one line each, then one line
        `Files: name1, name2` naming the files to create or change. Do not write code.
        """

    /// For `IndependentTest`: a test of the request from a conversation that never sees a
    /// candidate's change, so it is a second reading of the request, not an echo of the code.
    static let independentTestSystem = """
        You write tests. A developer asked for a change to a code base; you see the request and the \
        code as it is now, before the change. Write one pytest file that checks what the request asks \
        for: its tests must fail on the code as it is now and pass once the request is done. Write one \
        test function for each thing the request states: each result it describes, each special case \
        and tie rule, each error it must raise, and anything it must leave unchanged (an argument, a \
        file). Take every expected value from what the request, the docstrings and the comments state, \
        or work it out step by step from them; assert nothing you are unsure of. Test only what the \
        request is about. Reply with the whole file in one code block and nothing else.
        """

    /// The same for a project tested with `node --test`.
    static let independentNodeTestSystem = """
        You write tests. A developer asked for a change to a JavaScript code base; you see the request \
        and the code as it is now, before the change. Write one test file for Node's built-in runner \
        (`node --test`), with `test` from 'node:test' and `assert` from 'node:assert/strict', loading \
        the code the way the project's tests do: its tests must fail on the code as it is now and pass \
        once the request is done. Write one test for each thing the request states: each result it \
        describes, each special case and tie rule, each error it must throw, and anything it must leave \
        unchanged. Take every expected value from what the request, the comments and the documentation \
        state, or work it out step by step from them; assert nothing you are unsure of. Test only what \
        the request is about. Reply with the whole file in one code block and nothing else.
        """

    /// The same for a Go project: a file of the package it tests, so it needs no import of it.
    static let independentGoTestSystem = """
        You write tests. A developer asked for a change to a Go code base; you see the request and the \
        code as it is now, before the change. Write one Go test file in the package of the code it tests, \
        using only the standard library's `testing` (and other standard packages it needs), with test \
        functions named `TestRequestCheck…(t *testing.T)`: its tests must fail on the code as it is now \
        and pass once the request is done. Write one test function for each thing the request states: \
        each result it describes, each special case and tie rule, each error it must return, and \
        anything it must leave unchanged. Take every expected value from what the request, the doc \
        comments and the comments state, or work it out step by step from them; assert nothing you are \
        unsure of. Import only what the file uses: Go refuses unused imports. Test only what the request \
        is about. Reply with the whole file in one code block and nothing else.
        """

    /// Whether a request's system prompt is one of the test writer's.
    static func isIndependentTestSystem(_ text: String?) -> Bool {
        [independentTestSystem, independentNodeTestSystem, independentGoTestSystem].contains(text)
    }

    /// - Parameter newCode: where the change put new code and its names (never the code: the
    ///   writer must not see a candidate's reading of the request).
    /// - Parameter language: the code fences' language (`python`, `javascript`, `go`).
    static func independentTestRequest(_ task: String, path: String, imports: String, files: String,
                                       newCode: [IndependentTest.NewCode] = [], problem: String?, language: String = "python") -> String {
        var text = "Request:\n\(task)\n\nThe test file will be \(path).\n"
        if !imports.isEmpty {
            text += (language == "go" ? "\nIt is in the package of the code it tests; start it like this:\n"
                : "\nThe project's tests import its code like this:\n") + "```\(language)\n\(imports)\n```\n"
        }
        if !files.isEmpty { text += "\nThe code as it is now:\n" + files + "\n" }
        if !newCode.isEmpty {
            let lines = newCode.map { code -> String in
                let names = code.names.isEmpty ? "" : " defining " + code.names.map { "`\($0)`" }.joined(separator: ", ")
                let module = code.module.map { " (import it as `\($0)`)" } ?? ""
                return "- " + (code.isNewFile ? "a new file \(code.path)\(names)\(module)" : "\(code.path), which now also has\(names.dropFirst(" defining".count))\(module)")
            }
            text += "\n" + (files.isEmpty ? "There is no code yet. " : "") + "The change adds code you do not see:\n"
                + lines.joined(separator: "\n") + "\nTest it as the request describes it.\n"
        }
        if let problem { text += "\nA test written before could not be used: \(problem). Write a better one.\n" }
        text += "\nReply with ```file \(path)."
        return text
    }

    static func planningRequest(_ task: String, files: [String], strategy: TestStrategy) -> String {
        var text = "Task:\n\(task)\n"
        let shown = files.filter { !$0.hasPrefix(".") && !$0.contains("/.") }.prefix(40)
        if !shown.isEmpty { text += "\nFiles in the workspace: " + shown.joined(separator: ", ") + "\n" }
        text += "\nTests: \(strategy.description).\nWrite the plan."
        return text
    }

    static func task(_ task: String, files: String, strategy: TestStrategy, plan: Plan? = nil) -> String {
        var text = "Task:\n\(task)\n"
        if let plan {
            text += "\nPlan:\n" + plan.steps.enumerated().map { "\($0.offset + 1). \($0.element)" }.joined(separator: "\n") + "\n"
        }
        if !files.isEmpty { text += "\nFiles in the workspace:\n\(files)" }
        switch (strategy.kind, strategy.generatedFiles.isEmpty) {
        case (.pytest, false) where files.isEmpty:
            text += "\nThe examples in the task are checked with pytest. Write the code in a .py file."
        case (.pytest, false):
            text += "\nThe examples in the task are checked with pytest, with the workspace's own tests. Change the code where it is."
        case (.pytest, true):
            text += "\nTests run with pytest. If there is no test_*.py file yet, write one with a few asserts."
        case (.nodeTest, _):
            text += "\nTests run with `node --test`. If there is no *.test.js file yet, write one with `test` from 'node:test' "
                + "and `assert` from 'node:assert/strict'."
        case (.project, _) where strategy.languages == ["go"]:
            text += "\nTests run with `go test` (Go 1.19, the standard library only; a new module needs a go.mod). If the code has "
                + "no test yet, write one: a file NAME_test.go beside the code, declaring the same package as the code "
                + "(`package NAME`, not `NAME_test`), with `func TestX(t *testing.T)` functions. Keep the existing test files; make them pass."
        case (.project, _):
            text += "\nTests: \(strategy.description). Keep the existing test files; make them pass."
        }
        return text
    }

    /// The feedback after a failed run. Hints come last, in place of the generic request:
    /// a small model follows the last thing it reads, and copies the files it was just shown.
    static func reflection(failure: String, files: String, hints: [String] = []) -> String {
        """
        The tests failed:
        ```
        \(failure)
        ```
        Current files:
        \(files)
        \(hints.isEmpty ? "Fix the code. Reply with the corrected files." : hints.joined(separator: "\n"))
        """
    }

    /// What stands for the model's previous reply in the next turn: which files it wrote,
    /// what it ran and what it looked up (the files themselves follow in the feedback). Said
    /// by Doer, in the user's turn: a small model shown its own turn as a sentence ("I wrote
    /// app.py.") answers the next one with such a sentence and no blocks.
    static func note(of actions: [Action], queries: [WorkspaceQuery] = [], reply: String) -> String {
        guard !actions.isEmpty || !queries.isEmpty else { return "Your last reply held no blocks." }
        let done = actions.map { action -> String in
            switch action {
            case .writeFile(let path, _): "wrote \(path)"
            case .editFile(let path, _, _): "edited \(path)"
            case .runCommand(let command): "ran `\(command.prefix(80))`"
            }
        }
        let looked = queries.map { query -> String in
            switch query {
            case .readRange(let path, let start, let end):
                "read \(path)" + (start.map { " from line \($0)" } ?? "") + (end.map { " to \($0)" } ?? "")
            case .search(let text, let path): "searched for \(text.prefix(60).debugDescription)" + (path.map { " in \($0)" } ?? "")
            case .listDefinitions(let path): "listed the definitions" + (path.map { " of \($0)" } ?? "")
            }
        }
        return "Your last reply " + (done + looked).joined(separator: ", ") + "."
    }

    /// Consecutive user messages as one: the note of the last reply and the feedback after it.
    static func joiningConsecutiveUserMessages(_ messages: [ChatMessage]) -> [ChatMessage] {
        var joined: [ChatMessage] = []
        for message in messages {
            if message.role == .user, let last = joined.last, last.role == .user {
                joined[joined.count - 1].content = last.content + "\n" + message.content
            } else {
                joined.append(message)
            }
        }
        return joined
    }

    /// The answers to a turn that only looked things up, and what to do with them.
    static func lookupResults(_ answers: String, failure: String? = nil) -> String {
        let failing = failure.map { "The tests still fail:\n```\n\($0)\n```\n" } ?? ""
        return answers + "\n" + failing
            + "Now make the change: reply with edit blocks for the lines to change (or ```file blocks for new or small files)."
    }

    /// The messages cut until they fit in `tokens`: the last guard of the context window,
    /// for text no budget foresaw (a huge request or AGENTS.md). The longest message loses
    /// its middle first; the system prompt goes last.
    static func fitted(_ messages: [ChatMessage], tokens budget: Int, tools: [ToolDefinition] = []) -> [ChatMessage] {
        var messages = messages
        for _ in 0..<(messages.count * 2) {
            let over = TokenEstimate.tokens(messages, tools: tools) - budget
            guard over > 0 else { break }
            let order = messages.indices.sorted { first, second in
                let firstSystem = messages[first].role == .system, secondSystem = messages[second].role == .system
                if firstSystem != secondSystem { return secondSystem }
                return messages[first].content.count > messages[second].content.count
            }
            guard let target = order.first(where: { !messages[$0].content.isEmpty }) else { break }
            let content = messages[target].content
            let keep = TokenEstimate.tokens(content) - over - 24
            guard keep > 24 else {
                messages[target].content = ""
                continue
            }
            let head = TokenEstimate.prefix(content, fitting: keep * 2 / 3)
            let tailBudget = keep - TokenEstimate.tokens(head)
            let tailLines = content.split(separator: "\n", omittingEmptySubsequences: false).reversed()
            var tail: [Substring] = []
            var used = 0
            for line in tailLines {
                let cost = TokenEstimate.tokens(String(line)) + 1
                if used + cost > tailBudget { break }
                tail.insert(line, at: 0)
                used += cost
            }
            messages[target].content = head + "... (cut to fit the model's context) ...\n" + tail.joined(separator: "\n")
        }
        return messages
    }

    /// Asked when the copy has no test to run yet. These tests are the model's own, and a
    /// small model's own expected values are often wrong; the results a request states for
    /// its examples are not, so those are what it is asked to assert. Only the test file is
    /// asked for: the code it just wrote stays as it is, and the reply stays short. Said
    /// after the files, since a small model follows the last thing it reads.
    static func askForTests(targetFile: String?, files: String) -> String {
        let request: String
        if let targetFile, targetFile.hasSuffix(".py"), !targetFile.contains("/") {
            let module = String(targetFile.dropLast(3))
            request = "There are no tests yet. Reply with only test_\(module).py: for each example the task gives, "
                + "a test function that calls the code from \(targetFile) (`from \(module) import ...`) with the example's input "
                + "and asserts the result the task states for it. If the task gives no examples, assert what it describes on small inputs."
        } else {
            request = "There are no tests yet. Reply with only a test_*.py file: for each example the task gives, "
                + "a test function that asserts the result the task states for it. If the task gives no examples, "
                + "assert what it describes on small inputs."
        }
        return "Current files:\n" + files + request
    }

    /// After a reply with nothing to act on: what was wrong with it, the last feedback again
    /// (the model must still see the failure and the code), and the block forms, on the file
    /// it was working on — an example name would be copied as a new file.
    static func noActions(problems: [String], workingFile: String? = nil, lastFeedback: String? = nil) -> String {
        let forms: String
        if let workingFile {
            forms = "Reply with blocks that change \(workingFile): ```edit \(workingFile) with <<<<<<< SEARCH / ======= / >>>>>>> REPLACE"
                + (workingFile.hasSuffix(".py") ? ", or ```file \(workingFile) holding only the whole functions you change." : ", or ```file \(workingFile) with the whole file.")
        } else {
            forms = "Reply with complete files in ```file NAME blocks."
        }
        // The parser's own reminder of the forms names an example file; the one below names the real one.
        let problems = workingFile == nil ? problems : problems.filter { !$0.contains("no file, edit or run block found") }
        let refused = problems.isEmpty ? "Your reply changed no file." : "I could not use your reply:\n" + problems.joined(separator: "\n")
        guard let lastFeedback else { return refused + "\n" + forms }
        return refused + "\n\n" + lastFeedback + "\n" + forms
    }
}
