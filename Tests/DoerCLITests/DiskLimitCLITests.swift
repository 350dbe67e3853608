import Foundation
import Testing

@Suite("doer sandbox --disk")
struct DiskLimitCLITests {
    /// Fills the workspace 1 MiB at a time, then lingers: only the disk limit ends it.
    static let filler = "i=0; while dd if=/dev/zero of=f$i bs=1M count=1 2>/dev/null; do i=$((i+1)); done; echo stopped-at=$i; sleep 30"

    @Test("a run past --disk is killed and the reason is shown")
    func killedAndShown() throws {
        let dir = try TempDir()
        let out = try DoerCLI.run(["sandbox", "--disk", "8m", "--discard-changes", "--", "sh", "-c", Self.filler], in: dir.url)
        #expect(out.status == 137, "stderr: \(out.stderr)")
        #expect(out.stderr.contains("doer: killed: the run went over its disk limit (8m)"), "stderr: \(out.stderr)")
        let stoppedAt = out.stdout.split(separator: "=").last.flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        // The kill may land before the shell prints where the filling stopped (the watcher
        // sees the full disk as dd does); when it printed, it stopped at the limit.
        if let stoppedAt { #expect(stoppedAt <= 8, "stdout: \(out.stdout)") }
    }

    @Test("--json reports disk_limit_exceeded")
    func json() throws {
        let dir = try TempDir()
        let over = try DoerCLI.run(["sandbox", "--disk", "4m", "--json", "--discard-changes", "--", "sh", "-c", Self.filler], in: dir.url)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(over.stdout.utf8)) as? [String: Any], "\(over.stdout)")
        #expect(object["disk_limit_exceeded"] as? Bool == true)
        #expect((object["warnings"] as? [String])?.contains { $0.hasPrefix("killed: the run went over its disk limit (4m)") } == true)
        let under = try DoerCLI.run(["sandbox", "--disk", "4m", "--json", "--", "sh", "-c", "echo hi > small.txt"], in: dir.url)
        let fine = try #require(try JSONSerialization.jsonObject(with: Data(under.stdout.utf8)) as? [String: Any], "\(under.stdout)")
        #expect(fine["disk_limit_exceeded"] as? Bool == false)
        #expect(under.status == 0)
        #expect(FileManager.default.fileExists(atPath: dir.url.appendingPathComponent("small.txt").path))
    }

    @Test("[limits] disk in config.toml applies, and --disk lowers it for one run")
    func configuredAndLowered() throws {
        let dir = try TempDir()
        let config = dir.home.appendingPathComponent("config")
        try FileManager.default.createDirectory(at: config, withIntermediateDirectories: true)
        try "[limits]\ndisk = \"6m\"\n".write(to: config.appendingPathComponent("config.toml"), atomically: true, encoding: .utf8)
        let shown = try DoerCLI.run(["config", "show"], in: dir.url)
        #expect(shown.stdout.contains("disk = \"6m\""), "\(shown.stdout)")
        let write = "dd if=/dev/zero of=five bs=1M count=5 2>/dev/null && echo wrote"
        let configured = try DoerCLI.run(["sandbox", "--discard-changes", "--", "sh", "-c", write], in: dir.url)
        #expect(configured.stdout == "wrote\n", "stderr: \(configured.stderr)")
        let lowered = try DoerCLI.run(["sandbox", "--disk", "2m", "--discard-changes", "--", "sh", "-c", write], in: dir.url)
        #expect(lowered.stdout.isEmpty, "stdout: \(lowered.stdout)")
        #expect(lowered.stderr.contains("went over its disk limit (2m)"), "stderr: \(lowered.stderr)")
    }

    @Test("without root there is no mount: the view on disk is measured, and the run stopped soon after the limit")
    func unprivileged() throws {
        let setpriv = "/usr/bin/setpriv"
        guard geteuid() == 0, FileManager.default.isExecutableFile(atPath: setpriv) else { return }
        let dir = try TempDir()
        try FileManager.default.createDirectory(at: dir.home, withIntermediateDirectories: true)
        for path in [dir.root.path, dir.url.path, dir.home.path] { _ = chown(path, 65534, 65534) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: setpriv)
        process.arguments = ["--reuid", "65534", "--regid", "65534", "--clear-groups", DoerCLI.executable.path,
                             "sandbox", "--disk", "8m", "--discard-changes", "--", "sh", "-c", Self.filler]
        process.currentDirectoryURL = dir.url
        process.environment = ["PATH": "/usr/bin:/bin", "HOME": dir.home.path, "DOER_HOME": dir.home.path]
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 137, "stderr: \(stderr)")
        #expect(stderr.contains("doer: killed: the run went over its disk limit (8m)"), "stderr: \(stderr)")
        // Each file is 1 MiB: the files the run left in its view are what the host held.
        let files = stderr.split(separator: "\n").first { $0.contains("would change") }?.split(separator: ",").count ?? 0
        #expect(files > 8 && files <= 8 + 64, "stderr: \(stderr)")
    }

    /// Runs `doer` as uid 65534 (no mount, so the view is on the host's disk and measured by
    /// scans) in a fresh workspace; nil when this machine cannot (not root, no setpriv).
    static func unprivileged(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String, dir: TempDir)? {
        let setpriv = "/usr/bin/setpriv"
        guard geteuid() == 0, FileManager.default.isExecutableFile(atPath: setpriv) else { return nil }
        let dir = try TempDir()
        try FileManager.default.createDirectory(at: dir.home, withIntermediateDirectories: true)
        for path in [dir.root.path, dir.url.path, dir.home.path] { _ = chown(path, 65534, 65534) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: setpriv)
        process.arguments = ["--reuid", "65534", "--regid", "65534", "--clear-groups", DoerCLI.executable.path] + arguments
        process.currentDirectoryURL = dir.url
        process.environment = ["PATH": "/usr/bin:/bin", "HOME": dir.home.path, "DOER_HOME": dir.home.path]
        // stdout to a file, so neither pipe can fill while the other is read.
        let stdoutFile = dir.root.appendingPathComponent("stdout")
        FileManager.default.createFile(atPath: stdoutFile.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: stdoutFile)
        let err = Pipe()
        process.standardError = err
        try process.run()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let stdout = (try? String(contentsOf: stdoutFile, encoding: .utf8)) ?? ""
        return (process.terminationStatus, stdout, stderr, dir)
    }

    @Test("without root, files deleted but held open count toward the limit")
    func unprivilegedDeletedButOpen() throws {
        // Each file is written, kept open on a descriptor and unlinked: no scan can see it.
        let script = "cd /workspace; for i in 3 4 5 6 7 8 9; do eval \"exec $i>f$i\"; head -c 6000000 /dev/zero >&$i; rm f$i; echo held=$i; done; sleep 30"
        guard let out = try Self.unprivileged(["sandbox", "--disk", "8m", "--discard-changes", "--", "sh", "-c", script]) else { return }
        #expect(out.status == 137, "stderr: \(out.stderr)")
        #expect(out.stderr.contains("doer: killed: the run went over its disk limit (8m)"), "stderr: \(out.stderr)")
        #expect(!out.stdout.contains("held=9"), "stdout: \(out.stdout)")
    }

    @Test("without root, empty files are held to one per 4 KiB of the limit")
    func unprivilegedEmptyFiles() throws {
        let script = "cd /workspace; mkdir many; i=0; while [ $i -lt 20000 ]; do : > many/$i; i=$((i+1)); done; echo made; sleep 30"
        guard let out = try Self.unprivileged(["sandbox", "--disk", "4m", "--discard-changes", "--", "sh", "-c", script]) else { return }
        #expect(out.status == 137, "stderr: \(out.stderr)")
        #expect(out.stderr.contains("files and folders on the host's disk"), "stderr: \(out.stderr)")
        #expect(!out.stdout.contains("made"), "stdout: \(out.stdout)")
    }

    @Test("sparse files and hard links are refused at apply: they would take far more in the workspace", arguments: [
        "for i in $(seq 1 20); do truncate -s 7m sparse$i; done",
        "head -c 4000000 /dev/urandom > big; for i in $(seq 1 20); do ln big link$i; done",
    ])
    func applyFootprint(script: String) throws {
        let dir = try TempDir()
        let out = try DoerCLI.run(["sandbox", "--disk", "8m", "--", "sh", "-c", script + "; echo made"], in: dir.url)
        #expect(out.stdout == "made\n", "stderr: \(out.stderr)")
        #expect(out.status != 0, "stderr: \(out.stderr)")
        #expect(out.stderr.contains("went over its disk limit (8m): applying its changes would write"), "stderr: \(out.stderr)")
        let left = try FileManager.default.contentsOfDirectory(atPath: dir.url.path)
        #expect(left.isEmpty, "applied: \(left)")
        // Without the limit in the way, the same run applies (8 MiB is the point, not the files).
        let fine = try DoerCLI.run(["sandbox", "--disk", "1g", "--", "sh", "-c", "truncate -s 7m one; echo made"], in: dir.url)
        #expect(fine.status == 0, "stderr: \(fine.stderr)")
        #expect(FileManager.default.fileExists(atPath: dir.url.appendingPathComponent("one").path))
    }

    @Test("a compiled program's build is held to the run's --disk too: its cache is on the host's disk")
    func buildStep() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/gcc") || FileManager.default.isExecutableFile(atPath: "/usr/bin/cc") else { return }
        let dir = try TempDir(files: ["big.c": "#include <stdio.h>\nchar big[64 << 20] = {1};\nint main(void) { printf(\"%d\\n\", big[0]); return 0; }\n"])
        let staging = dir.root.appendingPathComponent("staging")
        let config = dir.home.appendingPathComponent("config")
        try FileManager.default.createDirectory(at: config, withIntermediateDirectories: true)
        try "[sandbox]\nstaging_dir = \"\(staging.path)\"\n".write(to: config.appendingPathComponent("config.toml"), atomically: true, encoding: .utf8)
        let out = try DoerCLI.run(["run", "--disk", "8m", "big.c"], in: dir.url)
        #expect(out.status != 0, "stdout: \(out.stdout) stderr: \(out.stderr)")
        #expect(out.stdout != "1\n", "the 64 MiB program was built and ran under --disk 8m")
        // Stopped by the watch, or first by the size limit on one file that comes with it.
        #expect(out.stderr.contains("disk limit (8m)") || out.stderr.contains("File size limit exceeded"), "stderr: \(out.stderr)")
        let cache = staging.appendingPathComponent("languages/c").path
        let du = Process()
        du.executableURL = URL(fileURLWithPath: "/usr/bin/du")
        du.arguments = ["-sk", cache]
        let pipe = Pipe()
        du.standardOutput = pipe
        try du.run()
        let kb = Int(String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).split(separator: "\t").first ?? "") ?? 0
        du.waitUntilExit()
        #expect(kb < 16 * 1024, "the build cache holds \(kb) KiB under an 8 MiB limit")
    }

    @Test("doer test is held to the configured disk limit, not only to --disk", arguments: ["config", "environment", "flag"])
    func doerTest(_ how: String) throws {
        // 8 MiB written by a test: fine under the default 1g, over a 4m limit.
        let dir = try TempDir(files: [
            "test_big.py": "def test_big():\n    open('big', 'wb').write(b'x' * (8 << 20))\n",
        ])
        var environment: [String: String] = [:]
        var arguments = ["test", "--json"]
        switch how {
        case "config":
            let config = dir.home.appendingPathComponent("config")
            try FileManager.default.createDirectory(at: config, withIntermediateDirectories: true)
            try "[limits]\ndisk = \"4m\"\n".write(to: config.appendingPathComponent("config.toml"), atomically: true, encoding: .utf8)
        case "environment":
            environment["DOER_DISK"] = "4m"
        default:
            arguments += ["--disk", "4m"]
        }
        let limited = try DoerCLI.run(arguments, in: dir.url, environment: environment)
        #expect(limited.status == 1, "stdout: \(limited.stdout) stderr: \(limited.stderr)")
        let other = try TempDir(files: ["test_big.py": "def test_big():\n    open('big', 'wb').write(b'x' * (8 << 20))\n"])
        let unlimited = try DoerCLI.run(["test", "--json"], in: other.url)
        #expect(unlimited.status == 0, "the same test passes under the default limit: \(unlimited.stdout) \(unlimited.stderr)")
    }

    @Test("a doer process that exits with warm sandboxes leaves none of their views mounted")
    func warmPoolAtExit() throws {
        guard geteuid() == 0 else { return }
        let dir = try TempDir()
        let staging = dir.root.appendingPathComponent("staging").path
        let config = dir.home.appendingPathComponent("config")
        try FileManager.default.createDirectory(at: config, withIntermediateDirectories: true)
        try "[sandbox]\nwarm_pool = 2\nstaging_dir = \"\(staging)\"\n"
            .write(to: config.appendingPathComponent("config.toml"), atomically: true, encoding: .utf8)
        for _ in 0..<3 {
            let out = try DoerCLI.run(["sandbox", "--disk", "8m", "--", "sh", "-c", "echo ok"], in: dir.url)
            #expect(out.stdout == "ok\n", "stderr: \(out.stderr)")
        }
        // Read to the end: procfs reports no size, and a read that trusts it stops at 4 KiB.
        let table = try #require(FileHandle(forReadingAtPath: "/proc/self/mountinfo")).readDataToEndOfFile()
        let mounted = String(decoding: table, as: UTF8.self).split(separator: "\n").filter { $0.contains(" \(staging)/") }
        #expect(mounted.isEmpty, "left mounted: \(mounted)")
    }

    @Test("a doer process that exits with a sandbox kept for another run leaves no workspace view behind")
    func keptSandboxAtExit() throws {
        let dir = try TempDir(files: ["test_ok.py": "def test_ok():\n    assert True\n"])
        let staging = dir.root.appendingPathComponent("staging").path
        let config = dir.home.appendingPathComponent("config")
        try FileManager.default.createDirectory(at: config, withIntermediateDirectories: true)
        try "[sandbox]\nstaging_dir = \"\(staging)\"\n"
            .write(to: config.appendingPathComponent("config.toml"), atomically: true, encoding: .utf8)
        let out = try DoerCLI.run(["test", "--json"], in: dir.url)
        #expect(out.status == 0, "\(out.stdout) \(out.stderr)")
        let views = ((try? FileManager.default.contentsOfDirectory(atPath: staging)) ?? []).filter { $0.hasPrefix("ws-") }
        #expect(views.isEmpty, "left in the staging folder: \(views)")
    }

    @Test("bad --disk sizes get clear errors", arguments: [
        (["--disk", "lots"], "not a size"),
        (["--disk", "0"], "--disk"),
        (["--disk", "-3m"], "--disk"),
        (["--disk", "100k"], "disk limit must be at least 1m"),
    ])
    func badSizes(arguments: [String], message: String) throws {
        let dir = try TempDir()
        let out = try DoerCLI.run(["sandbox"] + arguments + ["--", "true"], in: dir.url)
        #expect(out.status != 0)
        #expect(out.stderr.contains(message), "stderr: \(out.stderr)")
        #expect(out.stdout.isEmpty)
    }
}
