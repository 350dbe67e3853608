"""Runs Doer's behaviour probe (Sources/DoerAgent/Testing/BehaviourProbe.swift) on every task's
reference fix: the workspace as built (the function broken or left unimplemented) against the
same workspace with the project's original file put back. A correct fix must raise no alarm.

    python3 benchmarks/repo/check_probe.py [BENCH_DIR]   (default ~/.cache/doer/bench-repo)

Prints, per task, the functions the fix rewrote, how many calls each side made, and any
regression the probe would report. The probe runs here on the host, not in the sandbox: the
code is the projects' own released code.
"""
import ast, json, os, re, shutil, subprocess, sys, tempfile
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import build_tasks as bt

SOURCE = os.path.join(HERE, "..", "..", "Sources", "DoerAgent", "Testing", "BehaviourProbe.swift")
projects = {p["name"]: p for p in json.load(open(os.path.join(HERE, "projects.json")))}
tasks = json.load(open(os.path.join(HERE, "tasks.json")))
cache = sys.argv[1] if len(sys.argv) > 1 else os.path.expanduser("~/.cache/doer/bench-repo")
swift = open(SOURCE).read()
start = swift.index('static let script = #"""') + len('static let script = #"""\n')
probe = os.path.join(tempfile.mkdtemp(), "probe.py")
with open(probe, "w") as out:
    out.write(swift[start:swift.index('"""#', start)])

def top_level(text):
    tree = ast.parse(text)
    lines = text.splitlines()
    functions, tables = {}, {}
    for n in tree.body:
        start = min([n.lineno] + [d.lineno for d in getattr(n, "decorator_list", [])])
        body = "\n".join(lines[start-1:n.end_lineno])
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)):
            functions[n.name] = body
        elif isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name):
            tables[n.targets[0].id] = body
        elif isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name):
            tables[n.target.id] = body
    return functions, tables


def changed_functions(a, b):
    # The same choice as BehaviourProbe.rewrittenFunctions: rewritten, or reading an edited table.
    (fa, ta), (fb, tb) = top_level(a), top_level(b)
    edited = {name for name, text in tb.items() if ta.get(name) != text}
    reads = lambda text: any(re.search(r"(?<![A-Za-z0-9_.])" + re.escape(t) + r"(?![A-Za-z0-9_])", text) for t in edited)
    return sorted(n for n in fb if n in fa and (fa[n] != fb[n] or reads(fb[n])))

def observe(folder, module, names, roots):
    env = dict(os.environ)
    if roots: env["PYTHONPATH"] = ":".join(roots)
    r = subprocess.run(["python3", probe], input=json.dumps({"roots": roots, "targets": [{"module": module, "functions": names}]}),
                       cwd=folder, capture_output=True, text=True, env=env, timeout=120)
    seen = {}
    for line in r.stdout.splitlines():
        if line.startswith("DOER-PROBE "):
            rec = json.loads(line[11:])
            if "key" in rec: seen[rec["function"] + " " + rec["key"]] = rec
            else: print("   helper:", rec)
    if r.returncode: print("   rc", r.returncode, r.stderr[-300:])
    return seen

probed = alarms = 0
for task in tasks:
    project = projects[task["project"]]
    scratch = tempfile.mkdtemp()
    original = bt.unpack(bt.fetch_sdist(project, os.path.join(cache, "sdists")), project, os.path.join(scratch, "o"))
    old = os.path.join(cache, "tasks", task["id"], "workspace")
    new = os.path.join(scratch, "new")
    shutil.copytree(old, new, symlinks=True)
    shutil.copy(os.path.join(original, task["file"]), os.path.join(new, task["file"]))
    a, b = open(os.path.join(old, task["file"])).read(), open(os.path.join(new, task["file"])).read()
    changed = changed_functions(a, b)
    roots = [project["pythonpath"]] if project.get("pythonpath") else []
    rel = task["file"]
    for r in roots:
        if rel.startswith(r + "/"): rel = rel[len(r)+1:]
    parts = rel[:-3].split("/")
    if parts[-1] == "__init__": parts = parts[:-1]
    module = ".".join(parts)
    if not changed:
        print(task["id"], "no top-level function changed"); continue
    o = observe(old, module, changed, roots); n = observe(new, module, changed, roots)
    text = json.load(open(os.path.join(cache, "tasks", task["id"], "task.json")))["request"].lower()
    errors = any(w in text for w in ["raise", "throw", "reject", "invalid", "validat", "error", "exception"])
    # The same judgement as BehaviourProbe.regressions.
    sq = lambda t: "".join(c for c in t if not c.isspace()).replace('"', "'")
    bad = []
    for k, ob in o.items():
        if "returned" not in ob or k not in n: continue
        nb = n[k]
        doc = ob.get("documented") is not None and ob["returned"] == ob["documented"] and nb.get("returned") != ob["documented"] and sq(ob["call"]) not in sq(text)
        if doc or nb.get("timeout") or ("raised" in nb and not errors) or (nb.get("none") and not ob.get("none") and "none" not in text):
            bad.append((ob["call"], ob.get("returned"), nb))
    probed += 1 if o else 0
    alarms += 1 if bad else 0
    print(task["id"], module, changed, "calls", len(o), len(n), "REGRESSIONS" if bad else "ok", bad[:3])
    shutil.rmtree(scratch, ignore_errors=True)
print(f"{len(tasks)} reference fixes, {probed} with calls to probe, {alarms} with an alarm")
sys.exit(1 if alarms else 0)
