import DoerCore
import DoerSandbox
import Foundation

/// Whether a change that passes the request's tests broke what the code did for other
/// inputs. The request's tests say the asked-for case now works; they say nothing of the
/// cases it is not about, and a project's tests of the function may be few or none. A small
/// model often "fixes" a bug by rewriting the function it was shown instead of the one at
/// fault, and the rewrite narrows what it accepts (seen: `ordinalize` re-written to do
/// arithmetic on its argument, so the strings every caller passed began to raise).
///
/// So each top-level Python function the change rewrote is called, in the sandbox, on the
/// workspace as it was and with the change, with the same inputs: the literal arguments the
/// workspace itself passes it (calls in its code and tests, `parametrize` tables, docstring
/// examples, the request's examples Doer wrote) and near variants of them (a number as a
/// string and back, neighbours, empty collections). An input the old code answered with a
/// value and the new one raises on, times out on, or answers with `None` is a regression —
/// unless the request asks for errors — and so is a docstring example's result the old code
/// gave and the new one does not. Other values that differ are not judged: the fix is meant
/// to change some.
struct BehaviourProbe {
    let sandbox: any Sandbox
    let limits: ResourceLimits
    /// The test command's variables (`PYTHONPATH` for a `src/` layout).
    let environment: [String: String]
    /// Folders the project's modules are imported from besides the workspace's top.
    let importRoots: [String]

    /// The functions of one module to call.
    struct Target: Codable, Equatable {
        var module: String
        var functions: [String]
    }

    /// What one call did.
    struct Observation: Codable, Equatable {
        var function: String
        /// The call as Python would write it (`ordinalize('113')`).
        var call: String
        var key: String
        var returned: String?
        var none: Bool?
        var raised: String?
        var message: String?
        var timeout: Bool?
        /// The result a docstring example shows for this call (`>>> f(1)` then `'1st'`), as a repr.
        var documented: String?

        var answered: Bool { returned != nil }

        var described: String { describe(past: false) }

        func describe(past: Bool) -> String {
            if let returned { return (past ? "returned " : "returns ") + returned }
            if let raised { return "raises \(raised)" + (message.map { $0.isEmpty ? "" : ": " + $0 } ?? "") }
            return "does not return within a second"
        }
    }

    struct Regression: Equatable {
        var call: String
        var before: String
        var after: String

        var sentence: String { "`\(call)` \(before) before the change and now \(after)" }

        /// The first few, in words, and how many more.
        static func listed(_ found: [Regression]) -> String {
            found.prefix(3).map(\.sentence).joined(separator: "; ") + (found.count > 3 ? "; and \(found.count - 3) more" : "")
        }
    }

    /// The top-level functions defined in both texts whose behaviour the change may have
    /// changed: those whose definitions differ, and those that read a top-level table or
    /// constant whose assignment differs (`romanNumeralMap` edited, `toRoman` unchanged).
    static func rewrittenFunctions(old: String, new: String) -> [String] {
        let before = topLevel(old), after = topLevel(new)
        let changedTables = Set(after.tables.filter { name, text in before.tables[name].map { $0 != text } ?? true }.keys)
        return after.functions.filter { name, text in
            guard let previous = before.functions[name] else { return false }
            return previous != text || changedTables.contains { table in
                text.range(of: "(?<![A-Za-z0-9_.])\(NSRegularExpression.escapedPattern(for: table))(?![A-Za-z0-9_])",
                           options: .regularExpression) != nil
            }
        }.map(\.key).sorted()
    }

    /// A file's top-level functions and assignments (`NAME = …`, `NAME: T = …`), each with its text.
    private static func topLevel(_ text: String) -> (functions: [String: String], tables: [String: String]) {
        let lines = text.components(separatedBy: "\n")
        var functions: [String: String] = [:], tables: [String: String] = [:]
        for block in DefinitionSplice.blocks(lines) ?? [] {
            let body = lines[block.range].joined(separator: "\n")
            switch block.kind {
            case .function(let name): functions[name] = body
            case .other:
                guard let name = RequestFocus.matches("^([A-Za-z_][A-Za-z0-9_]*)\\s*(?::[^=]*)?=(?!=)", in: body).first else { continue }
                tables[name] = body
            default: continue
            }
        }
        return (functions, tables)
    }

    /// The module a workspace path is imported as, from the top or from an import root
    /// (`src/inflection/__init__.py` is `inflection`), or nil when no import reaches it.
    static func module(of path: String, importRoots: [String]) -> String? {
        guard path.hasSuffix(".py") else { return nil }
        var relative = path
        for root in importRoots.sorted(by: { $0.count > $1.count }) where path.hasPrefix(root + "/") {
            relative = String(path.dropFirst(root.count + 1))
            break
        }
        var parts = String(relative.dropLast(3)).split(separator: "/").map(String.init)
        if parts.last == "__init__" { parts.removeLast() }
        guard !parts.isEmpty, parts.allSatisfy(isIdentifier) else { return nil }
        return parts.joined(separator: ".")
    }

    private static func isIdentifier(_ text: String) -> Bool {
        guard let first = text.first, first.isLetter || first == "_" else { return false }
        return text.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" }
    }

    /// The calls' outcomes on one folder, by call; nil when the helper could not run.
    func observe(_ targets: [Target], in directory: URL) async -> [String: Observation]? {
        struct Request: Encodable { var roots: [String]; var targets: [Target] }
        guard !targets.isEmpty, let input = try? JSONEncoder().encode(Request(roots: importRoots, targets: targets)) else { return nil }
        var limits = self.limits
        limits.wallClockSeconds = max(limits.wallClockSeconds, 40)
        // One hash seed for both runs, so a set's or a dict of strings' order is the same in each.
        let request = ExecutionRequest(command: ["python3", "-c", Self.script], workspace: directory,
                                       environment: environment.merging(["PYTHONHASHSEED": "0"]) { mine, _ in mine },
                                       stdin: input, limits: limits, applyChanges: false)
        guard let result = try? await sandbox.run(request) else { return nil }
        var observed: [String: Observation] = [:]
        for line in result.stdout.text.split(separator: "\n") where line.hasPrefix(Self.marker) {
            guard let observation = try? JSONDecoder().decode(Observation.self, from: Data(line.dropFirst(Self.marker.count).utf8)) else { continue }
            observed[observation.function + " " + observation.key] = observation
        }
        return observed
    }

    /// Inputs the old code answered and the new one does not. Errors do not count when the
    /// request is about errors (`raises ValueError`, "reject invalid input").
    /// - Parameter sameResults: for a refactor, which must not change what the code does:
    ///   any other result, value or error, counts (object addresses aside).
    static func regressions(before: [String: Observation], after: [String: Observation], task: String,
                            sameResults: Bool = false) -> [Regression] {
        let text = task.lowercased()
        let asksForErrors = ["raise", "throw", "reject", "invalid", "validat", "error", "exception"].contains { text.contains($0) }
        var found: [Regression] = []
        for (key, old) in before.sorted(by: { $0.key < $1.key }) where old.answered {
            guard let new = after[key] else { continue }
            // A result the documentation shows, which the old code gave, is a promise kept until now.
            // Unless the request is about that very call: then changing it is the point.
            let brokeDocumented = old.documented != nil && old.returned == old.documented && new.returned != old.documented
                && !Self.squeezed(task).contains(Self.squeezed(old.call))
            let changed = sameResults && (Self.withoutAddresses(new.returned) != Self.withoutAddresses(old.returned))
            let broke = changed || brokeDocumented || new.timeout == true
                || new.raised != nil && !asksForErrors
                || new.none == true && old.none != true && !text.contains("none")
            if broke {
                found.append(Regression(call: old.call, before: old.describe(past: true) + (brokeDocumented ? " as its docstring shows" : ""),
                                        after: new.described))
            }
        }
        return found
    }

    /// A repr with object addresses taken out (`<Node object at 0x7f…>`), which differ run to run.
    private static func withoutAddresses(_ text: String?) -> String? {
        text?.replacingOccurrences(of: " at 0x[0-9a-fA-F]+", with: "", options: .regularExpression)
    }

    /// Text compared without spaces and with one kind of quote (`f("a", 1)` is `f('a',1)`).
    private static func squeezed(_ text: String) -> String {
        String(text.filter { !$0.isWhitespace }.map { $0 == "\"" ? "'" : $0 })
    }

    static let marker = "DOER-PROBE "

    /// Reads targets on stdin (`{"roots": [...], "targets": [{"module", "functions"}]}`),
    /// prints one `DOER-PROBE {json}` line per call.
    static let script = #"""
import ast, contextlib, copy, doctest, importlib, io, itertools, json, os, signal, sys, time

MAX_SEEDS = 40
MAX_CALLS = 120
MAX_FILES = 600
BUDGET_SECONDS = 20.0
SKIP_DIRS = {".git", "node_modules", "build", "dist", ".tox", ".venv", "venv", "__pycache__", ".eggs"}

request = json.load(sys.stdin)
for root in reversed([os.path.abspath(r) for r in request["roots"]] + [os.getcwd()]):
    if root not in sys.path:
        sys.path.insert(0, root)
wanted = {name for target in request["targets"] for name in target["functions"]}
out = sys.stdout


def emit(record):
    out.write("DOER-PROBE " + json.dumps(record) + "\n")
    out.flush()


def shown(value):
    try:
        text = repr(value)
    except BaseException:
        text = "<" + type(value).__name__ + ">"
    return text if len(text) <= 200 else text[:200] + "…"


def literal(node):
    try:
        return True, ast.literal_eval(node)
    except Exception:
        return False, None


def parametrized(function):
    # Rows of `@pytest.mark.parametrize("a, b", [(…), …])` as {name: value} bindings.
    tables = []
    for decorator in function.decorator_list:
        if not (isinstance(decorator, ast.Call) and getattr(decorator.func, "attr", None) == "parametrize" and len(decorator.args) >= 2):
            continue
        ok_names, names = literal(decorator.args[0])
        ok_rows, rows = literal(decorator.args[1])
        if not (ok_names and ok_rows) or not isinstance(rows, (list, tuple)):
            continue
        if isinstance(names, str):
            names = [n.strip() for n in names.split(",") if n.strip()]
        names = list(names)
        table = []
        for row in rows:
            row = (row,) if len(names) == 1 else row
            if isinstance(row, (list, tuple)) and len(row) == len(names):
                table.append(dict(zip(names, row)))
        tables.append(table)
    return tables


seeds = {name: [] for name in wanted}
documented = {}


def call_key(args, kwargs):
    return repr((args, sorted(kwargs.items())))


def add(name, args, kwargs):
    found = seeds[name]
    if len(found) < MAX_SEEDS and (args, kwargs) not in found:
        found.append((args, kwargs))


def value_of(node, binding):
    if isinstance(node, ast.Name) and binding is not None and node.id in binding:
        return True, binding[node.id]
    return literal(node)


def call_values(call, binding):
    args = []
    for node in call.args:
        ok, value = (False, None) if isinstance(node, ast.Starred) else value_of(node, binding)
        if not ok:
            return None
        args.append(value)
    kwargs = {}
    for keyword in call.keywords:
        ok, value = (False, None) if keyword.arg is None else value_of(keyword.value, binding)
        if not ok:
            return None
        kwargs[keyword.arg] = value
    return tuple(args), kwargs


def called_name(call):
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Name):
        return call.func.attr
    return None


def scan(tree):
    def visit(node, tables):
        for child in ast.iter_child_nodes(node):
            inner = tables + parametrized(child) if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) else tables
            if isinstance(child, ast.Call) and called_name(child) in wanted:
                names = {n.id for n in child.args if isinstance(n, ast.Name)}
                names |= {k.value.id for k in child.keywords if isinstance(k.value, ast.Name)}
                bindings = [row for table in inner for row in table if names <= set(row)][:MAX_SEEDS] if names else [None]
                for binding in bindings:
                    values = call_values(child, binding)
                    if values is not None:
                        add(called_name(child), *values)
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Module)):
                docstring = ast.get_docstring(child, clean=True)
                if docstring and ">>>" in docstring:
                    scan_doctest(docstring)
            visit(child, inner)
    visit(tree, [])
    docstring = ast.get_docstring(tree, clean=True) if isinstance(tree, ast.Module) else None
    if docstring and ">>>" in docstring:
        scan_doctest(docstring)


def scan_doctest(text):
    try:
        examples = doctest.DocTestParser().get_examples(text)
    except Exception:
        return
    for example in examples:
        try:
            tree = ast.parse(example.source)
        except (SyntaxError, ValueError, RecursionError):
            continue
        scan(tree)
        # `>>> f(1)` shown with a literal result: what the documentation promises for that call.
        call = tree.body[0].value if len(tree.body) == 1 and isinstance(tree.body[0], ast.Expr) else None
        if isinstance(call, ast.Call) and called_name(call) in wanted and example.want.strip():
            values = call_values(call, None)
            ok, expected = literal(example.want.strip())
            if values is not None and ok:
                documented[called_name(call) + " " + call_key(*values)] = shown(expected)


files = 0
for folder, dirs, names in os.walk("."):
    dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
    for name in sorted(names):
        if not name.endswith(".py") or files >= MAX_FILES:
            continue
        path = os.path.join(folder, name)
        try:
            if os.path.getsize(path) > 1_000_000:
                continue
            with open(path, encoding="utf-8") as source:
                tree = ast.parse(source.read())
        except (SyntaxError, UnicodeDecodeError, OSError, ValueError, RecursionError):
            continue
        files += 1
        scan(tree)


def variants(value):
    if isinstance(value, bool):
        found = [not value]
    elif isinstance(value, int):
        found = [str(value), value + 1, value - 1, -value, value * 10 + 1, 0]
    elif isinstance(value, float):
        found = [-value, 0.0, str(value)] + ([int(value)] if value.is_integer() else [])
    elif isinstance(value, str):
        digits = value.strip()
        found = ([int(digits)] if digits.lstrip("+-").isdigit() and len(digits) < 30 else []) + [value.upper(), value.lower(), "", value + value]
    elif isinstance(value, (list, tuple)):
        found = [type(value)(), type(value)(reversed(value)), tuple(value) if isinstance(value, list) else list(value)]
    elif isinstance(value, dict):
        found = [{}]
    else:
        found = []
    return [v for v in found if not (type(v) is type(value) and v == value)]


def calls_for(name):
    made = []
    for args, kwargs in seeds[name]:
        made.append((args, kwargs, True))
    for args, kwargs in seeds[name]:
        for index, value in enumerate(args):
            for variant in variants(value):
                made.append((args[:index] + (variant,) + args[index + 1:], kwargs, False))
    unique = []
    keys = set()
    for args, kwargs, seed in made:
        key = call_key(args, kwargs)
        if key not in keys:
            keys.add(key)
            unique.append((key, args, kwargs, seed))
    return unique[:MAX_CALLS]


class Timeout(BaseException):
    pass


def on_alarm(signum, frame):
    raise Timeout()


signal.signal(signal.SIGALRM, on_alarm)


def outcome(function, args, kwargs):
    args, kwargs = copy.deepcopy(args), copy.deepcopy(kwargs)
    sink = io.StringIO()
    signal.setitimer(signal.ITIMER_REAL, 1.0)
    try:
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            value = function(*args, **kwargs)
            # Lazy results fail only when read: read some of them.
            if hasattr(value, "__next__") and iter(value) is value:
                value = list(itertools.islice(value, 1000))
        return {"returned": shown(value), "none": value is None}
    except Timeout:
        return {"timeout": True}
    except (KeyboardInterrupt, SystemExit) as error:
        return {"raised": type(error).__name__, "message": shown(error)}
    except BaseException as error:
        return {"raised": type(error).__name__, "message": str(error)[:200]}
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


started = time.monotonic()
for target in request["targets"]:
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            module = importlib.import_module(target["module"])
    except BaseException as error:
        emit({"module": target["module"], "error": type(error).__name__ + ": " + str(error)[:200]})
        continue
    for name in target["functions"]:
        function = getattr(module, name, None)
        if not callable(function):
            continue
        for key, args, kwargs, seed in calls_for(name):
            if time.monotonic() - started > BUDGET_SECONDS:
                break
            text = name + "(" + ", ".join([shown(a) for a in args] + [k + "=" + shown(v) for k, v in kwargs.items()]) + ")"
            record = {"function": name, "call": text, "key": key, "seed": seed}
            if name + " " + key in documented:
                record["documented"] = documented[name + " " + key]
            emit(dict(record, **outcome(function, args, kwargs)))
"""#
}
