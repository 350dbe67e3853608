import DoerCore
import DoerStore
import Foundation
import Testing

/// Runs the built `doer` executable as a user would, with its own DOER_HOME.
struct DoerCLI {
    static let executable: URL = {
        let exe = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? "")
        let dir = exe.deletingLastPathComponent()
        for candidate in [dir, dir.deletingLastPathComponent()] {
            let doer = candidate.appendingPathComponent("doer")
            if FileManager.default.isExecutableFile(atPath: doer.path) { return doer }
        }
        return dir.appendingPathComponent("doer")
    }()

    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func run(_ arguments: [String], in directory: URL, stdin: String? = nil,
                    environment extra: [String: String] = [:]) throws -> Output {
        let process = Self.process(arguments, in: directory, environment: extra)
        let out = Pipe(), err = Pipe(), input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        let stdoutData = out.fileHandleForReading.readDataToEndOfFile()
        let stderrData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Output(status: process.terminationStatus, stdout: String(decoding: stdoutData, as: UTF8.self),
                      stderr: String(decoding: stderrData, as: UTF8.self))
    }

    /// `doer ARGS` set up as `run` runs it, not started: for a test that reads its output as
    /// it comes or kills it.
    static func process(_ arguments: [String], in directory: URL, environment extra: [String: String] = [:]) -> Process {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = directory
        var environment = ProcessInfo.processInfo.environment
        // Beside the workspace, not in it: Doer refuses a workspace that holds its own data.
        environment["DOER_HOME"] = directory.deletingLastPathComponent().appendingPathComponent(".doer-home").path
        environment.merge(extra) { _, new in new }
        process.environment = environment
        return process
    }
}

/// A workspace (`url`) with Doer's data folder for the run beside it (`home`).
final class TempDir: @unchecked Sendable {
    let root: URL
    let url: URL
    var home: URL { root.appendingPathComponent(".doer-home") }
    init(files: [String: String] = [:]) throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("doer-cli-\(UUID().uuidString.prefix(8))")
        url = root.appendingPathComponent("work")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        for (name, content) in files {
            try Data(content.utf8).write(to: url.appendingPathComponent(name))
        }
    }
    deinit { try? FileManager.default.removeItem(at: root) }
}

@Suite("doer run")
struct RunCommandTests {
    @Test("doer --version prints the version and the commit `doer version --json` reports, as the parser does")
    func version() throws {
        let dir = FileManager.default.temporaryDirectory
        let line = try DoerCLI.run(["--version"], in: dir)
        #expect(line.status == 0 && line.stderr.isEmpty, "\(line.stderr)")
        let json = try DoerCLI.run(["version", "--json"], in: dir)
        let report = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let version = try #require(report["version"] as? String), commit = try #require(report["commit"] as? String)
        #expect(line.stdout == "doer \(version) (\(commit))\n")
        // With more arguments the parser answers, with the same line.
        let parsed = try DoerCLI.run(["--version", "--verbose"], in: dir)
        #expect(parsed.status == 0 && parsed.stdout == line.stdout, "\(parsed.stdout)\(parsed.stderr)")
    }

    @Test("runs Python with arguments and exits with the program's code")
    func python() throws {
        let dir = try TempDir(files: ["p.py": "import sys\nprint('args', sys.argv[1:])\nsys.exit(5)\n"])
        let out = try DoerCLI.run(["run", "p.py", "--", "x", "y"], in: dir.url)
        #expect(out.status == 5)
        #expect(out.stdout == "args ['x', 'y']\n")
    }

    @Test("runs a shell script and a C program")
    func shellAndC() throws {
        let dir = try TempDir(files: [
            "s.sh": "echo shell $1",
            "c.c": "#include <stdio.h>\nint main(int argc, char **argv) { printf(\"c %s\\n\", argv[1]); return 3; }\n",
        ])
        let shell = try DoerCLI.run(["run", "s.sh", "--", "ok"], in: dir.url)
        #expect(shell.stdout == "shell ok\n")
        #expect(shell.status == 0)
        let c = try DoerCLI.run(["run", "c.c", "--", "arg"], in: dir.url)
        #expect(c.stdout == "c arg\n")
        #expect(c.status == 3)
    }

    @Test("a C compile error is reported, with the compiler's message")
    func compileError() throws {
        let dir = try TempDir(files: ["bad.c": "int main( { return 0; }\n"])
        let out = try DoerCLI.run(["run", "bad.c"], in: dir.url)
        #expect(out.status != 0)
        #expect(out.stderr.contains("error"))
    }

    @Test("--json prints one machine-readable object")
    func json() throws {
        let dir = try TempDir(files: ["p.py": "print('hi')\nopen('made.txt', 'w').write('1')\n"])
        let out = try DoerCLI.run(["run", "--json", "p.py"], in: dir.url)
        #expect(out.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [String: Any])
        #expect(object["stdout"] as? String == "hi\n")
        #expect(object["exit_code"] as? Int == 0)
        #expect(object["timed_out"] as? Bool == false)
        #expect(object["backend"] as? String == "bubblewrap")
        #expect((object["duration_ms"] as? Double ?? 0) > 0)
        let changed = try #require(object["changed_files"] as? [[String: String]])
        #expect(changed.contains(["path": "made.txt", "change": "added"]))
    }

    @Test("stdin is passed through from a pipe")
    func stdin() throws {
        let dir = try TempDir(files: ["echo.py": "import sys\nprint(sys.stdin.read().upper(), end='')\n"])
        let out = try DoerCLI.run(["run", "echo.py"], in: dir.url, stdin: "quiet words")
        #expect(out.stdout == "QUIET WORDS")
    }

    @Test("--timeout kills a runaway program; the exit code is 128+9")
    func timeout() throws {
        let dir = try TempDir(files: ["loop.py": "while True: pass\n"])
        let out = try DoerCLI.run(["run", "--timeout", "1", "loop.py"], in: dir.url)
        #expect(out.status == 137)
        #expect(out.stderr.contains("time limit"))
    }

    @Test("bad inputs get clear errors", arguments: [
        (["run", "missing.py"], "no such file: missing.py"),
        (["run", "notes.xyz"], "cannot tell the language of notes.xyz"),
        (["run", "--timeout=-1", "p.py"], "--timeout must be a positive number"),
        (["run", "--memory", "lots", "p.py"], "not a size"),
        (["run", "--backend", "docker", "p.py"], "docker"),
        (["run", "--backend", "process", "p.py"], "--unsafe-no-sandbox"),
        (["sandbox"], "give the command after --"),
    ])
    func badInputs(arguments: [String], message: String) throws {
        let dir = try TempDir(files: ["p.py": "print(1)", "notes.xyz": "?"])
        let out = try DoerCLI.run(arguments, in: dir.url)
        #expect(out.status != 0)
        #expect(out.stderr.contains(message), "stderr was: \(out.stderr)")
        #expect(out.stdout.isEmpty)
    }

    @Test("a broken config file is reported with its path")
    func brokenConfig() throws {
        let dir = try TempDir(files: ["p.py": "print(1)"])
        let config = dir.home.appendingPathComponent("config")
        try FileManager.default.createDirectory(at: config, withIntermediateDirectories: true)
        try "[sandbox]\nbackend = 42\n".write(to: config.appendingPathComponent("config.toml"), atomically: true, encoding: .utf8)
        let out = try DoerCLI.run(["run", "p.py"], in: dir.url)
        #expect(out.status == 2)
        #expect(out.stderr.contains("config.toml"))
        #expect(out.stderr.contains("sandbox.backend"))
    }
}

@Suite("doer sandbox")
struct SandboxCommandTests {
    @Test("runs a command in the workspace and applies its changes")
    func exec() throws {
        let dir = try TempDir()
        let out = try DoerCLI.run(["sandbox", "--", "sh", "-c", "pwd; echo made > f.txt"], in: dir.url)
        #expect(out.status == 0)
        #expect(out.stdout == "/workspace\n")
        #expect(try String(contentsOf: dir.url.appendingPathComponent("f.txt"), encoding: .utf8) == "made\n")
    }

    @Test("--discard-changes leaves the workspace untouched")
    func discard() throws {
        let dir = try TempDir()
        let out = try DoerCLI.run(["sandbox", "--discard-changes", "--", "sh", "-c", "echo made > f.txt"], in: dir.url)
        #expect(out.status == 0)
        #expect(!FileManager.default.fileExists(atPath: dir.url.appendingPathComponent("f.txt").path))
        #expect(out.stderr.contains("would change (not applied): added f.txt"))
    }

    @Test("--workspace selects another folder")
    func workspaceFlag() throws {
        let dir = try TempDir(files: ["data.txt": "42"])
        let elsewhere = try TempDir()
        let out = try DoerCLI.run(["sandbox", "--workspace", dir.url.path, "--", "cat", "data.txt"], in: elsewhere.url)
        #expect(out.stdout == "42")
    }

    @Test("check reports every backend")
    func check() throws {
        let dir = try TempDir()
        let out = try DoerCLI.run(["sandbox", "check", "--json"], in: dir.url)
        let reports = try #require(try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [[String: Any]])
        #expect(Set(reports.compactMap { $0["backend"] as? String }) == ["bubblewrap", "gvisor", "process"])
        let bubblewrap = try #require(reports.first { $0["backend"] as? String == "bubblewrap" })
        #expect(bubblewrap["works"] as? Bool == true)
        #expect(out.status == 0)
    }
}

@Suite("doer sandbox --net")
struct SandboxNetworkCommandTests {
    @Test("a refused host is named after the run, with the remedy; the allowlist comes from config.toml too")
    func refusedHost() throws {
        let dir = try TempDir()
        let home = dir.home.appendingPathComponent("config")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        try "[network]\nallow = [\"*.listed.example\"]\n".write(to: home.appendingPathComponent("config.toml"), atomically: true, encoding: .utf8)
        let out = try DoerCLI.run(["sandbox", "--net", "allowlist", "--json", "--", "python3", "-c",
                                   "import urllib.request; urllib.request.urlopen('https://not-listed.example/', timeout=20)"], in: dir.url)
        #expect(out.status == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [String: Any])
        let decisions = try #require(object["network"] as? [[String: Any]])
        #expect(decisions.count == 1)
        #expect(decisions.first?["host"] as? String == "not-listed.example")
        #expect(decisions.first?["verdict"] as? String == "refused")
        #expect((object["stderr"] as? String)?.contains("not-listed.example is not allowed by the network policy (allowlist)") == true)

        let plain = try DoerCLI.run(["sandbox", "--net", "allowlist", "--allow", "other.example", "--", "python3", "-c",
                                     "import urllib.request; urllib.request.urlopen('https://not-listed.example/', timeout=20)"], in: dir.url)
        #expect(plain.status == 1)
        #expect(plain.stderr.contains("doer: network: refused CONNECT not-listed.example:443: not-listed.example is not allowed"), "\(plain.stderr)")
    }

    @Test("the documented command: pip installs into ./vendor through this host's registries")
    func pipInstall() throws {
        let dir = try TempDir()
        let listed = try DoerCLI.run(["sandbox", "registries", "--json"], in: dir.url)
        let object = try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [String: Any]
        guard let rows = object?["registries"] as? [[String: String]], !rows.isEmpty else {
            Issue.record("no package registry is configured on this machine: \(listed.stdout) \(listed.stderr)")
            return
        }
        let out = try DoerCLI.run(["sandbox", "--net", "registries", "--timeout", "180", "--", "pip", "install", "--no-cache-dir",
                                   "--target", "./vendor", "six"], in: dir.url)
        #expect(out.status == 0, "\(out.stdout)\n\(out.stderr)")
        #expect(FileManager.default.fileExists(atPath: dir.url.appendingPathComponent("vendor/six.py").path))
        #expect(!out.stderr.contains("doer: network: refused"), "\(out.stderr)")
    }

    @Test("registries lists what --net registries allows, with where each was found")
    func registries() throws {
        let dir = try TempDir()
        let home = dir.home.appendingPathComponent("config")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        try "[network]\nregistries = [\"mirror.example\"]\n".write(to: home.appendingPathComponent("config.toml"), atomically: true, encoding: .utf8)
        let out = try DoerCLI.run(["sandbox", "registries", "--json"], in: dir.url)
        #expect(out.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [String: Any])
        let rows = try #require(object["registries"] as? [[String: String]])
        #expect(rows.last == ["host": "mirror.example", "source": "[network] registries in config.toml"])
        #expect(rows.dropLast().allSatisfy { !($0["host"] ?? "").isEmpty && !($0["source"] ?? "").isEmpty })
    }

    @Test("--net full is announced before the run", arguments: [["sandbox", "--net", "full", "--", "true"]])
    func fullIsLoud(arguments: [String]) throws {
        let dir = try TempDir()
        let out = try DoerCLI.run(arguments, in: dir.url)
        #expect(out.status == 0)
        #expect(out.stderr.hasPrefix("doer: warning: --net full:"), "\(out.stderr)")
        #expect(out.stderr.contains("doer: full network:"), "\(out.stderr)")
    }

    @Test("bad network options are refused with what to do", arguments: [
        (["sandbox", "--allow", "example.org", "--", "true"], "--allow needs --net allowlist"),
        (["sandbox", "--net", "allowlist", "--", "true"], "--net allowlist needs hosts"),
        (["sandbox", "--net", "allowlist", "--allow", "bad host", "--", "true"], "*.example.org"),
        (["sandbox", "--net", "sometimes", "--", "true"], "sometimes"),
    ])
    func badOptions(arguments: [String], mention: String) throws {
        let dir = try TempDir()
        let out = try DoerCLI.run(arguments, in: dir.url)
        #expect(out.status != 0)
        #expect(out.stderr.contains(mention), "\(out.stderr)")
    }
}

@Suite("doer config show")
struct ConfigShowTests {
    @Test("shows the effective settings with the API key masked")
    func masked() throws {
        let dir = try TempDir()
        let out = try DoerCLI.run(["config", "show"], in: dir.url, environment: [
            "DOER_MODEL_PROVIDER": "openai", "OPENAI_API_KEY": "sk-verysecretvalue99", "OPENAI_BASE_URL": "http://127.0.0.1:1234/v1",
        ])
        #expect(out.status == 0)
        #expect(out.stdout.contains("provider = \"openai\""))
        #expect(out.stdout.contains("base_url = \"http://127.0.0.1:1234/v1\""))
        #expect(out.stdout.contains("api_key = \"sk-…99\""))
        #expect(!out.stdout.contains("verysecret"))
    }

    @Test("a profile overrides the top-level settings; an unknown one is an error")
    func profiles() throws {
        let dir = try TempDir()
        let config = dir.home.appendingPathComponent("config")
        try FileManager.default.createDirectory(at: config, withIntermediateDirectories: true)
        try """
        [model]
        temperature = 0.2

        [profiles.fast]
        model = { temperature = 0.9, parallel = 8 }
        limits = { timeout = 5 }
        """.write(to: config.appendingPathComponent("config.toml"), atomically: true, encoding: .utf8)
        let plain = try DoerCLI.run(["config", "show"], in: dir.url)
        #expect(plain.stdout.contains("temperature = 0.2"))
        let fast = try DoerCLI.run(["config", "show", "--profile", "fast"], in: dir.url)
        #expect(fast.status == 0)
        #expect(fast.stdout.contains("temperature = 0.9"))
        #expect(fast.stdout.contains("parallel = 8"))
        #expect(fast.stdout.contains("timeout = 5.0"))
        #expect(fast.stdout.contains("# profile: fast"))
        let missing = try DoerCLI.run(["config", "show", "--profile", "nope"], in: dir.url)
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("[profiles.nope]"))
    }
}

@Suite("doer exec")
struct ExecCommandTests {
    @Test("bad settings are refused before any work, with what to change", arguments: [
        (["exec", "--candidates", "0", "task"], [:], "--candidates must be 1 to 16"),
        (["exec", "--max-iterations", "100", "task"], [:], "--max-iterations must be 1 to 50"),
        (["exec", "--provider", "openai", "task"], [:], "name the model"),
        (["exec", "--provider", "anthropic", "task"], ["ANTHROPIC_API_KEY": ""], "ANTHROPIC_API_KEY"),
    ] as [([String], [String: String], String)])
    func badSettings(arguments: [String], environment: [String: String], message: String) throws {
        let dir = try TempDir()
        let out = try DoerCLI.run(arguments, in: dir.url, environment: environment)
        #expect(out.status == 2)
        #expect(out.stderr.contains(message), "stderr was: \(out.stderr)")
    }

    @Test("an unreachable model endpoint ends the run with exit 1 and the reason, touching nothing")
    func unreachableModel() throws {
        let dir = try TempDir(files: ["keep.txt": "x"])
        let out = try DoerCLI.run(["exec", "--provider", "openai", "--json", "write hello.py"], in: dir.url,
                                  environment: ["OPENAI_BASE_URL": "http://127.0.0.1:9/v1", "DOER_MODEL": "m", "OPENAI_API_KEY": "k"])
        #expect(out.status == 1)
        let lines = out.stdout.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(lines.first?["type"] as? String == "started")
        let done = try #require(lines.last)
        #expect(done["type"] as? String == "done")
        #expect(done["outcome"] as? String == "error")
        #expect((done["message"] as? String)?.contains("nothing answers at http://127.0.0.1:9/v1") == true)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.url.path).sorted() == ["keep.txt"].filter {
            FileManager.default.fileExists(atPath: dir.url.appendingPathComponent($0).path)
        })
    }
}

@Suite("doer sessions and resume")
struct SessionCommandTests {
    let unreachable = ["OPENAI_BASE_URL": "http://127.0.0.1:9/v1", "DOER_MODEL": "m", "OPENAI_API_KEY": "k"]

    @Test("every event of a run is recorded; resume continues the same session, keeping the earlier events")
    func resumeKeepsEvents() throws {
        let dir = try TempDir()
        let first = try DoerCLI.run(["exec", "--provider", "openai", "write hello.py"], in: dir.url, environment: unreachable)
        #expect(first.status == 1)
        let listed = try DoerCLI.run(["sessions"], in: dir.url)
        let line = try #require(listed.stdout.split(separator: "\n").first)
        #expect(line.contains("error"))
        #expect(line.contains("write hello.py"))
        let id = String(line.prefix(8))
        let before = try DoerCLI.run(["sessions", id, "--json"], in: dir.url).stdout.split(separator: "\n").count
        #expect(before >= 3, "started, plan, … done")

        let resumed = try DoerCLI.run(["resume", id, "--provider", "openai", "--json"], in: dir.url, environment: unreachable)
        #expect(resumed.status == 1)
        let after = try DoerCLI.run(["sessions", id, "--json"], in: dir.url).stdout.split(separator: "\n")
        #expect(after.count > before)
        #expect(after.filter { $0.contains("\"type\":\"started\"") }.count == 2)
        #expect(try DoerCLI.run(["sessions"], in: dir.url).stdout.split(separator: "\n").count == 1, "still one session")
    }

    @Test("resuming an unknown session is a clear error")
    func unknown() throws {
        let dir = try TempDir()
        let out = try DoerCLI.run(["resume", "deadbeef"], in: dir.url)
        #expect(out.status == 2)
        #expect(out.stderr.contains("no session deadbeef"))
    }
}

@Suite("doer undo")
struct UndoCommandTests {
    @Test("restores the files a session changed and records that it did; a second undo has nothing left")
    func undo() throws {
        let dir = try TempDir(files: ["app.py": "print('new')\n", "added.txt": "added by the agent"])
        let store = try SessionStore(path: dir.home.appendingPathComponent("data/doer.sqlite"))
        let session = try store.createSession(task: "change app", workspace: dir.url.path)
        try store.append(.undoPoint(WorkspaceBackup(workspace: dir.url.path, entries: [
            .init(path: "app.py", original: Data("print('old')\n".utf8), mode: 0o644),
            .init(path: "added.txt", original: nil, mode: nil),
            .init(path: "removed.txt", original: Data("was here".utf8), mode: 0o600),
        ])), to: session.id)
        try store.append(.changesApplied(files: [FileChange(path: "app.py", kind: .modified)]), to: session.id)

        let out = try DoerCLI.run(["undo"], in: dir.url)
        #expect(out.status == 0, "\(out.stderr)")
        #expect(out.stdout.contains("undid session \(session.id.prefix(8))"))
        #expect(try String(contentsOf: dir.url.appendingPathComponent("app.py"), encoding: .utf8) == "print('old')\n")
        #expect(try String(contentsOf: dir.url.appendingPathComponent("removed.txt"), encoding: .utf8) == "was here")
        #expect(!FileManager.default.fileExists(atPath: dir.url.appendingPathComponent("added.txt").path))
        #expect(try store.events(of: session.id).last == .undone(paths: ["app.py", "added.txt", "removed.txt"]))

        let again = try DoerCLI.run(["undo"], in: dir.url)
        #expect(again.status == 2)
        #expect(again.stderr.contains("no session has applied changes left to undo"))
    }

    @Test("undo refuses to write through a link that now stands where a folder was")
    func noFollow() throws {
        let dir = try TempDir()
        let outside = try TempDir()
        try FileManager.default.createSymbolicLink(atPath: dir.url.appendingPathComponent("sub").path, withDestinationPath: outside.url.path)
        let store = try SessionStore(path: dir.home.appendingPathComponent("data/doer.sqlite"))
        let session = try store.createSession(task: "t", workspace: dir.url.path)
        try store.append(.undoPoint(WorkspaceBackup(workspace: dir.url.path, entries: [
            .init(path: "sub/file.txt", original: Data("x".utf8), mode: 0o644),
        ])), to: session.id)
        let out = try DoerCLI.run(["undo", String(session.id.prefix(8))], in: dir.url)
        #expect(out.status == 2)
        #expect(!FileManager.default.fileExists(atPath: outside.url.appendingPathComponent("file.txt").path))
    }
}
