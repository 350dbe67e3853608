/// The helper that reads Python files with the standard library's `ast` and prints, per
/// file, its definitions, its top-level imports and assignments and the names it uses, one JSON object a
/// line. It runs in the sandbox, like the tests: parsing executes none of the workspace's
/// code, but it does run CPython's parser on bytes anyone could have written (deep nesting
/// has crashed it and can take a lot of memory), and the sandbox bounds both for the cost
/// of one short process per batch of changed files.
enum PythonOutline {
    /// Files to read come on stdin, one workspace-relative path a line.
    static let script = #"""
import ast, json, os, sys

MAX_USES_PER_NAME = 12
MAX_NAMES = 1500
MAX_GLOBALS = 400

def doc_line(node):
    try:
        doc = ast.get_docstring(node, clean=True)
    except Exception:
        return None
    if not doc:
        return None
    line = doc.strip().splitlines()[0].strip()
    return line[:160] or None

def header(lines, node):
    start = node.lineno - 1
    first_body = node.body[0].lineno - 1 if node.body else start
    stop = first_body if first_body > start else start + 1
    text = " ".join(part.strip() for part in lines[start:min(stop, start + 12)])
    return text[:240]

def walk(node, parent, out, lines, in_class):
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            qual = parent + "." + child.name if parent else child.name
            start = min([child.lineno] + [d.lineno for d in child.decorator_list])
            if isinstance(child, ast.ClassDef):
                kind = "class"
            else:
                kind = "method" if in_class else "function"
            out.append([child.name, qual, kind, start, getattr(child, "end_lineno", child.lineno) or child.lineno,
                        header(lines, child), doc_line(child)])
            walk(child, qual, out, lines, isinstance(child, ast.ClassDef))
        else:
            walk(child, parent, out, lines, in_class)

def outline(path):
    if os.path.islink(path) or not os.path.isfile(path):
        return {"path": path, "ok": False, "error": "not a regular file"}
    with open(path, "rb") as handle:
        data = handle.read(1 << 20)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return {"path": path, "ok": False, "error": "not UTF-8"}
    lines = text.splitlines()
    try:
        tree = ast.parse(text, filename=path)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as error:
        return {"path": path, "ok": False, "error": type(error).__name__ + ": " + str(error)[:200]}
    definitions = []
    walk(tree, "", definitions, lines, False)
    imports = []
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            imports.append([node.lineno, getattr(node, "end_lineno", node.lineno) or node.lineno])
    globals_ = []
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets = [t for target in node.targets for t in (target.elts if isinstance(target, ast.Tuple) else [target])]
        elif isinstance(node, ast.AnnAssign):
            targets = [node.target]
        else:
            continue
        for target in targets:
            if isinstance(target, ast.Name) and len(globals_) < MAX_GLOBALS:
                globals_.append([target.id, node.lineno, getattr(node, "end_lineno", node.lineno) or node.lineno])
    uses = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            name = node.id
        elif isinstance(node, ast.Attribute):
            name = node.attr
        else:
            continue
        seen = uses.get(name)
        if seen is None:
            if len(uses) >= MAX_NAMES:
                continue
            seen = uses[name] = []
        if len(seen) < MAX_USES_PER_NAME and node.lineno not in seen:
            seen.append(node.lineno)
    return {"path": path, "ok": True, "lines": len(lines), "defs": definitions, "imports": imports, "globals": globals_, "uses": uses}

sys.setrecursionlimit(4000)
for raw in sys.stdin.read().splitlines():
    if not raw:
        continue
    try:
        result = outline(raw)
    except Exception as error:
        result = {"path": raw, "ok": False, "error": type(error).__name__}
    sys.stdout.write(json.dumps(result) + "\n")
"""#
}
