import Foundation

/// A rule the request states about the arguments: "without changing the list it is given",
/// "the list passed in must not be changed", "leaves its input unchanged".
///
/// Such a rule is easy to break unseen: `values.sort()` gives the right median and changes
/// the caller's list, and a test that only compares results passes — the model's tests and a
/// test written apart alike. Doer checks the rule itself, on every call any test makes: a
/// pytest plugin (`doer_unchanged_arguments.py`, loaded with `-p` wherever the strategy's
/// tests run) wraps each function the request names that the workspace defines, copies its
/// arguments before a call and, when the call returns, fails it with both values if one
/// changed. Only plain data is compared (numbers, strings, lists, tuples, dicts, sets and
/// what they hold): an object without value equality never equals its copy. When the rule
/// names parameters ("`append_to(target, items)` … without changing `items`"), only those are
/// checked: the others may be the ones the function is meant to change.
enum UnchangedArguments {
    /// The plugin's module name (a file of that name at the top of the copy).
    static let module = "doer_unchanged_arguments"
    static var path: String { module + ".py" }

    struct Rule: Equatable {
        /// The request's sentence stating it, for the failure message.
        var sentence: String
        /// The parameters it names; empty when it speaks of "the list", "its input".
        var parameters: [String]
    }

    /// The rule as the request states it, or nil when it states none.
    static func rule(in task: String) -> Rule? {
        let text = task.replacingOccurrences(of: "\n", with: " ")
        let parameters = parameterNames(in: text)
        let argument = argumentPhrase(also: parameters)
        for pattern in patterns(argument: argument) {
            guard let regex = try? NSRegularExpression(pattern: pattern, options: [.caseInsensitive]),
                  let match = regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)),
                  let range = Range(match.range, in: text) else { continue }
            let words = Set(text[range].split { !($0.isLetter || $0.isNumber || $0 == "_") }.map(String.init))
            let articles: Set<String> = ["a", "an", "the", "its", "their", "any"]
            return Rule(sentence: RequestFocus.sentence(around: range, in: text),
                        parameters: parameters.filter { words.contains($0) && !articles.contains($0) })
        }
        return nil
    }

    /// The plugin file for the request, when it states the rule and names a function.
    static func plugin(for task: String) -> (path: String, content: String)? {
        guard let rule = rule(in: task) else { return nil }
        let names = DocumentedExamples.namedFunctions(in: task).sorted()
        guard !names.isEmpty else { return nil }
        return (path, source(functions: names, rule: rule))
    }

    /// The parameter names of the functions the request writes with them (`merge(intervals)`).
    static func parameterNames(in text: String) -> [String] {
        RequestFocus.signatures(in: text).flatMap(\.parameters).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
    }

    // MARK: - Reading the rule

    /// What is handed in: "the list", "its input", "the original list", "the given one", or a
    /// parameter by name (`items`).
    private static func argumentPhrase(also parameters: [String]) -> String {
        let named = parameters.map { "`?" + NSRegularExpression.escapedPattern(for: $0) + "`?" }
        return "(?:(?:the|its|their|an?|any|the\\s+caller's|caller's)\\s+)?(?:(?:original|given|input|same|passed)\\s+)?"
            + "(?:inputs?|arguments?|lists?|dicts?|dictionar(?:y|ies)|mappings?|arrays?|sequences?|values|items|parameters?|collections?|data|one|original|it|them"
            + named.map { "|" + $0 }.joined() + ")(?![\\w`])"
    }
    private static let changing = "(?:chang|modify|modifi|mutat|alter|touch|sort|reorder)(?:e|es|ed|ing)?"
    private static let unchanged = "(?:unchanged|untouched|unmodified|unaltered|intact|as\\s+(?:it|they)\\s+(?:is|are|was|were))"
    private static let handedIn = "(?:\\s+(?:(?:that|which)\\s+(?:is|are|was|were|gets|get)\\s+)?(?:passed(?:\\s+in)?|given|handed\\s+in)"
        + "|\\s+(?:that\\s+|which\\s+)?(?:it|they|the\\s+function)\\s+(?:is\\s+given|are\\s+given|gets|get|receives|receive|takes|take))?"

    private static func patterns(argument: String) -> [String] { [
        // "without changing the list it is given", "instead of modifying its input"
        "\\b(?:without|instead\\s+of|rather\\s+than)\\s+\(changing)\\s+\(argument)",
        // "does not modify the input", "must never change its arguments"
        "\\b(?:does\\s+not|doesn't|do\\s+not|don't|must\\s+not|mustn't|should\\s+not|shouldn't|may\\s+not|cannot|can't|never|will\\s+not|won't)"
            + "(?:\\s+ever)?\\s+\(changing)\\s+\(argument)",
        // "the list passed in must not be changed", "the input is never modified"
        "(?<![\\w`])\(argument)\(handedIn)\\s+(?:(?:must|should|may|will)\\s+not|is\\s+not|are\\s+not|isn't|aren't|is\\s+never|are\\s+never|must\\s+never|should\\s+never|never)"
            + "\\s+(?:be\\s+|get\\s+)?\(changing)",
        // "the list it is given stays unchanged", "its input is left intact"
        "(?<![\\w`])\(argument)\(handedIn)\\s+(?:(?:must|should|will)\\s+)?(?:stays?|remains?|is|are|be)(?:\\s+left)?\\s+\(unchanged)",
        // "leaves the list unchanged", "keeping its input intact"
        "\\b(?:leaves?|leaving|keeps?|keeping)\\s+\(argument)\(handedIn)\\s+\(unchanged)",
        // "does not sort in place", "not in-place"
        "\\b(?:not|never)\\s+(?:\\w+\\s+)?in[\\s-]place\\b",
    ] }

    // MARK: - The plugin

    static func source(functions: [String], rule: Rule) -> String {
        func list(_ items: [String]) -> String { "[" + items.map { "\"\($0)\"" }.joined(separator: ", ") + "]" }
        let names = list(functions)
        let quoted = rule.sentence.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        return """
        # Written by Doer: the request says "\(quoted)".
        # Every call the tests make to the functions it names fails if it changes an argument.
        import copy, functools, importlib, inspect, os, re, sys, types

        _NAMES = \(names)
        # The parameters the rule names; none named: every argument.
        _ONLY = \(list(rule.parameters))
        _RULE = "\(quoted)"
        _ROOT = os.path.realpath(os.getcwd())
        _PLAIN = (int, float, complex, bool, str, bytes, type(None))


        def _plain(value, depth=0):
            # Only data compared by value: an object without __eq__ never equals its copy.
            if depth > 20:
                return False
            if isinstance(value, _PLAIN):
                return True
            if isinstance(value, (list, tuple, set, frozenset, bytearray)):
                return all(_plain(item, depth + 1) for item in value)
            if isinstance(value, dict):
                return all(_plain(k, depth + 1) and _plain(v, depth + 1) for k, v in value.items())
            return False


        def _mutable(value):
            return isinstance(value, (list, set, dict, bytearray)) or (isinstance(value, tuple) and any(_mutable(v) for v in value))


        def _guard(function, name):
            try:
                signature = inspect.signature(function)
            except (TypeError, ValueError):
                signature = None

            def handed(args, kwargs):
                # (where, value) of each argument the rule covers.
                if _ONLY and signature is not None:
                    try:
                        bound = signature.bind(*args, **kwargs)
                    except TypeError:
                        bound = None
                    if bound is not None:
                        return [(parameter, value) for parameter, value in bound.arguments.items() if parameter in _ONLY]
                return list(enumerate(args)) + list(kwargs.items())

            @functools.wraps(function)
            def guarded(*args, **kwargs):
                __tracebackhide__ = True
                saved = []
                for where, value in handed(args, kwargs):
                    if _mutable(value) and _plain(value):
                        try:
                            saved.append((where, value, copy.deepcopy(value)))
                        except Exception:
                            pass
                result = function(*args, **kwargs)
                for where, value, before in saved:
                    try:
                        same = bool(value == before) and type(value) is type(before)
                    except Exception:
                        continue
                    if not same:
                        which = "argument %d" % (where + 1) if isinstance(where, int) else "argument '%s'" % where
                        raise AssertionError(
                            "%s() changed its %s: it was %r before the call and %r after it. The request says: %s"
                            % (name, which, before, value, _RULE))
                return result

            guarded.__doer_guarded__ = True
            return guarded


        def _ours(module):
            path = getattr(module, "__file__", None)
            if not path:
                return False
            path = os.path.realpath(path)
            return path.startswith(_ROOT + os.sep) and "site-packages" not in path and os.sep + "." not in path[len(_ROOT):]


        \(ExampleTests.modulePathSource)


        def _load_definers():
            # A test that imports the code inside its body would otherwise call it unwrapped:
            # the modules that define a named function are imported before any test runs.
            roots = sorted({os.path.realpath(p) for p in sys.path if p and os.path.realpath(p or ".").startswith(_ROOT)}, key=len)
            pattern = re.compile(r"^(?:async\\s+)?def\\s+(%s)\\s*\\(" % "|".join(map(re.escape, _NAMES)), re.M)
            for folder, dirs, files in os.walk(_ROOT):
                dirs[:] = [d for d in dirs if not d.startswith((".", "__")) and d not in ("build", "dist", "node_modules", "site-packages")]
                for file in files:
                    if not file.endswith(".py") or file.startswith("test_") or file.endswith("_test.py") or file in ("setup.py", "conftest.py"):
                        continue
                    path = os.path.join(folder, file)
                    try:
                        with open(path, encoding="utf-8") as source:
                            if not pattern.search(source.read()):
                                continue
                    except (OSError, UnicodeDecodeError):
                        continue
                    module = _module_of(path, roots)
                    if module:
                        try:
                            importlib.import_module(module)
                        except BaseException:
                            pass


        def pytest_collection_finish(session):
            _load_definers()
            modules = [m for m in list(sys.modules.values()) if isinstance(m, types.ModuleType) and _ours(m)]
            wrapped = {}
            for module in modules:
                for name in _NAMES:
                    function = vars(module).get(name)
                    if not isinstance(function, types.FunctionType) or getattr(function, "__doer_guarded__", False):
                        continue
                    owner = sys.modules.get(function.__module__)
                    if owner is None or not _ours(owner):
                        continue
                    wrapped.setdefault(id(function), (function, _guard(function, name)))
            # Every name bound to a wrapped function, in the code and in the tests that imported it.
            for module in modules:
                for key, value in list(vars(module).items()):
                    if id(value) in wrapped and wrapped[id(value)][0] is value:
                        setattr(module, key, wrapped[id(value)][1])

        """
    }
}
