import DoerCore
@testable import DoerSandbox
import Foundation
import Testing

/// The sandbox's /etc is a copy bound in one mount; these pin what goes into it and that it
/// follows the host.
@Suite("staged /etc")
struct StagedEtcTests {
    /// A stand-in for the host's /etc with secrets beside the entries a sandbox may see.
    final class FakeHost: @unchecked Sendable {
        let source: ScratchWorkspace
        let staging: ScratchWorkspace

        init() throws {
            source = try ScratchWorkspace(files: [
                "ld.so.conf": "include /etc/ld.so.conf.d/*.conf\n",
                "shadow": "root:$6$secret:19000::::::\n",
                "ssl/certs/ca.pem": "CERTIFICATE\n",
                "ssl/private/key.pem": "PRIVATE KEY\n",
                "conf.d/a.conf": "/opt/lib\n",
            ])
            _ = symlink("ca.pem", source.url.appendingPathComponent("ssl/certs/0a1b2c3d.0").path)
            _ = symlink("/usr/share/zoneinfo/Etc/UTC", source.url.appendingPathComponent("localtime").path)
            staging = try ScratchWorkspace()
        }

        func staged() -> StagedEtc? {
            StagedEtc(source: source.url.path, entries: ["ld.so.conf", "ssl/certs", "conf.d", "localtime", "absent"],
                      stagingRoot: staging.url.path, name: "etc-test",
                      extraFiles: ["passwd": "doer:x:65534:65534:doer:/tmp:/bin/sh\n", "group": "doer:x:65534:\n"])
        }
    }

    static func listing(_ root: String) -> [String] {
        let enumerator = FileManager.default.enumerator(atPath: root)
        return (enumerator?.allObjects as? [String] ?? []).sorted()
    }

    static func text(_ path: String) -> String? { try? String(contentsOfFile: path, encoding: .utf8) }

    @Test("the copy holds the listed entries and the sandbox user's files, nothing else")
    func onlyListedEntries() throws {
        let host = try FakeHost()
        let etc = try #require(host.staged())
        let directory = try etc.directory()
        #expect(Self.listing(directory) == [
            "conf.d", "conf.d/a.conf", "group", "ld.so.conf", "localtime", "passwd",
            "ssl", "ssl/certs", "ssl/certs/0a1b2c3d.0", "ssl/certs/ca.pem",
        ])
        #expect(Self.text(directory + "/ssl/certs/ca.pem") == "CERTIFICATE\n")
        #expect(Self.text(directory + "/passwd") == "doer:x:65534:65534:doer:/tmp:/bin/sh\n")
        // Links stay links, pointing where they pointed on the host.
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: directory + "/ssl/certs/0a1b2c3d.0") == "ca.pem")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: directory + "/localtime") == "/usr/share/zoneinfo/Etc/UTC")
        // The sandbox's uid is another user: everything it needs must be readable by others.
        var info = stat()
        #expect(lstat(directory + "/ssl", &info) == 0 && info.st_mode & 0o005 == 0o005)
        #expect(lstat(directory + "/ld.so.conf", &info) == 0 && info.st_mode & 0o004 == 0o004)
    }

    @Test("nothing changed, or only something not copied: the same folder")
    func unchangedHostKeepsTheCopy() throws {
        let host = try FakeHost()
        let etc = try #require(host.staged())
        let first = try etc.directory()
        #expect(try etc.directory() == first)
        try host.source.write("shadow", "root:$6$other:19001::::::\n")
        try host.source.write("hostname", "box\n")
        #expect(try etc.directory() == first)
        // A second Doer process making the same copy shares it.
        #expect(try host.staged()?.directory() == first)
    }

    @Test("a file edited in place gets a new copy, and the old copy stays whole for the sandboxes using it")
    func editInPlace() throws {
        let host = try FakeHost()
        let etc = try #require(host.staged())
        let first = try etc.directory()
        let handle = try FileHandle(forWritingTo: host.source.url.appendingPathComponent("conf.d/a.conf"))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("/opt/more\n".utf8))
        try handle.close()
        let second = try etc.directory()
        #expect(second != first)
        #expect(Self.text(second + "/conf.d/a.conf") == "/opt/lib\n/opt/more\n")
        #expect(Self.text(first + "/conf.d/a.conf") == "/opt/lib\n")
    }

    @Test("a file replaced by rename, as package tools write, and a new file in a copied folder are followed")
    func replacedAndAdded() throws {
        let host = try FakeHost()
        let etc = try #require(host.staged())
        _ = try etc.directory()
        try host.source.write("ld.so.conf.new", "include /etc/other/*.conf\n")
        #expect(rename(host.source.url.appendingPathComponent("ld.so.conf.new").path,
                       host.source.url.appendingPathComponent("ld.so.conf").path) == 0)
        #expect(Self.text(try etc.directory() + "/ld.so.conf") == "include /etc/other/*.conf\n")
        try host.source.write("ssl/certs/new.pem", "NEW\n")
        #expect(Self.text(try etc.directory() + "/ssl/certs/new.pem") == "NEW\n")
        // An entry that appears later is copied too.
        try host.source.write("absent", "now here\n")
        #expect(Self.text(try etc.directory() + "/absent") == "now here\n")
    }

    @Test("a sandbox sees the copy as /etc: its own user, the host's linker files, no secrets, read-only")
    func insideTheSandbox() async throws {
        let workspace = try ScratchWorkspace()
        let result = try await TestSandboxes.sh("""
            cat /etc/passwd; test -s /etc/ld.so.cache && echo cache; ls /etc/ssl
            test -e /etc/shadow || echo no-shadow; echo x > /etc/probe 2>/dev/null || echo read-only
            """, in: workspace)
        #expect(result.termination == .exited(0), "\(result.stderr.text)")
        let lines = result.stdout.text.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("doer:x:") == true)
        #expect(Array(lines.dropFirst()) == ["cache", "certs", "no-shadow", "read-only"])
    }

    @Test("one bind of the copy for a plain shape; file by file when a toolchain mounts under /etc")
    func launcherChoosesTheBinds() throws {
        let launcher = BubblewrapLauncher(configuration: TestSandboxes.configuration)
        let staged = try #require(launcher.etc).directory()
        let workspace = try ScratchWorkspace()
        func arguments(readOnly: [String]) throws -> [String] {
            let request = ExecutionRequest(command: ["true"], workspace: workspace.url, readOnlyPaths: readOnly)
            return try launcher.spawnSpec(shape: SandboxShape(request), workspaceSource: workspace.url.path, command: ["true"],
                                          environment: [], workingDirectory: "/workspace", proxySocket: nil).arguments
        }
        let plain = try arguments(readOnly: ["/opt/swift"])
        #expect(plain.contains(staged) && !plain.contains("/etc/ld.so.cache"))
        let java = try arguments(readOnly: ["/etc/java-17-openjdk"])
        #expect(!java.contains(staged) && java.contains("/etc/ld.so.cache"))
    }
}
