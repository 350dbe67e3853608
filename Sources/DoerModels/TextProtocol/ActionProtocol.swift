/// The text action protocol: how a model without reliable tool calls asks Doer to write
/// files, edit files and run commands. `ActionParser` reads it; `systemPrompt` teaches it.
///
/// # Specification
///
/// A reply is Markdown. Actions are fenced code blocks; everything outside them is prose,
/// kept for the transcript and never acted on. Lines end with LF, CRLF or a lone CR.
///
/// ## Fences
///
/// A fence is a line of three or more backticks or tildes, normally indented by at most
/// three spaces (deeper indentation, as in list items, is accepted; content lines lose up
/// to as much leading white space as the opening fence had). The rest of the opening line,
/// trimmed, is the *info string*, which says what the block is. A backtick line that
/// contains another ```` ``` ```` (```` ```python print(1)``` ````) is inline code, not a
/// fence. The block ends at a line holding only the opening character, at least as many
/// times as the opening fence, indented at most three columns more than it; so
/// ```` ``` ```` inside a ```` ```` ```` block is content. A block left open runs to the end
/// of the reply, except that a line opening a new action block (```` ```file x ````,
/// ```` ```edit x ````, ```` ```run ````, ```` ```python x.py ````) with the same fence ends
/// it: the model forgot to close it. In Markdown content (a path ending in `.md`,
/// `.markdown` or `.mdx`, or a ```` ```markdown ```` block) fences nest: an inner fence with
/// an info string opens, a bare one closes. A ```` ```markdown ```` block without a name that
/// holds action blocks is a wrapper around the reply, and its body is read as a reply.
///
/// ## Whole file: `file PATH`
///
/// ````
/// ```file src/app.py
/// print("hello")
/// ```
/// ````
///
/// Creates or replaces `src/app.py` with the block's content, an `Action.writeFile`. The
/// content is kept exactly, except that it ends with exactly one newline when it has any
/// text (trailing blank lines go); an empty block writes an empty file. The file name may
/// also come from, strongest first:
/// - the info string: `write PATH`, a bare path (```` ```src/app.py ````), a language and a
///   path (`python src/app.py`, `python:src/app.py`, `python file=src/app.py`,
///   `python title="src/app.py"`, also `filename=`, `path=`, `name=`);
/// - the first content line, when it is a comment naming the file (`# file: app.py`,
///   `// file: app.js`, `<!-- file: index.html -->`, `/* style.css */`), a comment holding
///   only a file name (`# app.py`), or `file app.py` / `File: app.py` without a comment
///   marker. That line, and blank lines right under it, are removed from the content.
///   `#!` and `#include` lines are code, not names;
/// - one of the two non-empty prose lines just before the fence (since the previous block):
///   `**app.py**`, `` `app.py`: ``, `File: app.py`, `# app.py`, `### File: app.py`,
///   `1. **Create `app.py`:**`, a line holding only `app.py`, or a sentence that names
///   exactly one file in backticks or bold and either ends with a colon
///   (`` Here is the fixed `app.py`: ``) or says it is a file (`` create a file named `app.py` ``),
///   or ends with a colon after a file name (`Save this as app.py:`), or a heading or
///   whole-line bold naming one file (`### Step 1: create app.py`). Sentences about output
///   (`output`, `result`, `error`, `traceback`, `print`) name nothing, and blocks tagged
///   `text`, `output` and the like take a name only from a line that is just the name
///   (`**notes.txt**`), so shown output never overwrites the program that printed it.
///
/// A file name is a token with an extension holding a letter (`app.py`, not `3.11`), a
/// well-known name (`Makefile`, `Dockerfile`) or a dotfile (`.gitignore`) when it comes from
/// prose or a comment; after `file`/`write`/`edit` any path is taken as written.
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
/// One or more sections; each becomes one `Action.editFile`, in order. SEARCH holds lines
/// copied exactly from the file, REPLACE the lines that take their place (empty deletes
/// them). Both are the section's lines joined by newlines, ending in one newline when there
/// are any. Markers may have 5 to 9 marker characters, spaces around them and any case
/// (`ORIGINAL`/`UPDATED` are accepted too); a `=======` inside REPLACE is text. Text between
/// sections is ignored. Any named block whose body holds a `<<<<<<< SEARCH` line is an edit,
/// whatever its info string says (the aider form: a path line, then ```` ```python ```` with
/// sections). When the final section lacks `>>>>>>> REPLACE`, it is accepted if its block
/// was closed, and refused if the reply was cut off. Refused, each with a problem: a section
/// without `=======` or without `>>>>>>> REPLACE`, markers out of order, an empty SEARCH, a
/// SEARCH equal to its REPLACE, an edit block without sections (a whole file belongs in a
/// file block: it is not guessed, since a fragment would wipe the rest of the file).
///
/// ## Command: `run`
///
/// ````
/// ```run
/// python -m pytest -q
/// ```
/// ````
///
/// An `Action.runCommand`. The body is one command; several lines are one shell script
/// joined by newlines (blank lines at both ends dropped). `run COMMAND` with an empty body
/// runs `COMMAND`. Also commands:
/// - `bash`, `sh`, `zsh`, `shell`, `console`, `terminal`, `shell-session`, `cmd` blocks
///   without a file name whose body looks like commands, not output (`Traceback`,
///   `===== 3 passed`, `FAILED`, numbers, lines ending in a colon are output and ignored);
/// - any unnamed block, or one named only by prose, whose every line starts with a
///   well-known program (`python x.py`, `pytest`, `npm test`, `./run.sh`): a ```` ```python ````
///   block holding `python -m pytest` is a command, not a file.
///
/// Leading `$ ` prompts are stripped; when some lines have one, the lines without one are
/// output and dropped (except continuations of a line ending in `\`). A shell block takes a
/// file name from prose only when it ends in a shell extension (`.sh`, `.bash`, ...), so
/// "Run `test_app.py`:" above ```` ```bash ```` stays a command. An unnamed block starting
/// with `#!` is a script to save, not to run, and is a problem.
///
/// ## Paths
///
/// Relative to the workspace, `/`-separated. Quotes, backticks, `**` and a trailing colon
/// around a path are removed; `./` and `//` are normalised away; `\` becomes `/`. Absolute
/// paths (`/x`, `~/x`, `C:\x`), paths with a `..` component, paths naming a directory
/// (`src/`) and paths with control characters are refused with a problem, never an action.
///
/// ## Problems
///
/// Anything that looks meant as an action but cannot be one is reported with its 1-based
/// line number, in words that tell the model how to fix it: a code block with no file name,
/// a malformed edit, a refused path, a ```` ```diff ```` block (unified diffs are not
/// applied). A non-blank reply with no action and no other problem gets one problem saying
/// so. Blocks tagged `text`, `output`, `plaintext`, `log` and the like are ignored quietly.
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
