@testable import DoerBench
import DoerCore
import DoerSandbox
import Foundation
import Testing

@Suite("Raw bubblewrap yardstick")
struct RawBubblewrapTests {
    static let workspace = URL(fileURLWithPath: "/tmp/doer-raw-bwrap-tests-\(getpid())", isDirectory: true)

    static func raw() throws -> RawBubblewrap {
        try FileManager.default.createDirectory(at: workspace, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o755])
        return try RawBubblewrap(configuration: SandboxConfiguration(), workspace: workspace)
    }

    @Test("the same namespaces and mounts as Doer's command line, with the command in place of the init helper")
    func sameArguments() throws {
        let raw = try Self.raw()
        let line = raw.commandLine(["/bin/true"])
        let doer = BubblewrapArguments(
            workspaceSource: Self.workspace.path, workspaceWritable: true, initHelper: "/opt/doer-sandbox-init", passwdFile: nil,
            groupFile: nil, tmpSizeBytes: ResourceLimits().tmpSizeBytes, uid: SandboxConfiguration().runIdentity.uid,
            gid: SandboxConfiguration().runIdentity.gid, rootLinks: BubblewrapArguments.hostRootLinks(), readOnlyPaths: []).arguments
        #expect(line.first == raw.bwrap)
        #expect(Array(line.suffix(2)) == ["--", "/bin/true"])
        let rawArguments = Array(line.dropFirst().dropLast(2))
        // Everything Doer passes except its init helper's mount and start.
        var expected = doer
        let helper = try #require(expected.firstIndex(of: "/opt/doer-sandbox-init"))
        expected.removeSubrange((helper - 1)...(helper + 1))
        #expect(Array(expected.suffix(2)) == ["--", BubblewrapArguments.initMount])
        expected.removeLast(2)
        #expect(rawArguments == expected)
        for flag in ["--unshare-all", "--unshare-user", "--disable-userns", "--cap-drop", "--clearenv", "--remount-ro"] {
            #expect(rawArguments.contains(flag), "\(flag)")
        }
        #expect(!line.contains(BubblewrapArguments.initMount))
    }

    @Test("the script quotes every word, even one with a quote or a space in it")
    func quoting() throws {
        let script = try Self.raw().script(["/bin/echo", "it's a $HOME `x`"])
        #expect(script.hasPrefix("#!/bin/sh\nexec '"))
        #expect(script.contains(#"'it'\''s a $HOME `x`'"#))
    }

    @Test("the yardstick runs, isolated: no network, the host's home hidden, the workspace read-only to the sandbox uid")
    func runs() throws {
        guard geteuid() == 0 else { return }
        let raw = try Self.raw()
        #expect(try HostProcess.run(raw.commandLine(["/bin/true"]), identity: raw.identity) == .exited(0))
        #expect(try HostProcess.run(raw.commandLine(["/bin/false"]), identity: raw.identity) == .exited(1))
        // A yardstick that skipped the isolation would be cheaper for the wrong reason.
        let probe = "test ! -e /root/.bashrc && ! cat /proc/net/route | grep -q eth && test ! -e /.doer/init"
        #expect(try HostProcess.run(raw.commandLine(["/bin/sh", "-c", probe]), identity: raw.identity) == .exited(0))
    }

    @Test("the C yardstick compiles and prints its line")
    func helloCompiles() throws {
        guard access("/usr/bin/cc", X_OK) == 0 else { return }
        let folder = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("doer-hello-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let binary = try CLIBenchmark.compileHello(in: folder)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        process.waitUntilExit()
        #expect(String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) == "hello\n")
    }
}
