#!/usr/bin/env python3
"""Builds the repository task set for `doer bench repo` from pinned PyPI sdists.

Each task is a real project with one function left unimplemented (its docstring kept) or
one defect planted, and the project's own tests for that function kept out of the
workspace. Which tests are hidden is not written by hand: they are the tests that fail on
the changed code. A task is kept only when it is honest:

- the untouched project passes its own suite,
- the changed project fails the hidden tests,
- the workspace (changed code, hidden tests removed) passes what is left of the suite,
  which is what a real repository looks like before anyone fixes the request.

Bug reports are written the way a user writes them: a call, what it returns now, what it
should return — computed by running both versions, never typed by hand. No file or line is
named.

"Create" tasks (benchmarks/repo/create/<id>/) start from an empty workspace: a request as a
user writes it ("Create roman.py with to_roman(n) … Add tests."), hidden tests that check
every rule it states, and a reference solution the builder checks them against: a task is
kept only when the hidden tests pass with the reference and fail without it. Only the
request reaches the workspace.

Usage: build_tasks.py OUT_DIR   (downloads into OUT_DIR/sdists, checked by SHA-256)
Writes OUT_DIR/tasks/<id>/{workspace/, hidden/, task.json} and OUT_DIR/index.json.
"""
import ast
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
INDEX = "https://pypi.org/simple/{name}/"


def log(message):
    print(message, file=sys.stderr, flush=True)


def fetch_sdist(project, folder):
    path = os.path.join(folder, project["file"])
    if os.path.exists(path) and sha256(path) == project["sha256"]:
        return path
    page = urllib.request.urlopen(INDEX.format(name=project["name"]), timeout=60).read().decode()
    match = re.search(r'href="([^"]*/' + re.escape(project["file"]) + r')(#[^"]*)?"', page)
    if not match:
        raise SystemExit(f"{project['file']} is not in PyPI's index for {project['name']}")
    url = urllib.parse.urljoin(INDEX.format(name=project["name"]), match.group(1))
    data = urllib.request.urlopen(url, timeout=120).read()
    digest = hashlib.sha256(data).hexdigest()
    if digest != project["sha256"]:
        raise SystemExit(f"{project['file']}: SHA-256 {digest} is not the pinned {project['sha256']}")
    with open(path, "wb") as f:
        f.write(data)
    log(f"  downloaded {project['file']} ({len(data) // 1024} KiB, SHA-256 checked)")
    return path


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def unpack(sdist, project, into):
    with tarfile.open(sdist) as tar:
        tar.extractall(into, filter="data")
    root = os.path.join(into, project["root"])
    # Packaging leftovers a checkout would not have.
    for leftover in os.listdir(root):
        if leftover.endswith(".egg-info") or leftover == "PKG-INFO":
            shutil.rmtree(os.path.join(root, leftover), ignore_errors=True)
            if os.path.exists(os.path.join(root, leftover)):
                os.remove(os.path.join(root, leftover))
    for dirpath, dirnames, _ in os.walk(root):
        for d in list(dirnames):
            if d.endswith(".egg-info"):
                shutil.rmtree(os.path.join(dirpath, d))
                dirnames.remove(d)
    return root


def run_tests(root, project, selection=None):
    """The project's suite (or a selection of node ids); returns (passed, failed node ids)."""
    report = os.path.join(tempfile.mkdtemp(), "junit.xml")
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    if project.get("pythonpath"):
        env["PYTHONPATH"] = os.path.join(root, project["pythonpath"])
    args = selection if selection is not None else project["tests"]
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                             "--junitxml", report, *args], cwd=root, env=env,
                            capture_output=True, text=True, timeout=600)
    failed = set()
    passed = 0
    if os.path.exists(report):
        for case in ET.parse(report).getroot().iter("testcase"):
            if case.find("failure") is not None or case.find("error") is not None:
                failed.add((case.get("classname", ""), case.get("name", "")))
            elif case.find("skipped") is None:
                passed += 1
    if result.returncode not in (0, 1) and not failed:
        failed.add(("", f"pytest exited {result.returncode}: {result.stdout[-400:]}"))
    return passed, failed


def find_definition(tree, qualname):
    scope = tree.body
    node = None
    for part in qualname.split("."):
        node = next((n for n in scope if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                     and n.name == part), None)
        if node is None:
            raise SystemExit(f"no definition {qualname}")
        scope = node.body
    return node


def leave_unimplemented(path, qualname):
    """Replaces the function's body with `raise NotImplementedError`, keeping its docstring."""
    source = open(path).read()
    lines = source.splitlines(keepends=True)
    node = find_definition(ast.parse(source), qualname)
    body = node.body
    first = body[1] if ast.get_docstring(node) and len(body) > 1 else body[0]
    if ast.get_docstring(node) and len(body) == 1:
        raise SystemExit(f"{qualname} has only a docstring")
    indent = re.match(r"\s*", lines[first.lineno - 1]).group(0)
    start, end = first.lineno - 1, node.end_lineno
    lines[start:end] = [f"{indent}raise NotImplementedError\n"]
    open(path, "w").write("".join(lines))


def plant_defect(path, find, replace):
    source = open(path).read()
    if source.count(find) != 1:
        raise SystemExit(f"{path}: the defect's text occurs {source.count(find)} times, not once")
    open(path, "w").write(source.replace(find, replace))


def remove_tests(root, failed, project):
    """Removes the failing tests' definitions from the workspace's test files.

    Returns the test files touched (relative paths) and the pytest node ids to run later."""
    by_file = {}
    for classname, name in failed:
        base = name.split("[")[0]
        parts = classname.split(".")
        # classname is the module path, then the class if any: find the longest prefix that is a file.
        for cut in range(len(parts), 0, -1):
            candidate = os.path.join(*parts[:cut]) + ".py"
            if os.path.exists(os.path.join(root, candidate)):
                cls = ".".join(parts[cut:])
                by_file.setdefault(candidate, set()).add((cls, base))
                break
        else:
            raise SystemExit(f"cannot find the file of {classname}::{name}")
    nodes = []
    for relative, definitions in sorted(by_file.items()):
        path = os.path.join(root, relative)
        source = open(path).read()
        tree = ast.parse(source)
        spans = []
        for cls, base in sorted(definitions):
            node = find_definition(tree, f"{cls}.{base}" if cls else base)
            start = min([d.lineno for d in node.decorator_list] + [node.lineno])
            spans.append((start, node.end_lineno, cls))
            nodes.append(f"{relative}::{cls.replace('.', '::') + '::' if cls else ''}{base}")
        lines = source.splitlines(keepends=True)
        for start, end, cls in sorted(spans, reverse=True):
            indent = re.match(r"\s*", lines[start - 1]).group(0)
            # A class left with no statement would not parse.
            lines[start - 1:end] = [f"{indent}pass\n"] if cls else []
        open(path, "w").write("".join(lines))
        ast.parse(open(path).read())
    return sorted(by_file), sorted(set(nodes))


def observe(root, project, imports, expression):
    """What `expression` gives on the code in `root`: repr of the value, or the exception."""
    program = "\n".join(imports) + f"\ntry:\n    print(repr({expression}))\nexcept Exception as e:\n    print('raises ' + type(e).__name__ + ': ' + str(e))\n"
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    if project.get("pythonpath"):
        env["PYTHONPATH"] = os.path.join(root, project["pythonpath"])
    out = subprocess.run([sys.executable, "-c", program], cwd=root, env=env, capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise SystemExit(f"example {expression!r} did not run: {out.stderr[-400:]}")
    return out.stdout.strip()


def request_for(task, project, right, wrong):
    if task["kind"] == "implement":
        return task.get("request") or (
            f"`{task['function'].split('.')[-1]}` in {project['name']} is not implemented yet: it raises "
            f"NotImplementedError. Implement it as its docstring describes.")
    shown = wrong if wrong.startswith("raises ") else f"returns {wrong}"
    expected = right if right.startswith("raises ") else f"return {right}"
    intro = task.get("context", "")
    return f"{intro}{' ' if intro else ''}`{task['example']}` {shown}, but it should {expected}."


def build_create_tasks(out):
    """The create tasks: (record, None) for each kept, (record, why) for each rejected."""
    root = os.path.join(HERE, "create")
    for task_id in sorted(os.listdir(root)) if os.path.isdir(root) else []:
        source = os.path.join(root, task_id)
        request = open(os.path.join(source, "request.md")).read().strip()
        hidden_files = sorted(os.listdir(os.path.join(source, "hidden")))
        folder = os.path.join(out, "tasks", task_id)
        shutil.rmtree(folder, ignore_errors=True)
        os.makedirs(os.path.join(folder, "workspace"))
        shutil.copytree(os.path.join(source, "hidden"), os.path.join(folder, "hidden"))
        project = {"tests": hidden_files}
        record = {"id": task_id, "project": task_id, "version": "", "kind": "create", "request": request,
                  "hidden_tests": hidden_files, "hidden_files": hidden_files, "pythonpath": "", "suite": hidden_files,
                  "suite_passed_before": 0, "answer": {"file": ", ".join(sorted(os.listdir(os.path.join(source, "reference")))),
                                                      "function": ""}}
        scratch = tempfile.mkdtemp()
        shutil.copytree(os.path.join(source, "hidden"), scratch, dirs_exist_ok=True)
        _, failed_without = run_tests(scratch, project)
        shutil.copytree(os.path.join(source, "reference"), scratch, dirs_exist_ok=True)
        passed, failed_with = run_tests(scratch, project)
        shutil.rmtree(scratch)
        if not failed_without:
            yield record, "the hidden tests pass without the reference solution"
        elif failed_with or not passed:
            yield record, f"the reference solution fails the hidden tests: {sorted(failed_with)[:3]}"
        else:
            record["hidden_tests"] = hidden_files
            json.dump(record, open(os.path.join(folder, "task.json"), "w"), indent=1)
            yield record, None


def build(out):
    projects = {p["name"]: p for p in json.load(open(os.path.join(HERE, "projects.json")))}
    tasks = json.load(open(os.path.join(HERE, "tasks.json")))
    sdists = os.path.join(out, "sdists")
    os.makedirs(sdists, exist_ok=True)
    built, rejected = [], []
    for task in tasks:
        project = projects[task["project"]]
        log(f"{task['id']}:")
        sdist = fetch_sdist(project, sdists)
        folder = os.path.join(out, "tasks", task["id"])
        shutil.rmtree(folder, ignore_errors=True)
        os.makedirs(folder)
        scratch = tempfile.mkdtemp()
        original = unpack(sdist, project, os.path.join(scratch, "original"))
        workspace = unpack(sdist, project, os.path.join(scratch, "changed"))
        target = os.path.join(workspace, task["file"])
        if task["kind"] == "implement":
            leave_unimplemented(target, task["function"])
        else:
            plant_defect(target, task["find"], task["replace"])
        passed_before, failed_original = run_tests(original, project)
        _, failed = run_tests(workspace, project)
        failed -= failed_original  # tests the pristine sdist already fails are not the task's
        if not failed:
            rejected.append((task["id"], "no test of the project fails on the changed code"))
            log("  rejected: no test fails on the changed code")
            continue
        touched, nodes = remove_tests(workspace, failed, project)
        remaining, still_failing = run_tests(workspace, project)
        if still_failing - failed_original:
            rejected.append((task["id"], f"the workspace's remaining suite fails: {sorted(still_failing)[:3]}"))
            log(f"  rejected: remaining suite fails {sorted(still_failing)[:3]}")
            continue
        right = wrong = ""
        if task["kind"] == "bug":
            right = observe(original, project, task["imports"], task["example"])
            wrong = observe(workspace, project, task["imports"], task["example"])
            if right == wrong:
                rejected.append((task["id"], "the example gives the same on both versions"))
                log("  rejected: example does not show the defect")
                continue
        hidden = os.path.join(folder, "hidden")
        for relative in touched:
            os.makedirs(os.path.dirname(os.path.join(hidden, relative)) or hidden, exist_ok=True)
            shutil.copy2(os.path.join(original, relative), os.path.join(hidden, relative))
        shutil.copytree(workspace, os.path.join(folder, "workspace"), symlinks=True)
        record = {
            "id": task["id"], "project": project["name"], "version": project["version"], "kind": task["kind"],
            "request": request_for(task, project, right, wrong),
            "hidden_tests": nodes, "hidden_files": touched,
            "pythonpath": project.get("pythonpath", ""), "suite": project["tests"],
            "suite_passed_before": remaining,
            "answer": {"file": task["file"], "function": task.get("function", "")},
        }
        json.dump(record, open(os.path.join(folder, "task.json"), "w"), indent=1)
        built.append(record)
        shutil.rmtree(scratch)
        log(f"  {len(nodes)} hidden test(s); {remaining} of the project's tests stay in the workspace")
    for record, problem in build_create_tasks(out):
        if problem:
            rejected.append((record["id"], problem))
            log(f"{record['id']}: rejected: {problem}")
        else:
            built.append(record)
            log(f"{record['id']}: {len(record['hidden_tests'])} hidden test(s), empty workspace")
    json.dump({"tasks": [t["id"] for t in built], "rejected": rejected},
              open(os.path.join(out, "index.json"), "w"), indent=1)
    kinds = {k: sum(1 for t in built if t["kind"] == k) for k in ("implement", "bug", "create")}
    print(json.dumps({"built": len(built), "projects": len({t["project"] for t in built}), **kinds,
                      "rejected": rejected}))
    return 0 if not rejected else 1


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    sys.exit(build(os.path.abspath(sys.argv[1])))
