import DoerCore
@testable import DoerModels
import Foundation
import Testing

private func parse(_ text: String) -> ActionParseResult { ActionParser().parse(text) }
private func actions(_ text: String) -> [Action] { parse(text).actions }
private let fence = "```"

@Suite("text action protocol: accepted forms")
struct ActionParserFormTests {
    @Test("```file PATH writes the whole file")
    func fileBlock() {
        let result = parse("Here it is.\n\n```file app.py\nprint(\"hi\")\n```\n\nDone.")
        #expect(result.actions == [.writeFile(path: "app.py", content: "print(\"hi\")\n")])
        #expect(result.problems.isEmpty)
        #expect(result.prose == "Here it is.\n\n\nDone.")
    }

    @Test(
        "the file name can be given in the info string in many ways",
        arguments: [
            "write app.py", "app.py", "python app.py", "python:app.py", "python file=app.py", "python title=\"app.py\"",
            "python filename='app.py'", "py title=\"app.py\" linenums=\"1\"", "file \"app.py\"", "file `app.py`",
            "file ./app.py", "file .//app.py", "python   app.py   ", "{.python} app.py", "file:app.py", "file=app.py",
        ]
    )
    func infoStrings(info: String) {
        #expect(actions("```\(info)\nx = 1\n```\n") == [.writeFile(path: "app.py", content: "x = 1\n")])
    }

    @Test(
        "a plain language fence takes its name from one of the two prose lines above it",
        arguments: [
            "**solution.py**", "`solution.py`:", "File: solution.py", "# solution.py", "### File: `solution.py`",
            "solution.py", "**`solution.py`:**", "1. **Create the `solution.py` file:**", "Here is `solution.py`:",
            "Save this as solution.py:", "- Create a new file named `solution.py`.", "**File:** solution.py",
            "Filename: \"solution.py\"", "The fixed code for `solution.py`, with `n` checked first:",
            "### Step 1: Create solution.py", "## `solution.py` (fixed)", "**Step 2 - solution.py**",
        ]
    )
    func precedingLine(line: String) {
        let text = "Some intro.\n\(line)\n\n```python\ndef f():\n    return 1\n```\n"
        #expect(actions(text) == [.writeFile(path: "solution.py", content: "def f():\n    return 1\n")])
    }

    @Test("the name line may be two non-empty lines above, not three")
    func precedingLineDistance() {
        let two = "**a.py**\n\nAdd the following code:\n\n```python\nx = 1\n```"
        #expect(actions(two) == [.writeFile(path: "a.py", content: "x = 1\n")])
        let three = "**a.py**\nFirst line.\nSecond line.\n```python\nx = 1\n```"
        #expect(actions(three).isEmpty)
        #expect(parse(three).problems.map(\.line) == [4])
    }

    @Test("a name line only names the block right after it")
    func precedingLineConsumed() {
        let text = "**a.py**\n```python\nx = 1\n```\n```python\ny = 2\n```"
        #expect(actions(text) == [.writeFile(path: "a.py", content: "x = 1\n")])
        #expect(parse(text).problems.map(\.description) == [
            "line 5: code block without a file name; name the file in the fence, like ```file app.py"
        ])
    }

    @Test("sentences that mention several files or do not introduce the block name nothing")
    func ambiguousSentences() {
        #expect(actions("I'll write `a.py` and `b.py`:\n```python\nx = 1\n```").isEmpty)
        #expect(actions("This uses `a.py` internally.\n```python\nx = 1\n```").isEmpty)
        #expect(actions("Python 3.11 is required:\n```python\nx = 1\n```").isEmpty)
        // Output shown after a sentence about a file is not that file.
        #expect(actions("Running `app.py` prints:\n```\nhello\n```").isEmpty)
        #expect(actions("The output of `app.py`:\n```\nhello\n```").isEmpty)
        #expect(actions("## Result of app.py\n```\nhello\n```").isEmpty)
        #expect(actions("Here is `app.py`:\n```text\nhello\n```").isEmpty)
        #expect(actions("**notes.txt**\n```text\nhello\n```") == [.writeFile(path: "notes.txt", content: "hello\n")])
    }

    @Test(
        "a first-line comment names the file and is removed",
        arguments: [
            ("# file: solution.py", "solution.py"), ("// file: x.js", "x.js"), ("# solution.py", "solution.py"),
            ("<!-- file: index.html -->", "index.html"), ("/* style.css */", "style.css"), ("-- file: q.sql", "q.sql"),
            ("file solution.py", "solution.py"), ("File: src/x.py", "src/x.py"), ("# Filename: `x.py`", "x.py"),
        ]
    )
    func firstLineComment(comment: String, path: String) {
        let text = "```\n\(comment)\nbody\n```"
        #expect(actions(text) == [.writeFile(path: path, content: "body\n")])
    }

    @Test("a first-line comment does not replace a name given in the fence, and stays in the content")
    func firstLineCommentKeptWhenNamed() {
        #expect(actions("```file a.py\n# b.py\nx = 1\n```") == [.writeFile(path: "a.py", content: "# b.py\nx = 1\n")])
    }

    @Test("comments that are code are not names")
    func notNameComments() {
        #expect(actions("```python\n#!/usr/bin/env python3\nprint(1)\n```").isEmpty)
        #expect(actions("```c\n#include <stdio.h>\nint main(void) { return 0; }\n```").isEmpty)
        #expect(actions("```python\n# compute the total\nprint(1)\n```").isEmpty)
    }

    @Test("the blank line under a removed name comment goes with it")
    func blankAfterNameComment() {
        #expect(actions("```python\n# app.py\n\nx = 1\n```") == [.writeFile(path: "app.py", content: "x = 1\n")])
    }

    @Test("a block opened twice (```go, file main.go, ```go) is one file")
    func doubleOpening() {
        let text = "```go\nfile main.go\n```go\npackage main\n\nfunc main() {}\n```\n"
        #expect(actions(text) == [.writeFile(path: "main.go", content: "package main\n\nfunc main() {}\n")])
    }

    @Test("an empty file block writes an empty file")
    func emptyFile() {
        #expect(actions("```file pkg/__init__.py\n```") == [.writeFile(path: "pkg/__init__.py", content: "")])
        #expect(actions("```file pkg/__init__.py\n\n\n```") == [.writeFile(path: "pkg/__init__.py", content: "")])
    }

    @Test("file content is exact, ending in exactly one newline")
    func contentExact() {
        let text = "```file a.py\n\n\tindented\t\n  spaced  \n\n\n```"
        #expect(actions(text) == [.writeFile(path: "a.py", content: "\n\tindented\t\n  spaced  \n")])
        #expect(actions("```file a.txt\nno newline at the end\n```") == [
            .writeFile(path: "a.txt", content: "no newline at the end\n")
        ])
    }

    @Test("a note in brackets after the path is not part of its name; a name with brackets in it stays whole")
    func notesAfterPath() {
        #expect(actions("```file isodate/__init__.py (103)\nx\n```") == [.writeFile(path: "isodate/__init__.py", content: "x\n")])
        #expect(actions("```file app.py (56 lines)\nx\n```") == [.writeFile(path: "app.py", content: "x\n")])
        #expect(actions("```edit app.py (changed)\n<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE\n```") == [.editFile(path: "app.py", search: "a\n", replace: "b\n")])
        #expect(actions("```file my file (1).txt\nx\n```") == [.writeFile(path: "my file (1).txt", content: "x\n")])
    }

    @Test("paths with spaces, nested directories and dotfiles")
    func unusualPaths() {
        #expect(actions("```file \"my dir/my file.txt\"\nx\n```") == [.writeFile(path: "my dir/my file.txt", content: "x\n")])
        #expect(actions("```file src\\\\win\\\\app.py\nx\n```") == [.writeFile(path: "src/win/app.py", content: "x\n")])
        #expect(actions("```.gitignore\n*.pyc\n```") == [.writeFile(path: ".gitignore", content: "*.pyc\n")])
        #expect(actions("**Makefile**\n```make\nall:\n\techo hi\n```") == [
            .writeFile(path: "Makefile", content: "all:\n\techo hi\n")
        ])
    }
}

@Suite("text action protocol: edits")
struct ActionParserEditTests {
    @Test("one section")
    func oneSection() {
        let text = """
            ```edit app.py
            <<<<<<< SEARCH
                print("hello")
            =======
                print("hi")
            >>>>>>> REPLACE
            ```
            """
        #expect(parse(text).actions == [.editFile(path: "app.py", search: "    print(\"hello\")\n", replace: "    print(\"hi\")\n")])
        #expect(parse(text).problems.isEmpty)
    }

    @Test("several sections become several edits, in order")
    func severalSections() {
        let text = """
            ```edit config.py
            <<<<<<< SEARCH
            DEBUG = True
            =======
            DEBUG = False
            >>>>>>> REPLACE

            <<<<<<< SEARCH
            PORT = 8000
            HOST = "a"
            =======
            PORT = 9000
            >>>>>>> REPLACE
            <<<<<<< SEARCH
            import os
            =======
            >>>>>>> REPLACE
            ```
            """
        #expect(actions(text) == [
            .editFile(path: "config.py", search: "DEBUG = True\n", replace: "DEBUG = False\n"),
            .editFile(path: "config.py", search: "PORT = 8000\nHOST = \"a\"\n", replace: "PORT = 9000\n"),
            .editFile(path: "config.py", search: "import os\n", replace: ""),
        ])
    }

    @Test("markers tolerate other lengths, case and spaces; ======= inside REPLACE is text")
    func lenientMarkers() {
        let text = "```edit doc.rst\n  <<<<<<<<< search  \nTitle\n ======= \nTitle\n=======\n>>>>>>>  Replace\n```"
        #expect(actions(text) == [.editFile(path: "doc.rst", search: "Title\n", replace: "Title\n=======\n")])
    }

    @Test("the aider form: a path line, a language fence, sections")
    func aiderForm() {
        let text = "app.py\n```python\n<<<<<<< SEARCH\nx = 1\n=======\nx = 2\n>>>>>>> REPLACE\n```"
        #expect(actions(text) == [.editFile(path: "app.py", search: "x = 1\n", replace: "x = 2\n")])
    }

    @Test("a file block holding sections is an edit")
    func fileBlockWithSections() {
        let text = "```file app.py\n<<<<<<< SEARCH\nx = 1\n=======\nx = 2\n>>>>>>> REPLACE\n```"
        #expect(actions(text) == [.editFile(path: "app.py", search: "x = 1\n", replace: "x = 2\n")])
    }

    @Test("a closed block whose last section lacks >>>>>>> REPLACE is accepted")
    func missingFinalReplaceMarker() {
        let text = "```edit app.py\n<<<<<<< SEARCH\nx = 1\n=======\nx = 2\n```"
        #expect(actions(text) == [.editFile(path: "app.py", search: "x = 1\n", replace: "x = 2\n")])
        #expect(parse(text).problems.isEmpty)
    }

    @Test(
        "malformed edit blocks give problems with line numbers",
        arguments: [
            (
                "Intro\n\n```edit app.py\n<<<<<<< SEARCH\nx = 1\n>>>>>>> REPLACE\n```",
                ["line 4: edit block for app.py has a SEARCH section without ======="]
            ),
            (
                "```edit app.py\n<<<<<<< SEARCH\nx = 1\n```",
                ["line 2: edit block for app.py has a SEARCH section without ======="]
            ),
            (
                "```edit app.py\n<<<<<<< SEARCH\nx = 1\n=======\nx = 2",
                ["line 2: edit block for app.py has a SEARCH section without >>>>>>> REPLACE (the reply seems cut off)"]
            ),
            (
                "```edit app.py\n<<<<<<< SEARCH\na\n=======\nb\n<<<<<<< SEARCH\nc\n=======\nd\n>>>>>>> REPLACE\n```",
                ["line 2: edit block for app.py has a SEARCH section without >>>>>>> REPLACE"]
            ),
            (
                "```edit app.py\nx = 1\n=======\nx = 2\n>>>>>>> REPLACE\n```",
                [
                    "line 3: edit block for app.py has ======= outside a section; start each section with <<<<<<< SEARCH",
                    "line 5: edit block for app.py has >>>>>>> REPLACE without a <<<<<<< SEARCH before it",
                ]
            ),
            (
                "```edit app.py\ndef f():\n    return 2\n```",
                [
                    "line 1: edit block for app.py has no <<<<<<< SEARCH / ======= / >>>>>>> REPLACE section; "
                        + "to replace the whole file use ```file app.py"
                ]
            ),
            (
                "```edit app.py\n<<<<<<< SEARCH\n=======\nx = 1\n>>>>>>> REPLACE\n```",
                [
                    "line 2: edit block for app.py has an empty SEARCH section; copy the exact lines to change "
                        + "from the file, or write the whole file with ```file app.py"
                ]
            ),
            (
                "```edit app.py\n<<<<<<< SEARCH\nx = 1\n=======\nx = 1\n>>>>>>> REPLACE\n```",
                ["line 2: edit block for app.py has a section whose SEARCH and REPLACE are the same, so it changes nothing"]
            ),
            (
                "```edit\n<<<<<<< SEARCH\nx = 1\n=======\nx = 2\n>>>>>>> REPLACE\n```",
                ["line 1: edit block without a file name; name the file in the fence, like ```edit app.py"]
            ),
        ]
    )
    func malformed(text: String, problems: [String]) {
        let result = parse(text)
        #expect(result.problems.map(\.description) == problems)
    }

    @Test("good sections survive a bad one in the same block")
    func partialSuccess() {
        let text = "```edit a.py\n<<<<<<< SEARCH\nx\n>>>>>>> REPLACE\n<<<<<<< SEARCH\ny\n=======\nz\n>>>>>>> REPLACE\n```"
        let result = parse(text)
        #expect(result.actions == [.editFile(path: "a.py", search: "y\n", replace: "z\n")])
        #expect(result.problems.map(\.line) == [2])
    }
}

@Suite("text action protocol: commands")
struct ActionParserCommandTests {
    @Test("```run runs its body")
    func runBlock() {
        #expect(actions("```run\npython -m pytest -q\n```") == [.runCommand("python -m pytest -q")])
    }

    @Test("a multi-line body is one script")
    func script() {
        #expect(actions("```run\n\npip install -r requirements.txt\n\npytest -q\n\n```") == [
            .runCommand("pip install -r requirements.txt\n\npytest -q")
        ])
    }

    @Test("shell tags whose body reads as commands", arguments: ["bash", "sh", "shell", "console", "terminal", "zsh"])
    func shellTags(tag: String) {
        #expect(actions("```\(tag)\nnode sum.js 1 2 3\n```") == [.runCommand("node sum.js 1 2 3")])
    }

    @Test("$ prompts are stripped and lines without one are output")
    func prompts() {
        let text = "```console\n$ python app.py\nhello\n$ ls \\\n  -la\n$ echo done\ndone\n```"
        #expect(actions(text) == [.runCommand("python app.py\nls \\\n  -la\necho done")])
        #expect(actions("```bash\n$ pytest\n```") == [.runCommand("pytest")])
    }

    @Test("shell blocks that look like output are ignored quietly")
    func outputBlocks() {
        for body in ["===== 3 passed in 0.01s =====", "Traceback (most recent call last):", "FAILED test_x.py", "1\n2\nFizz"] {
            let result = parse("Output:\n```bash\n\(body)\n```\n```run\npytest\n```")
            #expect(result.actions == [.runCommand("pytest")])
            #expect(result.problems.isEmpty)
        }
    }

    @Test("untagged blocks and mislabelled ones run when every line is a well-known command")
    func knownCommands() {
        #expect(actions("```\npython fizzbuzz.py\n```") == [.runCommand("python fizzbuzz.py")])
        #expect(actions("```python\npython -m pytest\n```") == [.runCommand("python -m pytest")])
        #expect(actions("```\n./build.sh --release\nnpm test\n```") == [.runCommand("./build.sh --release\nnpm test")])
        #expect(actions("**fizzbuzz.py**\n```python\npython fizzbuzz.py\n```") == [.runCommand("python fizzbuzz.py")])
        // Code that starts with a program's name is still code.
        #expect(actions("```python\nls = [1, 2]\n```").isEmpty)
    }

    @Test("a shell block named with a shell extension is a file; other names do not turn commands into files")
    func shellFiles() {
        #expect(actions("```bash run.sh\necho hi\n```") == [.writeFile(path: "run.sh", content: "echo hi\n")])
        #expect(actions("**build.sh**\n```bash\nmake all\n```") == [.writeFile(path: "build.sh", content: "make all\n")])
        #expect(actions("Run `test_app.py`:\n```bash\npython -m pytest test_app.py\n```") == [
            .runCommand("python -m pytest test_app.py")
        ])
    }

    @Test("an unnamed script with a shebang is a problem, not a command")
    func shebang() {
        let result = parse("```bash\n#!/bin/bash\necho hi\n```")
        #expect(result.actions.isEmpty)
        #expect(result.problems.map(\.description) == [
            "line 1: script without a file name; name it in the fence, like ```file run.sh, or put commands to run now in a ```run block"
        ])
    }

    @Test("run COMMAND on the fence line, and an empty run block")
    func inlineAndEmpty() {
        #expect(actions("```run pytest -q\n```") == [.runCommand("pytest -q")])
        #expect(parse("```run\n\n```").problems.map(\.description) == [
            "line 1: run block is empty; put the command on the line after ```run"
        ])
    }
}

@Suite("text action protocol: fences, line endings, prose")
struct ActionParserFenceTests {
    @Test("CRLF and lone CR line endings")
    func lineEndings() {
        let lf = "Intro\n```file a.py\nx = 1\ny = 2\n```\n```run\npytest\n```\nBye\n"
        let expected: [Action] = [.writeFile(path: "a.py", content: "x = 1\ny = 2\n"), .runCommand("pytest")]
        for text in [lf, lf.replacingOccurrences(of: "\n", with: "\r\n"), lf.replacingOccurrences(of: "\n", with: "\r")] {
            let result = parse(text)
            #expect(result.actions == expected)
            #expect(result.prose == "Intro\nBye")
        }
        let problem = parse("a\r\nb\r\n```python\r\nx\r\n```").problems
        #expect(problem.map(\.line) == [3])
    }

    @Test("an unclosed final fence runs to the end of the text")
    func unclosed() {
        #expect(actions("```file a.py\nx = 1\ny = 2\n") == [.writeFile(path: "a.py", content: "x = 1\ny = 2\n")])
        #expect(actions("```file a.py\nx = 1\ny = 2") == [.writeFile(path: "a.py", content: "x = 1\ny = 2\n")])
        #expect(actions("```run\npytest") == [.runCommand("pytest")])
    }

    @Test("a forgotten closing fence is closed by the next action fence")
    func implicitClose() {
        let text = "```file a.py\nx = 1\n```file b.py\ny = 2\n```\n"
        #expect(actions(text) == [.writeFile(path: "a.py", content: "x = 1\n"), .writeFile(path: "b.py", content: "y = 2\n")])
    }

    @Test("longer fences hold shorter ones; the closing fence must match char and length")
    func nestedFences() {
        let text = "````file README.md\n# Demo\n```bash\npip install demo\n```\n````\n"
        #expect(actions(text) == [.writeFile(path: "README.md", content: "# Demo\n```bash\npip install demo\n```\n")])
        let tildes = "~~~file notes.md\n```\ncode\n```\n~~~\n"
        #expect(actions(tildes) == [.writeFile(path: "notes.md", content: "```\ncode\n```\n")])
        let mixed = "```file a.txt\n~~~\n``\n`````\n"
        #expect(actions(mixed) == [.writeFile(path: "a.txt", content: "~~~\n``\n")])
    }

    @Test("fences nest inside Markdown files even at the same length")
    func markdownNesting() {
        let text = "```file README.md\n# Demo\n\n```bash\npip install demo\n```\n\nEnd.\n```\n```run\nls\n```"
        #expect(actions(text) == [
            .writeFile(path: "README.md", content: "# Demo\n\n```bash\npip install demo\n```\n\nEnd.\n"),
            .runCommand("ls"),
        ])
        let named = "**README.md**\n```markdown\n# Demo\n```python\nx = 1\n```\n```"
        #expect(actions(named) == [.writeFile(path: "README.md", content: "# Demo\n```python\nx = 1\n```\n")])
    }

    @Test("a ```markdown block wrapped around the whole reply is unwrapped")
    func markdownWrapper() {
        let text = "```markdown\nPlan:\n```file a.py\nx = 1\n```\n```run\npython a.py\n```\n```"
        let result = parse(text)
        #expect(result.actions == [.writeFile(path: "a.py", content: "x = 1\n"), .runCommand("python a.py")])
        #expect(result.prose == "Plan:")
        let lines = parse("```markdown\n```python\nx\n```\n```").problems.map(\.line)
        #expect(lines == [1])
    }

    @Test("indented fences (list items) lose their indentation from the content")
    func indented() {
        let text = "1. **Create `sum.js`:**\n\n   ```javascript\n   const a = 1;\n     nested();\n   ```\n"
        #expect(actions(text) == [.writeFile(path: "sum.js", content: "const a = 1;\n  nested();\n")])
        #expect(actions("  ```file a.py\n  x\n  ```") == [.writeFile(path: "a.py", content: "x\n")])
    }

    @Test("trailing white space in the info string and on the closing fence")
    func trailingWhitespace() {
        #expect(actions("```file a.py \t \nx\n```   \n") == [.writeFile(path: "a.py", content: "x\n")])
    }

    @Test("inline triple backticks are not fences")
    func inlineCode() {
        let result = parse("```python print(1)``` is inline.\n```file a.py\nx\n```")
        #expect(result.actions == [.writeFile(path: "a.py", content: "x\n")])
        #expect(result.prose == "```python print(1)``` is inline.")
    }

    @Test("prose between blocks is kept, blocks are not")
    func prose() {
        let text = "First I write the file.\n\n```file a.py\nx\n```\n\nThen I run it:\n```run\npython a.py\n```\nThat's all."
        #expect(parse(text).prose == "First I write the file.\n\n\nThen I run it:\nThat's all.")
    }

    @Test("quiet blocks are neither actions nor problems; unnamed code is a problem")
    func quietAndUnnamed() {
        let quiet = parse("Expected:\n```text\n1\n2\nFizz\n```\n```file a.py\nx\n```")
        #expect(quiet.actions.count == 1)
        #expect(quiet.problems.isEmpty)
        let unnamed = parse("Intro\n\n```python\nprint(1)\n```")
        #expect(unnamed.actions.isEmpty)
        #expect(unnamed.problems.map(\.description) == [
            "line 3: code block without a file name; name the file in the fence, like ```file app.py"
        ])
        #expect(parse("```file\nx\n```").problems.map(\.description) == [
            "line 1: file block without a file name; put the path after the word file, like ```file app.py"
        ])
    }

    @Test("unified diffs are refused with a pointer to edit blocks")
    func diffs() {
        let result = parse("```diff app.py\n-x = 1\n+x = 2\n```")
        #expect(result.actions.isEmpty)
        #expect(result.problems.first?.message.hasPrefix("diff blocks are not applied; change a file with ```edit app.py") == true)
    }

    @Test("empty and blank input give nothing; prose alone gives one problem")
    func emptyInput() {
        #expect(parse("") == ActionParseResult())
        #expect(parse(" \n\r\n\t") == ActionParseResult())
        let prose = parse("I think the code is fine.")
        #expect(prose.actions.isEmpty)
        #expect(prose.prose == "I think the code is fine.")
        #expect(prose.problems.count == 1)
        #expect(prose.problems.first?.description.hasPrefix("line 1: no file, edit or run block found") == true)
    }
}

@Suite("text action protocol: refused paths")
struct ActionParserPathTests {
    @Test(
        "absolute paths and paths with .. are refused with a problem, never an action",
        arguments: [
            ("/etc/passwd", "refused path /etc/passwd: it is absolute; paths are relative to the workspace, like src/app.py"),
            ("~/.bashrc", "refused path ~/.bashrc: it is absolute; paths are relative to the workspace, like src/app.py"),
            ("C:\\x.py", "refused path C:\\x.py: it is absolute; paths are relative to the workspace, like src/app.py"),
            ("../x.py", "refused path ../x.py: it contains .., and paths must stay inside the workspace"),
            ("src/../../x.py", "refused path src/../../x.py: it contains .., and paths must stay inside the workspace"),
            ("\"..\\x.py\"", "refused path ..\\x.py: it contains .., and paths must stay inside the workspace"),
            ("src/", "refused path src/: it names a directory; name a file, like src/app.py"),
            ("./", "empty file name; name the file in the fence, like ```file app.py"),
        ]
    )
    func refused(path: String, message: String) {
        for text in ["Intro\n```file \(path)\nx\n```", "Intro\n```edit \(path)\n<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE\n```"] {
            let result = parse(text)
            #expect(result.actions.isEmpty)
            #expect(result.problems.map(\.description) == ["line 2: \(message)"])
        }
    }

    @Test("a refused path named in prose or a comment is refused too")
    func refusedElsewhere() {
        #expect(parse("**/etc/hosts**\n```text\nx\n```").actions.isEmpty)
        #expect(parse("```python\n# file: ../up.py\nx = 1\n```").actions.isEmpty)
        #expect(parse("```python\n# file: ../up.py\nx = 1\n```").problems.count == 1)
    }

    @Test("normalisation", arguments: [("./a.py", "a.py"), ("a//b/./c.py", "a/b/c.py"), ("`src/a.py`", "src/a.py"), ("'a.py'", "a.py")])
    func normalisation(raw: String, path: String) {
        #expect(ActionPath.normalize(raw) == .success(path))
    }
}

@Suite("native tool calls")
struct ActionParserToolCallTests {
    let parser = ActionParser()

    @Test("the three tools map to the same actions as the text blocks")
    func sameAsText() throws {
        let write = try parser.actions(fromToolCall: "write_file", arguments: #"{"path": "./app.py", "content": "print(1)"}"#)
        #expect(write == actions("```file app.py\nprint(1)\n```").first)
        let edit = try parser.actions(
            fromToolCall: "edit_file", arguments: #"{"path": "app.py", "search": "x = 1\n", "replace": "x = 2\n"}"#
        )
        #expect(edit == actions("```edit app.py\n<<<<<<< SEARCH\nx = 1\n=======\nx = 2\n>>>>>>> REPLACE\n```").first)
        let run = try parser.actions(fromToolCall: "run_command", arguments: #"{"command": "python -m pytest -q"}"#)
        #expect(run == actions("```run\npython -m pytest -q\n```").first)
    }

    @Test("content ends with one newline; edit text is kept exactly")
    func exactness() throws {
        #expect(
            try parser.actions(fromToolCall: "write_file", arguments: #"{"path": "a", "content": "x\n\n\n"}"#)
                == .writeFile(path: "a", content: "x\n")
        )
        #expect(
            try parser.actions(fromToolCall: "write_file", arguments: #"{"path": "a", "content": ""}"#)
                == .writeFile(path: "a", content: "")
        )
        #expect(
            try parser.actions(fromToolCall: "edit_file", arguments: #"{"path": "a", "search": "hello", "replace": ""}"#)
                == .editFile(path: "a", search: "hello", replace: "")
        )
    }

    @Test("tolerated variations: double-encoded JSON, name case, argument aliases, command arrays")
    func tolerated() throws {
        #expect(
            try parser.actions(fromToolCall: "run_command", arguments: #""{\"command\": \"ls\"}""#) == .runCommand("ls")
        )
        #expect(try parser.actions(fromToolCall: "Run-Command", arguments: #"{"cmd": "ls"}"#) == .runCommand("ls"))
        #expect(
            try parser.actions(fromToolCall: "run_command", arguments: #"{"command": ["ls", "-la"]}"#) == .runCommand("ls -la")
        )
        #expect(
            try parser.actions(fromToolCall: "write_file", arguments: #"{"file_path": "a.py", "contents": "x"}"#)
                == .writeFile(path: "a.py", content: "x\n")
        )
    }

    @Test(
        "errors say what is wrong",
        arguments: [
            ("delete_file", #"{"path": "a"}"#, ActionToolCallError.unknownTool("delete_file")),
            ("write_file", #"{"path": "a", "content": "x""#, .malformedArguments(tool: "write_file", detail: #"invalid JSON: {"path": "a", "content": "x""#)),
            ("write_file", "", .malformedArguments(tool: "write_file", detail: "they are empty")),
            ("write_file", "[1, 2]", .malformedArguments(tool: "write_file", detail: "expected an object, found __SwiftValue")),
            ("write_file", #"{"content": "x"}"#, .missingArgument(tool: "write_file", argument: "path")),
            ("edit_file", #"{"path": "a", "search": "x"}"#, .missingArgument(tool: "edit_file", argument: "replace")),
            ("run_command", #"{"command": 42}"#, .wrongArgumentType(tool: "run_command", argument: "command")),
            ("run_command", #"{"command": "  "}"#, .missingArgument(tool: "run_command", argument: "command")),
            ("write_file", #"{"path": "../x", "content": ""}"#, .refusedPath(tool: "write_file", .leavesWorkspace("../x"))),
            ("edit_file", #"{"path": "/x", "search": "a", "replace": "b"}"#, .refusedPath(tool: "edit_file", .absolute("/x"))),
        ]
    )
    func errors(name: String, arguments: String, expected: ActionToolCallError) {
        do {
            let action = try parser.actions(fromToolCall: name, arguments: arguments)
            Issue.record("expected \(expected), got \(action)")
        } catch let error as ActionToolCallError {
            if case .malformedArguments(_, let detail) = expected, detail.contains("__SwiftValue") {
                // The Foundation type name of a decoded array differs between platforms.
                guard case .malformedArguments(let tool, let actual) = error else {
                    Issue.record("expected malformedArguments, got \(error)")
                    return
                }
                #expect(tool == name)
                #expect(actual.hasPrefix("expected an object"))
            } else {
                #expect(error == expected)
            }
            #expect(!error.description.isEmpty)
        } catch {
            Issue.record("unexpected error type: \(error)")
        }
    }

    @Test("error messages read well")
    func messages() {
        #expect(
            ActionToolCallError.unknownTool("delete").description
                == "unknown tool \"delete\"; the tools are write_file, edit_file, run_command"
        )
        #expect(ActionToolCallError.missingArgument(tool: "write_file", argument: "path").description == "write_file needs the argument \"path\"")
        #expect(
            ActionToolCallError.refusedPath(tool: "write_file", .leavesWorkspace("../x")).description
                == "write_file: refused path ../x: it contains .., and paths must stay inside the workspace"
        )
    }

    @Test("tool definitions carry valid JSON Schemas whose required arguments the mapper reads")
    func definitions() throws {
        #expect(ActionParser.toolDefinitions.map(\.name) == ["write_file", "edit_file", "run_command"])
        for definition in ActionParser.toolDefinitions {
            let schema = try #require(
                try JSONSerialization.jsonObject(with: Data(definition.parametersSchema.utf8)) as? [String: Any]
            )
            #expect(schema["type"] as? String == "object")
            let required = try #require(schema["required"] as? [String])
            let properties = try #require(schema["properties"] as? [String: Any])
            #expect(Set(required) == Set(properties.keys))
            let arguments = Dictionary(uniqueKeysWithValues: required.map { ($0, "x") })
            let json = String(decoding: try JSONSerialization.data(withJSONObject: arguments), as: UTF8.self)
            _ = try parser.actions(fromToolCall: definition.name, arguments: json)
        }
    }
}

@Suite("text action protocol: the system prompt")
struct ActionProtocolPromptTests {
    @Test("its examples parse into the actions they show")
    func examplesParse() {
        let result = parse(ActionProtocol.systemPrompt)
        #expect(result.actions == [
            .writeFile(path: "hello.py", content: "def greet(name):\n    return \"Hello, \" + name\n"),
            .writeFile(
                path: "test_hello.py",
                content: "from hello import greet\n\n\ndef test_greet():\n    assert greet(\"Bo\") == \"Hello, Bo\"\n"
            ),
            .runCommand("python -m pytest -q"),
            .editFile(path: "hello.py", search: "    return \"Hello, \" + name\n", replace: "    return \"Hi, \" + name\n"),
        ])
        #expect(result.problems.isEmpty)
    }

    @Test("it stays short enough for a small model's context")
    func short() {
        #expect(ActionProtocol.systemPrompt.count < 1600)
    }
}

@Suite("unnamed code blocks and the requested file")
struct TargetFileTests {
    @Test("a reply whose only code is one unnamed block of the requested file's language writes that file")
    func writesTarget() {
        let result = ActionParser(targetFile: "solution.py").parse("Here:\n```python\ndef f():\n    return 1\n```\n")
        #expect(result.actions == [.writeFile(path: "solution.py", content: "def f():\n    return 1\n")])
        #expect(result.problems.isEmpty)
        let bare = ActionParser(targetFile: "solution.py").parse("```\nx = 1\n```\n")
        #expect(bare.actions == [.writeFile(path: "solution.py", content: "x = 1\n")])
    }

    @Test("without a target, with two unnamed blocks, a mismatched language or the file already written, it stays a problem", arguments: [
        (nil as String?, "```python\nx = 1\n```\n", 1),
        ("solution.py", "```python\nx = 1\n```\n\n```python\ny = 2\n```\n", 2),
        ("solution.py", "```javascript\nlet x = 1\n```\n", 1),
    ])
    func staysProblem(target: String?, reply: String, problems: Int) {
        let result = ActionParser(targetFile: target).parse(reply)
        #expect(result.actions.isEmpty)
        #expect(result.problems.count == problems)
        #expect(result.problems.allSatisfy { $0.message.contains("code block without a file name") })
    }

    @Test("a named block for the target wins over an unnamed example block")
    func namedWins() {
        let result = ActionParser(targetFile: "solution.py").parse("```file solution.py\nx = 1\n```\n\nUsage:\n```python\nprint(x)\n```\n")
        #expect(result.actions == [.writeFile(path: "solution.py", content: "x = 1\n")])
        #expect(result.problems.count == 1)
    }
}
