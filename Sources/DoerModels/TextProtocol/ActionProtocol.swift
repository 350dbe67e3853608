/// The text action protocol: how a model without reliable tool calls asks Doer to write
/// files, edit files and run commands. `ActionParser` reads it; `systemPrompt` teaches it.
///
/// # Specification
///
/// A reply is Markdown. Actions are fenced code blocks; everything outside them is prose,
/// kept for the transcript and never acted on. A fence is a line of three or more backticks
/// or tildes, indented by at most three spaces (more is tolerated for list items; content
/// lines lose up to as many spaces as the opening fence had). The rest of the opening line
/// is the *info string*, which says what the block is. The block ends at a line holding only
/// the same character, at least as many times as the opening fence, and nothing else; so
/// ```` ``` ```` inside a ```` ```` ```` block is content. A block left open runs to the end
/// of the reply.
///
/// ## Whole file: `file PATH`
///
/// ````
/// ```file src/app.py
/// print("hello")
/// ```
/// ````
///
/// Creates or replaces `src/app.py` with the block's content. The content is kept exactly,
/// except that it ends with exactly one newline when non-empty (trailing blank lines go).
/// Also accepted, in order of precedence:
/// - `write PATH`, or a bare path as the info string (```` ```src/app.py ````);
/// - a language and a path: `python src/app.py`, `python:src/app.py`,
///   `python file=src/app.py`, `python title="src/app.py"` (also `filename=`, `path=`, `name=`);
/// - a first content line that is a comment naming the file: `# file: app.py`,
///   `// file: app.js`, `<!-- file: index.html -->`, or a comment holding only a file name
///   (`# app.py`). That line is removed from the content;
/// - one of the two non-empty prose lines just before the fence naming the file:
///   `**app.py**`, `` `app.py`: ``, `File: app.py`, `# app.py`, `### File: app.py`, a line
///   holding only `app.py`, or a sentence ending in a colon that names exactly one file
///   (`` Here is `app.py`: ``). Shell blocks (`bash`, `sh`, ...) take a name from prose only
///   when it ends in a shell extension, and a block whose body is only shell commands stays
///   a command.
///
/// ## Edit: `edit PATH`
///
/// ````
/// ```edit src/app.py
/// <<<<<<< SEARCH
/// print("hello")
/// =======
/// print("hi")
/// >>>>>>> REPLACE
/// ```
/// ````
///
/// One or more sections; each becomes one `Action.editFile` in order. SEARCH holds lines
/// copied exactly from the file, REPLACE the lines that take their place (may be empty, to
/// delete). Both are the section's lines joined by newlines, ending in one newline when
/// non-empty. Markers may carry 5 to 9 marker characters and surrounding spaces, and are
/// case-insensitive. Any block with a file name whose body holds a `<<<<<<< SEARCH` line is
/// an edit, whatever its info string says (the aider form: a path line, then
/// ```` ```python ```` with sections). A final section that lacks `>>>>>>> REPLACE` is
/// accepted when its block was closed, refused when the reply was cut off.
///
/// ## Command: `run`
///
/// ````
/// ```run
/// python -m pytest -q
/// ```
/// ````
///
/// The body is one command; several lines are one shell script joined by newlines. Also
/// accepted: `bash`, `sh`, `zsh`, `shell`, `console`, `terminal`, `shell-session`, `cmd`
/// blocks when the body looks like commands, and an untagged block whose every line starts
/// with a well-known command (`python x.py`, `pytest`, `npm test`, ...). Leading `$ `
/// prompts are stripped; when some lines have a prompt, the lines without one are taken to
/// be output and dropped. `run COMMAND` with an empty body runs `COMMAND`.
///
/// ## Paths
///
/// Relative to the workspace, `/`-separated. Quotes, backticks and `**` around a path are
/// removed, `./` and `//` are normalised away, `\` becomes `/`. Absolute paths (`/x`, `~/x`,
/// `C:/x`) and paths with a `..` component are refused with a problem, never an action.
///
/// ## Problems
///
/// Anything that looks meant as an action but cannot be one (a code block with no file
/// name, a malformed edit, a refused path) is reported with its 1-based line number, in
/// words that tell the model how to fix it. A non-empty reply with no action at all gets one
/// problem saying so. Blocks tagged `text`, `output`, `plaintext`, `log` or similar, and shell
/// blocks that look like output, are quietly ignored.
///
/// Native tool calls (`write_file`, `edit_file`, `run_command`, see
/// `ActionParser.toolDefinitions`) map to the same `Action` values.
public enum ActionProtocol {
    /// Instructions for the model, tuned on Qwen2.5-Coder 0.5B Instruct. What worked: a whole
    /// example reply (the model copies its shape), a separate edit example, and naming the
    /// habits to drop (```python fences, whole files inside edit blocks). Prose rules alone
    /// ("put the path after the word file") were mostly ignored.
    public static let systemPrompt: String = """
        You are a coding agent. Doer applies the blocks you write and shows you the results.

        Reply with blocks. Each block starts with three backticks and then: file PATH, edit PATH, or run.

        Example task: Write hello.py with greet(name) and a test, then run the test.
        Example reply:

        ```file hello.py
        def greet(name):
            return "Hello, " + name
        ```

        ```file test_hello.py
        from hello import greet


        def test_greet():
            assert greet("Bo") == "Hello, Bo"
        ```

        ```run
        python -m pytest -q
        ```

        To change some lines of an existing file, use edit. Copy the old lines exactly, then write the new lines:

        ```edit hello.py
        <<<<<<< SEARCH
            return "Hello, " + name
        =======
            return "Hi, " + name
        >>>>>>> REPLACE
        ```

        Put each file in its own block. An edit block needs the SEARCH, ======= and REPLACE lines; \
        to rewrite a whole file, use file instead.
        Never write ```python or ```bash. Write complete code, never "...". Keep explanations short.
        """
}
