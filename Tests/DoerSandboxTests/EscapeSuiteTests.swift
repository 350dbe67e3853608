// The escape suite: every item of "Checklist the escape suite must try" in SANDBOX.md,
// tried from inside a bubblewrap sandbox with the syscall made directly (Python ctypes or a
// small C program compiled inside the sandbox), and checked from the host wherever the
// escape would leave a trace there. Each probe prints `key=VERDICT` lines (an errno name or
// OK) and the tests assert the specific refusal, so a missing protection makes them fail.

import DoerCore
@testable import DoerSandbox
import Foundation
import Testing

// MARK: - Probe machinery

enum EscapeProbe {
    /// Prepended to every Python probe: `sc(nr, *args)` makes a raw syscall and returns
    /// "OK" or the errno name; `say` prints one verdict; `attempt` runs a callable.
    static let pythonPrelude = #"""
    import ctypes, errno, os, socket, sys, time
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    def errname(e):
        return errno.errorcode.get(e, str(e))
    def sc(nr, *args):
        ctypes.set_errno(0)
        r = libc.syscall(ctypes.c_long(nr), *[ctypes.c_long(a) for a in args])
        return "OK" if r >= 0 else errname(ctypes.get_errno())
    def say(key, value):
        print(f"{key}={value}", flush=True)
    def attempt(key, fn):
        try:
            fn()
            say(key, "OK")
        except OSError as e:
            say(key, errname(e.errno) if e.errno else type(e).__name__)

    """#

    /// Prepended to every C probe: `say(key, result)` prints OK or the errno name.
    static let cPrelude = #"""
    #define _GNU_SOURCE
    #include <errno.h>
    #include <fcntl.h>
    #include <sched.h>
    #include <signal.h>
    #include <stdint.h>
    #include <stdio.h>
    #include <stdlib.h>
    #include <string.h>
    #include <sys/mount.h>
    #include <sys/prctl.h>
    #include <sys/ptrace.h>
    #include <sys/stat.h>
    #include <sys/syscall.h>
    #include <sys/uio.h>
    #include <sys/wait.h>
    #include <unistd.h>
    static void say(const char *key, long r) {
        int e = errno;
        printf("%s=%s\n", key, r >= 0 ? "OK" : strerrorname_np(e));
        fflush(stdout);
    }

    """#

    static let defaultLimits = ResourceLimits(wallClockSeconds: 20)

    /// The probes use x86_64 syscall numbers, ioctl values and assembly.
    static var isX86_64: Bool {
        #if arch(x86_64)
        return true
        #else
        return false
        #endif
    }

    /// Runs `body` (after the prelude) as /workspace/probe.py.
    static func python(_ body: String, arguments: String = "", in workspace: ScratchWorkspace? = nil,
                       limits: ResourceLimits = defaultLimits, mode: SandboxMode = .workspaceWrite,
                       network: NetworkPolicy = .none) async throws -> ExecutionResult {
        let ws = try workspace ?? ScratchWorkspace()
        try ws.write("probe.py", pythonPrelude + body)
        return trace(try await TestSandboxes.sh("exec python3 probe.py \(arguments)", in: ws, limits: limits, mode: mode,
                                                network: network), String(body.prefix(120)))
    }

    /// Compiles `body` (after the prelude) to /tmp/probe inside the sandbox and execs it, so
    /// the probe is the direct child of the sandbox's init and its signal is the result.
    static func c(_ body: String, arguments: String = "", flags: String = "", in workspace: ScratchWorkspace? = nil,
                  limits: ResourceLimits = defaultLimits) async throws -> ExecutionResult {
        let ws = try workspace ?? ScratchWorkspace()
        try ws.write("probe.c", cPrelude + body)
        return trace(try await TestSandboxes.sh("gcc -O1 -w \(flags) -o /tmp/probe probe.c && exec /tmp/probe \(arguments)",
                                                in: ws, limits: limits), String(body.prefix(120)))
    }

    /// With DOER_ESCAPE_VERBOSE set, every probe's output is printed (for reviewing probes).
    static func trace(_ result: ExecutionResult, _ label: String) -> ExecutionResult {
        if ProcessInfo.processInfo.environment["DOER_ESCAPE_VERBOSE"] != nil {
            print("=== \(label)\n\(result.escapeLog().rawValue)")
        }
        return result
    }

    /// A secret in the test process's environment for the sandbox to try to see: put there by
    /// scripts/swift-test.sh before the bundle starts (setenv while other threads start
    /// processes is not safe), or once here when the bundle was started some other way.
    static let hostSecret: (name: String, value: String) = {
        let name = "DOER_ESCAPE_SECRET_TOKEN"
        if let value = getenv(name).map({ String(cString: $0) }), value.hasPrefix("doer-escape-") { return (name, value) }
        let secret = (name: name, value: marker("envsecret"))
        setenv(secret.name, secret.value, 1)
        return secret
    }()

    static func marker(_ label: String) -> String {
        "doer-escape-\(label)-\(UUID().uuidString.prefix(8).lowercased())"
    }
}

extension ExecutionResult {
    /// `key=value` lines of stdout.
    var escapeVerdicts: [String: String] {
        var result: [String: String] = [:]
        for line in stdout.text.split(separator: "\n") {
            guard let eq = line.firstIndex(of: "=") else { continue }
            result[String(line[..<eq])] = String(line[line.index(after: eq)...])
        }
        return result
    }

    /// Everything the probe said, for failure messages, after `note`.
    func escapeLog(_ note: String = "") -> Comment {
        Comment(rawValue: (note.isEmpty ? "" : note + "\n") + "termination: \(termination) timedOut: \(timedOut) memoryKilled: \(memoryKilled) warnings: \(warnings)\n"
            + "stdout:\n\(stdout.text.prefix(3000))\nstderr:\n\(stderr.text.prefix(3000))")
    }
}

/// Facts read on the host, to check that what a probe saw or did never reached it.
enum EscapeHost {
    static func read(_ path: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    /// Non-empty lines of the host's /etc/shadow (the tests run as root).
    static var shadowLines: [String] {
        (read("/etc/shadow") ?? "").split(separator: "\n").map(String.init).filter { $0.count > 4 }
    }

    /// Host pids whose command line contains `marker`.
    static func processes(containing marker: String) -> [Int32] {
        let own = getpid()
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { Int32($0) }.filter { pid in
            guard pid != own, let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            return String(decoding: data, as: UTF8.self).contains(marker)
        }
    }

    /// Waits up to `seconds` for every process carrying `marker` to be gone; returns the survivors.
    static func survivors(of marker: String, within seconds: Double = 3) async -> [Int32] {
        let deadline = Date().addingTimeInterval(seconds)
        var found = processes(containing: marker)
        while !found.isEmpty && Date() < deadline {
            try? await Task.sleep(for: .milliseconds(100))
            found = processes(containing: marker)
        }
        return found
    }

    /// A listening abstract unix socket named `name` on the host.
    static func listenAbstract(_ name: String) -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return -1 }
        let (address, length) = abstractAddress(name)
        var addr = address
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0, listen(fd, 16) == 0 else { close(fd); return -1 }
        return fd
    }

    /// Connects from the host; true when the listener accepted.
    static func connectAbstract(_ name: String) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let (address, length) = abstractAddress(name)
        var addr = address
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, length) }
        } == 0
    }

    /// Accepts one pending connection, if any; true when something had connected.
    static func acceptPending(_ fd: Int32) -> Bool {
        let client = accept(fd, nil, nil)
        if client >= 0 { close(client); return true }
        return false
    }

    private static func abstractAddress(_ name: String) -> (sockaddr_un, socklen_t) {
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(name.utf8.prefix(100))
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            raw[0] = 0
            for (index, byte) in bytes.enumerated() { raw[index + 1] = byte }
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + 1 + bytes.count)
        return (addr, length)
    }

    /// Abstract socket names the host already has (`@name` in /proc/net/unix).
    static var abstractSocketNames: [String] {
        guard let table = read("/proc/net/unix") else { return [] }
        return table.split(separator: "\n").dropFirst().compactMap { line in
            guard let path = line.split(separator: " ", omittingEmptySubsequences: true).last, path.hasPrefix("@") else { return nil }
            let name = String(path.dropFirst())
            return name.isEmpty || name.contains("'") ? nil : name
        }
    }
}

// MARK: - 1. Terminal injection

@Suite("escape suite 1: terminal injection (TIOCSTI / TIOCLINUX)", .enabled(if: EscapeProbe.isX86_64, "the probes use x86_64 syscall numbers"))
struct EscapeTerminalTests {
    /// Opens a pty, makes it the probe's controlling terminal (where TIOCSTI works without
    /// the filter), and tries each request. TIOCGWINSZ shows the terminal itself is usable.
    static func ptyProbe(_ requests: [(String, UInt64)]) -> String {
        let list = requests.map { "(\"\($0.0)\", \(String(format: "0x%llx", $0.1)))" }.joined(separator: ", ")
        return #"""
        import fcntl, termios
        master, slave = os.openpty()
        pid = os.fork()
        if pid == 0:
            os.setsid()
            fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
            ch = ctypes.c_char(b'x')
            say("winsz", sc(16, slave, 0x5413, ctypes.addressof(ctypes.create_string_buffer(8))))
            for label, request in [\#(list)]:
                say(label, sc(16, slave, request, ctypes.addressof(ch)))
            os._exit(0)
        os.waitpid(pid, 0)
        """#
    }

    @Test("TIOCSTI on the sandbox's own controlling terminal is refused")
    func tiocsti() async throws {
        let r = try await EscapeProbe.python(Self.ptyProbe([("tiocsti", 0x5412)]))
        let v = r.escapeVerdicts
        #expect(v["winsz"] == "OK", r.escapeLog())
        #expect(v["tiocsti"] == "EPERM", r.escapeLog())
    }

    @Test("TIOCSTI with high bits set is refused")
    func tiocstiHighBits() async throws {
        let r = try await EscapeProbe.python(Self.ptyProbe([
            ("hi32", 0x1_0000_5412), ("hiall", 0xffff_ffff_0000_5412), ("hitop", 0x8000_0000_0000_5412),
        ]))
        let v = r.escapeVerdicts
        #expect(v["winsz"] == "OK", r.escapeLog())
        for key in ["hi32", "hiall", "hitop"] { #expect(v[key] == "EPERM", r.escapeLog("\(key)")) }
    }

    @Test("TIOCLINUX with and without high bits is refused")
    func tioclinux() async throws {
        let r = try await EscapeProbe.python(Self.ptyProbe([("plain", 0x541C), ("hi32", 0x1_0000_541C), ("hiall", 0xffff_ffff_0000_541C)]))
        let v = r.escapeVerdicts
        // Without the filter a pty answers TIOCLINUX with ENOTTY, so EPERM is the filter's.
        for key in ["plain", "hi32", "hiall"] { #expect(v[key] == "EPERM", r.escapeLog("\(key)")) }
    }

    @Test("the sandbox has no terminal of the host: stdio are not ttys, /dev/tty cannot be opened")
    func noHostTerminal() async throws {
        let r = try await EscapeProbe.python(#"""
        ch = ctypes.c_char(b'x')
        for fd in (0, 1, 2):
            say(f"isatty{fd}", os.isatty(fd))
            say(f"sti{fd}", sc(16, fd, 0x5412, ctypes.addressof(ch)))
        attempt("devtty", lambda: os.open("/dev/tty", os.O_RDWR))
        """#)
        let v = r.escapeVerdicts
        for fd in 0...2 {
            #expect(v["isatty\(fd)"] == "False", r.escapeLog())
            #expect(v["sti\(fd)"] == "EPERM", r.escapeLog())
        }
        #expect(v["devtty"] == "ENXIO", r.escapeLog())
    }
}

// MARK: - 2. Nested namespaces and peeling off mounts

@Suite("escape suite 2: nested namespaces and mounts", .enabled(if: EscapeProbe.isX86_64, "the probes use x86_64 syscall numbers"))
struct EscapeNamespaceTests {
    @Test("unshare -U is refused")
    func unshareUser() async throws {
        let ws = try ScratchWorkspace()
        let r = try await TestSandboxes.sh("unshare -U id -u; echo rc=$?", in: ws)
        #expect(r.escapeVerdicts["rc"] == "1", r.escapeLog())
        #expect(r.stderr.text.contains("Operation not permitted"), r.escapeLog())
    }

    @Test("unshare -m and unshare -Urm are refused")
    func unshareMount() async throws {
        let ws = try ScratchWorkspace()
        let r = try await TestSandboxes.sh(
            "unshare -m true; echo m=$?; unshare -Urm mount -t tmpfs none /usr; echo urm=$?; unshare -n true; echo n=$?", in: ws)
        let v = r.escapeVerdicts
        #expect(v["m"] == "1", r.escapeLog())
        #expect(v["urm"] == "1", r.escapeLog())
        #expect(v["n"] == "1", r.escapeLog())
    }

    @Test("clone with CLONE_NEWUSER or any other namespace flag is refused, also with high bits set")
    func cloneNamespaces() async throws {
        let r = try await EscapeProbe.c(#"""
        static void try_clone(const char *key, unsigned long flags) {
            long r = syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
            if (r == 0) _exit(0);
            if (r > 0) waitpid((pid_t)r, NULL, 0);
            say(key, r);
        }
        int main(void) {
            try_clone("plain", 0);
            try_clone("newuser", CLONE_NEWUSER);
            try_clone("newns", CLONE_NEWNS);
            try_clone("newpid", CLONE_NEWPID);
            try_clone("newnet", CLONE_NEWNET);
            try_clone("newuts", CLONE_NEWUTS);
            try_clone("newipc", CLONE_NEWIPC);
            try_clone("newcgroup", CLONE_NEWCGROUP);
            try_clone("newuser_hi", CLONE_NEWUSER | (1UL << 32));
            return 0;
        }
        """#)
        let v = r.escapeVerdicts
        #expect(v["plain"] == "OK", r.escapeLog("control: a plain clone works"))
        for key in ["newuser", "newns", "newpid", "newnet", "newuts", "newipc", "newcgroup", "newuser_hi"] {
            #expect(v[key] == "EPERM", r.escapeLog("\(key)"))
        }
    }

    @Test("clone3 is unavailable, with and without namespace flags")
    func clone3() async throws {
        let r = try await EscapeProbe.c(#"""
        struct args3 { uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls; };
        static void try_clone3(const char *key, uint64_t flags) {
            struct args3 a; memset(&a, 0, sizeof a);
            a.flags = flags; a.exit_signal = SIGCHLD;
            long r = syscall(SYS_clone3, &a, sizeof a);
            if (r == 0) _exit(0);
            if (r > 0) waitpid((pid_t)r, NULL, 0);
            say(key, r);
        }
        int main(void) {
            try_clone3("plain", 0);
            try_clone3("newuser", CLONE_NEWUSER);
            try_clone3("newns", CLONE_NEWNS | CLONE_NEWPID);
            return 0;
        }
        """#)
        let v = r.escapeVerdicts
        for key in ["plain", "newuser", "newns"] { #expect(v[key] == "ENOSYS", r.escapeLog("\(key)")) }
    }

    @Test("mount, umount and the new mount API cannot peel off the read-only binds")
    func peelMounts() async throws {
        let marker = EscapeProbe.marker("usr")
        let r = try await EscapeProbe.c(#"""
        int main(void) {
            say("umount_usr", umount2("/usr", MNT_DETACH));
            say("umount_ws", umount2("/workspace", MNT_DETACH));
            say("remount_usr_rw", mount(NULL, "/usr", NULL, MS_REMOUNT | MS_BIND, NULL));
            say("remount_root_rw", mount(NULL, "/", NULL, MS_REMOUNT, NULL));
            say("mount_tmpfs", mount("none", "/tmp", "tmpfs", 0, NULL));
            say("bind_over_usr", mount("/workspace", "/usr", NULL, MS_BIND, NULL));
            say("fsopen", syscall(SYS_fsopen, "tmpfs", 0));
            say("open_tree", syscall(SYS_open_tree, AT_FDCWD, "/usr", 1 /* OPEN_TREE_CLONE */));
            say("mount_setattr", syscall(SYS_mount_setattr, AT_FDCWD, "/usr", 0, NULL, 0));
            say("move_mount", syscall(SYS_move_mount, AT_FDCWD, "/workspace", AT_FDCWD, "/usr", 0));
            say("pivot_root", syscall(SYS_pivot_root, "/tmp", "/tmp"));
            say("chroot", chroot("/tmp"));
            say("write_usr", open("/usr/\#(marker)", O_WRONLY | O_CREAT, 0644));
            say("write_usr_bin", open("/usr/bin/\#(marker)", O_WRONLY | O_CREAT, 0644));
            return 0;
        }
        """#)
        let v = r.escapeVerdicts
        for key in ["umount_usr", "umount_ws", "remount_usr_rw", "remount_root_rw", "mount_tmpfs", "bind_over_usr",
                    "fsopen", "open_tree", "mount_setattr", "move_mount", "pivot_root", "chroot"] {
            #expect(v[key] == "EPERM", r.escapeLog("\(key)"))
        }
        #expect(v["write_usr"] == "EROFS", r.escapeLog())
        #expect(v["write_usr_bin"] == "EROFS", r.escapeLog())
        #expect(!EscapeHost.exists("/usr/\(marker)"))
        #expect(!EscapeHost.exists("/usr/bin/\(marker)"))
    }

    @Test("setns into the namespaces of pid 1 is refused")
    func setns() async throws {
        let r = try await EscapeProbe.c(#"""
        int main(void) {
            const char *kinds[] = { "user", "mnt", "pid", "net", "ipc", "uts", "cgroup" };
            for (int i = 0; i < 7; i++) {
                char path[64], key[32];
                snprintf(path, sizeof path, "/proc/1/ns/%s", kinds[i]);
                int fd = open(path, O_RDONLY);
                snprintf(key, sizeof key, "setns_%s", kinds[i]);
                say(key, fd < 0 ? fd : syscall(SYS_setns, fd, 0));
            }
            return 0;
        }
        """#)
        for kind in ["user", "mnt", "pid", "net", "ipc", "uts", "cgroup"] {
            // EACCES: /proc/1 (doer-sandbox-init, not dumpable) cannot even be opened.
            #expect(["EPERM", "EACCES"].contains(r.escapeVerdicts["setns_\(kind)"]), r.escapeLog("\(kind)"))
        }
    }
}

// MARK: - 3. Privilege

@Suite("escape suite 3: privilege", .enabled(if: EscapeProbe.isX86_64, "the probes use x86_64 syscall numbers"))
struct EscapePrivilegeTests {
    @Test("no capabilities, no new privileges, seccomp filter on, unprivileged uid")
    func capabilities() async throws {
        let ws = try ScratchWorkspace()
        let r = try await TestSandboxes.sh(
            "grep -E '^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs|Seccomp|Uid|Gid):' /proc/self/status | tr -s '\\t' ' ' | sed 's/: /=/'",
            in: ws)
        let v = r.escapeVerdicts
        for cap in ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"] {
            #expect(v[cap] == "0000000000000000", r.escapeLog("\(cap)"))
        }
        #expect(v["NoNewPrivs"] == "1", r.escapeLog())
        #expect(v["Seccomp"] == "2", r.escapeLog())
        #expect(v["Uid"]?.split(separator: " ").allSatisfy { $0 != "0" } == true, r.escapeLog())
    }

    @Test("/etc/shadow and other host secrets are unreadable by any path")
    func shadow() async throws {
        let r = try await EscapeProbe.python(#"""
        paths = ["/etc/shadow", "/etc/gshadow", "/proc/1/root/etc/shadow", "/proc/self/root/etc/shadow",
                 "/etc/sudoers", "/etc/ssh/ssh_host_ed25519_key", "/etc/ssh/ssh_host_rsa_key"]
        for i, p in enumerate(paths):
            def read(p=p):
                sys.stdout.write(open(p).read())
            attempt(f"read{i}", read)
        """#)
        let v = r.escapeVerdicts
        for index in 0..<7 {
            // /proc/1/root belongs to doer-sandbox-init, which is not dumpable: EACCES.
            let expected = index == 2 ? ["EACCES", "ENOENT"] : ["ENOENT"]
            #expect(expected.contains(v["read\(index)"] ?? ""), r.escapeLog("path \(index)"))
        }
        for line in EscapeHost.shadowLines {
            #expect(!r.stdout.text.contains(line), "a line of the host's /etc/shadow leaked")
        }
    }

    @Test("mount -t tmpfs none /mnt fails")
    func mountCommand() async throws {
        let ws = try ScratchWorkspace()
        let r = try await TestSandboxes.sh(
            "mount -t tmpfs none /mnt; echo rc=$?; mount -t tmpfs none /tmp; echo rc2=$?; grep -c ' /mnt ' /proc/self/mounts; true", in: ws)
        #expect(r.escapeVerdicts["rc"] == "32", r.escapeLog())
        #expect(r.escapeVerdicts["rc2"] == "32", r.escapeLog())
        #expect(r.stdout.text.hasSuffix("0\n"), r.escapeLog())
    }

    @Test("setuid-root binaries of the system run without privilege")
    func setuidSystemBinaries() async throws {
        // A preloaded library reports the effective uid. A setuid exec that raised
        // privileges would run in secure mode, where ld.so ignores LD_PRELOAD (no line) or
        // the uid would be 0.
        let ws = try ScratchWorkspace(files: ["preload.c": #"""
        #include <stdio.h>
        #include <unistd.h>
        __attribute__((constructor)) static void report(void) {
            char comm[32] = {0};
            FILE *f = fopen("/proc/self/comm", "r");
            if (f) { if (fgets(comm, sizeof comm, f)) { for (char *c = comm; *c; c++) if (*c == '\n') *c = 0; } fclose(f); }
            printf("euid_%s=%d\n", comm, (int)geteuid());
            fflush(stdout);
        }
        """#])
        let programs = ["su", "mount", "passwd", "chfn", "gpasswd"]
        let runs = programs.map { "LD_PRELOAD=/tmp/preload.so /usr/bin/\($0) --version 2>/dev/null </dev/null | grep euid_" }
        let r = try await TestSandboxes.sh(
            "gcc -shared -fPIC -o /tmp/preload.so preload.c && for p in \(programs.joined(separator: " ")); do test -u /usr/bin/$p && echo suid_$p=yes; done; "
                + runs.joined(separator: "; ") + "; true", in: ws)
        let v = r.escapeVerdicts
        var checked = 0
        for program in programs where v["suid_\(program)"] == "yes" {
            checked += 1
            #expect(v["euid_\(program)"] == "65534", r.escapeLog("\(program)"))
        }
        #expect(checked >= 2, r.escapeLog("expected setuid binaries in /usr/bin to try"))
    }

    @Test("a setuid-root file left in the workspace runs as the sandbox user")
    func setuidInWorkspace() async throws {
        let ws = try ScratchWorkspace()
        let file = ws.url.appendingPathComponent("suid-id").path
        try FileManager.default.copyItem(atPath: "/usr/bin/id", toPath: file)
        #expect(chown(file, 0, 0) == 0)
        #expect(chmod(file, 0o6755) == 0)
        let r = try await TestSandboxes.sh("echo euid=$(./suid-id -u); echo mode=$(stat -c %a suid-id)", in: ws)
        #expect(r.escapeVerdicts["euid"] == "65534", r.escapeLog())
        #expect(r.escapeVerdicts["mode"].map { $0.count == 3 } == true, r.escapeLog("setuid bit visible inside"))
    }

    @Test("no run can make a setuid or setgid file: chmod, install, cp -p, open(O_CREAT) and mknod are refused")
    func noSetuidFiles() async throws {
        let ws = try ScratchWorkspace()
        // Each way leaves a file; its mode, read inside the sandbox, must carry neither bit.
        let r = try await TestSandboxes.sh("""
            cp /usr/bin/id a; chmod 4755 a 2>/dev/null; echo a=$(stat -c %a a)
            cp /usr/bin/id b; chmod u+s,g+s b 2>/dev/null; echo b=$(stat -c %a b)
            install -m 6755 /usr/bin/id c 2>/dev/null; echo c=$(stat -c %a c 2>/dev/null || echo none)
            python3 -c 'import os; os.close(os.open("d", os.O_CREAT | os.O_WRONLY, 0o4755))' 2>/dev/null; echo d=$(stat -c %a d 2>/dev/null || echo none)
            python3 -c 'import os, stat; os.mknod("e", stat.S_IFREG | 0o2755)' 2>/dev/null; echo e=$(stat -c %a e 2>/dev/null || echo none)
            python3 -c 'import os; f = os.open("f", os.O_CREAT | os.O_WRONLY, 0o755); os.fchmod(f, 0o4755)' 2>/dev/null; echo f=$(stat -c %a f)
            cp /usr/bin/id g; chmod 0755 g && echo plain=$(stat -c %a g)
            """, in: ws)
        let v = r.escapeVerdicts
        for name in ["a", "b", "c", "d", "e", "f"] {
            let mode = v[name] ?? "missing"
            #expect(mode == "none" || mode.count == 3, r.escapeLog("\(name): no special bit"))
        }
        #expect(v["plain"] == "755", r.escapeLog("a plain chmod still works"))
    }
}

// MARK: - 4. /proc and /sys

@Suite("escape suite 4: /proc and /sys", .enabled(if: EscapeProbe.isX86_64, "the probes use x86_64 syscall numbers"))
struct EscapeProcTests {
    @Test("host processes are invisible in /proc")
    func hostProcessesInvisible() async throws {
        let hostRunner = (EscapeHost.read("/proc/self/cmdline") ?? "").split(separator: "\0").first.map(String.init) ?? ""
        let hostInit = (EscapeHost.read("/proc/1/cmdline") ?? "").split(separator: "\0").first.map(String.init) ?? ""
        let r = try await EscapeProbe.python(#"""
        pids = [p for p in os.listdir("/proc") if p.isdigit()]
        say("count", len(pids))
        for p in pids:
            try:
                print("cmd", p, open(f"/proc/{p}/cmdline", "rb").read().replace(b"\0", b" ").decode(errors="replace"), flush=True)
            except OSError as e:
                print("cmd", p, "error", e.errno, flush=True)
        say("host_pid_visible", os.path.exists(f"/proc/{\#(getpid())}/cmdline") and "\#(hostRunner.suffix(40))" in open(f"/proc/{\#(getpid())}/cmdline").read())
        """#)
        let count = Int(r.escapeVerdicts["count"] ?? "") ?? 999
        #expect(count <= 6, r.escapeLog("only the sandbox's own few processes"))
        #expect(r.escapeVerdicts["host_pid_visible"] == "False", r.escapeLog())
        #expect(!hostRunner.isEmpty && !r.stdout.text.contains(hostRunner), r.escapeLog())
        if !hostInit.isEmpty { #expect(!r.stdout.text.contains(hostInit), r.escapeLog()) }
    }

    @Test("pid 1 is the sandbox's own; the host's /proc/1/environ is unreachable")
    func pidOne() async throws {
        let secret = EscapeProbe.hostSecret.value
        let hostInit = (EscapeHost.read("/proc/1/cmdline") ?? "").split(separator: "\0").first.map(String.init) ?? ""
        let hostEnviron = EscapeHost.read("/proc/1/environ") ?? ""
        let r = try await EscapeProbe.python(#"""
        print("pid1", open("/proc/1/cmdline", "rb").read().split(b"\0")[0].decode(), flush=True)
        for pid in ("1", "2"):
            try:
                print("environ", pid, open(f"/proc/{pid}/environ", "rb").read().replace(b"\0", b" ").decode(errors="replace"), flush=True)
            except OSError as e:
                say(f"environ{pid}", errname(e.errno))
        """#)
        #expect(!r.stdout.text.contains("pid1 \(hostInit)\n") || hostInit.hasSuffix("bwrap"), r.escapeLog())
        #expect(r.stdout.text.contains("pid1 /usr/bin/bwrap") || r.stdout.text.contains("pid1 /.doer/init"), r.escapeLog())
        #expect(!r.stdout.text.contains(secret), r.escapeLog())
        #expect(!r.stdout.text.contains("HOME=/root"), r.escapeLog())
        for entry in hostEnviron.split(separator: "\0") where entry.count > 8 {
            #expect(!r.stdout.text.contains(String(entry)), "host pid 1 environment leaked")
        }
    }

    @Test("/sys is not mounted")
    func sysAbsent() async throws {
        let r = try await EscapeProbe.python(#"""
        for i, p in enumerate(["/sys", "/sys/fs/cgroup", "/sys/kernel/security", "/sys/firmware", "/sys/class/net", "/sys/kernel/debug"]):
            attempt(f"sys{i}", lambda p=p: os.stat(p))
        """#)
        for index in 0..<6 { #expect(r.escapeVerdicts["sys\(index)"] == "ENOENT", r.escapeLog("\(index)")) }
    }

    @Test("kernel tunables in /proc/sys and sysrq cannot be changed")
    func procSysReadOnly() async throws {
        let before = EscapeHost.read("/proc/sys/kernel/core_pattern")
        let r = try await EscapeProbe.python(#"""
        targets = {"core_pattern": "/proc/sys/kernel/core_pattern", "hostname": "/proc/sys/kernel/hostname",
                   "drop_caches": "/proc/sys/vm/drop_caches", "sysrq": "/proc/sysrq-trigger",
                   "modprobe": "/proc/sys/kernel/modprobe", "maxuserns": "/proc/sys/user/max_user_namespaces"}
        for key, path in targets.items():
            def write(path=path):
                with open(path, "w") as f:
                    f.write("|/tmp/pwn %p\n")
            attempt(key, write)
        """#)
        for key in ["core_pattern", "hostname", "drop_caches", "sysrq", "modprobe", "maxuserns"] {
            let verdict = r.escapeVerdicts[key]
            #expect(verdict == "EACCES" || verdict == "EROFS" || verdict == "ENOENT" || verdict == "EPERM", r.escapeLog("\(key)"))
        }
        #expect(EscapeHost.read("/proc/sys/kernel/core_pattern") == before)
    }

    @Test("kernel memory, logs, addresses and host disks stay hidden")
    func kernelHidden() async throws {
        let r = try await EscapeProbe.python(#"""
        for key, path in {"kcore": "/proc/kcore", "kmsg": "/proc/kmsg", "devkmsg": "/dev/kmsg", "mem": "/dev/mem",
                          "kmem": "/dev/kmem", "port": "/dev/port", "vda": "/dev/vda", "sda": "/dev/sda",
                          "vsock": "/dev/vsock", "kvm": "/dev/kvm", "fuse": "/dev/fuse"}.items():
            attempt(key, lambda path=path: os.close(os.open(path, os.O_RDONLY)))
        addresses = set(line.split()[0] for line in open("/proc/kallsyms") if line.strip())
        say("kallsyms_nonzero", len(addresses - {"0000000000000000"}))
        """#)
        let v = r.escapeVerdicts
        for key in ["kcore", "devkmsg", "mem", "kmem", "port", "vda", "sda", "vsock", "kvm", "fuse"] {
            #expect(v[key] == "ENOENT", r.escapeLog("\(key)"))
        }
        #expect(v["kmsg"] == "EACCES" || v["kmsg"] == "ENOENT", r.escapeLog())
        #expect(v["kallsyms_nonzero"] == "0", r.escapeLog())
    }
}

// MARK: - 5. ptrace and process_vm_*

@Suite("escape suite 5: ptrace, process_vm_* and the sandbox's own helpers", .enabled(if: EscapeProbe.isX86_64, "the probes use x86_64 syscall numbers"))
struct EscapeTracingTests {
    @Test("ptrace attach to the sandbox's pid 1 and to the init helper is refused")
    func ptraceHelpers() async throws {
        let r = try await EscapeProbe.c(#"""
        int main(void) {
            pid_t init = getppid();
            printf("init_pid=%d\n", (int)init);
            say("attach_pid1", ptrace(PTRACE_ATTACH, 1, 0, 0));
            say("seize_pid1", ptrace(PTRACE_SEIZE, 1, 0, 0));
            say("attach_init", ptrace(PTRACE_ATTACH, init, 0, 0));
            say("seize_init", ptrace(PTRACE_SEIZE, init, 0, 0));
            return 0;
        }
        """#)
        let v = r.escapeVerdicts
        // doer-sandbox-init is the namespace's pid 1 (bwrap --as-pid-1): no other helper.
        #expect(v["init_pid"] == "1", r.escapeLog())
        for key in ["attach_pid1", "seize_pid1", "attach_init", "seize_init"] { #expect(v[key] == "EPERM", r.escapeLog("\(key)")) }
    }

    @Test("ptrace of the probe's own child, and PTRACE_TRACEME, are refused")
    func ptraceOwnChild() async throws {
        let r = try await EscapeProbe.c(#"""
        int main(void) {
            pid_t child = fork();
            if (child == 0) {
                long t = ptrace(PTRACE_TRACEME, 0, 0, 0);
                _exit(t == 0 ? 0 : (errno == EPERM ? 1 : 2));
            }
            int status = 0;
            waitpid(child, &status, 0);
            printf("traceme=%s\n", WEXITSTATUS(status) == 0 ? "OK" : WEXITSTATUS(status) == 1 ? "EPERM" : "OTHER");
            child = fork();
            if (child == 0) { for (;;) pause(); }
            say("attach_child", ptrace(PTRACE_ATTACH, child, 0, 0));
            say("seize_child", ptrace(PTRACE_SEIZE, child, 0, 0));
            kill(child, SIGKILL);
            waitpid(child, NULL, 0);
            return 0;
        }
        """#)
        let v = r.escapeVerdicts
        for key in ["traceme", "attach_child", "seize_child"] { #expect(v[key] == "EPERM", r.escapeLog("\(key)")) }
    }

    @Test("process_vm_readv and process_vm_writev are refused, even against the probe's own child")
    func processVM() async throws {
        let r = try await EscapeProbe.c(#"""
        static char secret[64] = "child-secret";
        int main(void) {
            pid_t child = fork();
            if (child == 0) { for (;;) pause(); }
            char buf[64] = {0};
            struct iovec local = { buf, sizeof buf }, remote = { secret, sizeof secret };
            say("readv_child", process_vm_readv(child, &local, 1, &remote, 1, 0));
            say("writev_child", process_vm_writev(child, &local, 1, &remote, 1, 0));
            say("readv_init", process_vm_readv(getppid(), &local, 1, &remote, 1, 0));
            say("readv_pid1", process_vm_readv(1, &local, 1, &remote, 1, 0));
            say("madvise_init", syscall(SYS_process_madvise, 0, &local, 1, 0, 0));
            kill(child, SIGKILL);
            waitpid(child, NULL, 0);
            printf("leaked=%s\n", buf[0] ? buf : "none");
            return 0;
        }
        """#)
        let v = r.escapeVerdicts
        for key in ["readv_child", "writev_child", "readv_init", "readv_pid1", "madvise_init"] {
            #expect(v[key] == "EPERM", r.escapeLog("\(key)"))
        }
        #expect(v["leaked"] == "none", r.escapeLog())
    }

    @Test("pidfd_getfd cannot take the init helper's descriptors (its control socket)")
    func pidfdGetfd() async throws {
        let r = try await EscapeProbe.c(#"""
        int main(void) {
            int pidfd = (int)syscall(SYS_pidfd_open, getppid(), 0);
            say("pidfd_open", pidfd);
            say("getfd_control", syscall(SYS_pidfd_getfd, pidfd, 3, 0));
            say("getfd_stdout", syscall(SYS_pidfd_getfd, pidfd, 1, 0));
            char path[64];
            snprintf(path, sizeof path, "/proc/%d/fd/3", (int)getppid());
            say("open_control", open(path, O_RDWR));
            return 0;
        }
        """#)
        let v = r.escapeVerdicts
        #expect(v["getfd_control"] == "EPERM", r.escapeLog())
        #expect(v["getfd_stdout"] == "EPERM", r.escapeLog())
        #expect(["EACCES", "ENXIO"].contains(v["open_control"] ?? ""), r.escapeLog())
    }

    /// Code for the init helper: a keyctl call (denied by the filter) and a report of the
    /// outcome on the helper's stdout, then exit_group(42).
    static let hijack = #"""
    extern const unsigned char sc_start[], sc_end[];
    __asm__(".text\n.globl sc_start\n.globl sc_end\nsc_start:\n"
            "mov $250, %eax\n xor %edi, %edi\n mov $-3, %rsi\n mov $1, %edx\n syscall\n"
            "test %rax, %rax\n js 1f\n"
            "lea ok(%rip), %rsi\n mov $(ok_end-ok), %edx\n jmp 2f\n"
            "1: lea no(%rip), %rsi\n mov $(no_end-no), %edx\n"
            "2: mov $1, %edi\n mov $1, %eax\n syscall\n"
            "mov $42, %edi\n mov $231, %eax\n syscall\n"
            "ok: .ascii \"helper_keyctl=UNFILTERED\\n\"\nok_end:\n"
            "no: .ascii \"helper_keyctl=EPERM\\n\"\nno_end:\n"
            "sc_end:\n");
    static int open_mem(const char *key, int pid) {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/mem", pid);
        int fd = open(path, O_RDWR);
        say(key, fd);
        return fd;
    }
    int main(void) {
        open_mem("pid1_mem_rw", 1);
        int init_fd = open_mem("init_mem_rw", getppid());
        if (init_fd < 0) return 0;
        /* The helper sleeps in a syscall; its user pc is the last field of /proc/PID/syscall. */
        char path[64], line[512];
        snprintf(path, sizeof path, "/proc/%d/syscall", (int)getppid());
        for (int tries = 0; tries < 50; tries++) {
            int fd = open(path, O_RDONLY);
            ssize_t n = fd < 0 ? -1 : read(fd, line, sizeof line - 1);
            if (fd >= 0) close(fd);
            if (n <= 0) { say("read_syscall", -1); return 0; }
            line[n] = 0;
            if (strncmp(line, "running", 7) != 0) break;
            usleep(10000);
        }
        unsigned long pc = strtoul(strrchr(line, ' ') + 1, NULL, 16);
        ssize_t w = pwrite(init_fd, sc_start, sc_end - sc_start, (off_t)pc);
        say("init_code_write", w == sc_end - sc_start ? 0 : -1);
        /* Exiting wakes the helper (SIGCHLD), which then runs the code written above. */
        return 0;
    }
    """#

    @Test("the sandbox's helpers (bwrap pid 1, init) cannot be taken over through /proc/PID/mem")
    func procMemOfHelpers() async throws {
        let r = try await EscapeProbe.c(Self.hijack, limits: ResourceLimits(wallClockSeconds: 5))
        let v = r.escapeVerdicts
        // doer-sandbox-init is pid 1, not dumpable and under the filter itself, so the
        // command (same uid, same pid namespace) cannot open its memory, make it run a
        // denied syscall, forge the run's status or stop it enforcing the timeout.
        #expect(v["pid1_mem_rw"] != "OK", r.escapeLog())
        #expect(v["init_mem_rw"] != "OK", r.escapeLog())
        #expect(v["init_code_write"] != "OK", r.escapeLog())
        #expect(v["helper_keyctl"] != "UNFILTERED", r.escapeLog())
    }

    /// Takes over both helpers: bwrap's pid 1 clears its parent-death signal, init stops
    /// enforcing anything, and a daemon carrying `argv[1]` as its name stays behind.
    static let keepAlive = #"""
    extern const unsigned char a_start[], a_end[], b_start[], b_end[];
    __asm__(".text\n.globl a_start\n.globl a_end\n.globl b_start\n.globl b_end\n"
            "a_start:\n1: mov $34, %eax\n syscall\n jmp 1b\na_end:\n"
            "b_start:\n mov $157, %eax\n mov $1, %edi\n xor %esi, %esi\n syscall\n2: mov $34, %eax\n syscall\n jmp 2b\nb_end:\n");
    static void inject(const char *key, int pid, const unsigned char *s, const unsigned char *e) {
        char path[64], line[512];
        snprintf(path, sizeof path, "/proc/%d/mem", pid);
        int mem = open(path, O_RDWR);
        if (mem < 0) { say(key, mem); return; }
        snprintf(path, sizeof path, "/proc/%d/syscall", pid);
        int fd = open(path, O_RDONLY);
        ssize_t n = fd < 0 ? -1 : read(fd, line, sizeof line - 1);
        if (n <= 0 || strncmp(line, "running", 7) == 0) { say(key, -1); return; }
        line[n] = 0;
        unsigned long pc = strtoul(strrchr(line, ' ') + 1, NULL, 16);
        say(key, pwrite(mem, s, e - s, (off_t)pc) == e - s ? 0 : -1);
    }
    int main(int argc, char **argv) {
        inject("inject_pid1", 1, b_start, b_end);
        inject("inject_init", getppid(), a_start, a_end);
        if (fork() == 0) { setsid(); if (fork() == 0) execl("/usr/bin/sleep", argv[1], "600", (char *)NULL); _exit(0); }
        /* An orphan that exits wakes pid 1 (it reaps orphans), which then runs its new code. */
        if (fork() == 0) { if (fork() == 0) { usleep(200000); _exit(0); } _exit(0); }
        usleep(100000);
        return 0;
    }
    """#

    @Test("a taken-over helper cannot keep the sandbox alive after the run")
    func helpersKeepSandboxAlive() async throws {
        let marker = EscapeProbe.marker("keepalive")
        // No memory or process limit: no cgroup, so only the sandbox's own teardown
        // (init's kill, bwrap's parent-death signal) ends the run's processes.
        let r = try await EscapeProbe.c(Self.keepAlive, arguments: marker,
                                        limits: ResourceLimits(wallClockSeconds: 1, memoryBytes: nil, processes: nil))
        let survivors = await EscapeHost.survivors(of: marker, within: 2)
        // Clean up whatever stayed: the daemon and the bwrap pid 1 that adopted it.
        for pid in survivors {
            let status = EscapeHost.read("/proc/\(pid)/status") ?? ""
            if let line = status.split(separator: "\n").first(where: { $0.hasPrefix("PPid:") }),
               let parent = Int32(line.split(separator: "\t").last ?? ""), parent > 1,
               (EscapeHost.read("/proc/\(parent)/cmdline") ?? "").hasPrefix("/usr/bin/bwrap") {
                kill(parent, SIGKILL)
            }
            kill(pid, SIGKILL)
        }
        #expect(r.escapeVerdicts["inject_pid1"] != "OK", r.escapeLog())
        #expect(r.escapeVerdicts["inject_init"] != "OK", r.escapeLog())
        #expect(survivors.isEmpty, r.escapeLog("sandbox processes \(survivors) outlived the run"))
    }
}

// MARK: - 6. Secrets

@Suite("escape suite 6: secrets", .enabled(if: EscapeProbe.isX86_64, "the probes use x86_64 syscall numbers"))
struct EscapeSecretTests {
    @Test("host environment variables do not reach the sandbox")
    func environment() async throws {
        let (name, secret) = EscapeProbe.hostSecret
        #expect(getenv(name).map { String(cString: $0) } == secret, "control: the secret is in the host's environment")
        let ws = try ScratchWorkspace()
        let r = try await TestSandboxes.sh("env; cat /proc/*/environ | tr '\\0' '\\n'; echo done=1", in: ws)
        #expect(r.escapeVerdicts["done"] == "1", r.escapeLog())
        #expect(!r.stdout.text.contains(secret), r.escapeLog())
        #expect(!r.stdout.text.contains(name), r.escapeLog())
        #expect(r.escapeVerdicts["HOME"] == "/tmp", r.escapeLog())
        #expect(r.escapeVerdicts["PATH"] == "/usr/local/bin:/usr/bin:/bin", r.escapeLog())
        if let hostPath = ProcessInfo.processInfo.environment["PATH"], hostPath != "/usr/local/bin:/usr/bin:/bin" {
            #expect(!r.stdout.text.contains(hostPath), r.escapeLog())
        }
    }

    @Test("home folders, keys, the project and Doer's own state are invisible")
    func hiddenPaths() async throws {
        let ws = try ScratchWorkspace()
        let paths = ["/root", "/root/.ssh", "/root/.aws", "/root/.config/doer", "/root/.gitconfig", "/root/.claude",
                     "/home", "/work", "/work/main/Package.swift", "/work/shared", "/var/lib", "/run/secrets", "/etc/ssh",
                     ws.url.path, TestSandboxes.configuration.stagingRoot.path, DataDirectory().config.path,
                     DataDirectory().data.path, NSHomeDirectory()]
        let list = paths.map { "\"\($0)\"" }.joined(separator: ", ")
        let r = try await EscapeProbe.python(#"""
        for i, p in enumerate([\#(list)]):
            attempt(f"p{i}", lambda p=p: os.stat(p))
        """#, in: ws)
        for (index, path) in paths.enumerated() {
            #expect(r.escapeVerdicts["p\(index)"] == "ENOENT", r.escapeLog("\(path)"))
        }
    }

    @Test("no file descriptors beyond 0-2 are inherited, not even one the host left without CLOEXEC")
    func inheritedDescriptors() async throws {
        let secretFile = try ScratchWorkspace()
        let secret = EscapeProbe.marker("fdsecret")
        try secretFile.write("secret.txt", secret)
        let hostFD = open(secretFile.url.appendingPathComponent("secret.txt").path, O_RDONLY) // deliberately no O_CLOEXEC
        #expect(hostFD >= 0)
        defer { close(hostFD) }
        let r = try await EscapeProbe.python(#"""
        listed = sorted(int(fd) for fd in os.listdir("/proc/self/fd"))
        still_open = []
        for fd in range(3, 4096):
            try:
                os.fstat(fd)
                still_open.append(fd)
                os.lseek(fd, 0, 0)
                print("content", os.read(fd, 200), flush=True)
            except OSError:
                pass
        say("extra_fds", ",".join(map(str, still_open)) or "none")
        say("listed_low", ",".join(str(fd) for fd in listed if fd <= 2))
        for pid in [p for p in os.listdir("/proc") if p.isdigit()]:
            try:
                for fd in os.listdir(f"/proc/{pid}/fd"):
                    print("target", pid, fd, os.readlink(f"/proc/{pid}/fd/{fd}"), flush=True)
            except OSError:
                pass
        """#)
        #expect(r.escapeVerdicts["extra_fds"] == "none", r.escapeLog())
        #expect(r.escapeVerdicts["listed_low"] == "0,1,2", r.escapeLog())
        #expect(!r.stdout.text.contains(secret), r.escapeLog())
        #expect(!r.stdout.text.contains("secret.txt"), r.escapeLog())
    }
}

// MARK: - 7. Host unix sockets and the metadata address

@Suite("escape suite 7: host unix sockets and cloud metadata", .enabled(if: EscapeProbe.isX86_64, "the probes use x86_64 syscall numbers"))
struct EscapeHostSocketTests {
    @Test("no unix socket of the host is mounted or reachable by path")
    func hostSocketPaths() async throws {
        let r = try await EscapeProbe.python(#"""
        import stat as st
        paths = ["/run", "/var/run", "/run/dbus/system_bus_socket", "/var/run/dbus/system_bus_socket",
                 "/run/postgresql/.s.PGSQL.5432", "/var/run/docker.sock", "/run/docker.sock",
                 "/run/containerd/containerd.sock", "/run/systemd/private", "/run/systemd/journal/socket",
                 "/tmp/.X11-unix/X0", "/run/user/0/bus"]
        for i, p in enumerate(paths):
            def conn(p=p):
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(p)
            attempt(f"p{i}", conn)
        found = []
        for root, dirs, files in os.walk("/"):
            if root == "/":
                dirs[:] = [d for d in dirs if d not in ("proc", "usr", "sys")]
            for name in files + dirs:
                try:
                    if st.S_ISSOCK(os.lstat(os.path.join(root, name)).st_mode):
                        found.append(os.path.join(root, name))
                except OSError:
                    pass
        say("socket_files", ",".join(found) or "none")
        say("proc_net_unix_entries", len(open("/proc/net/unix").read().splitlines()) - 1)
        """#)
        for index in 0..<12 { #expect(r.escapeVerdicts["p\(index)"] == "ENOENT", r.escapeLog("\(index)")) }
        #expect(r.escapeVerdicts["socket_files"] == "none", r.escapeLog())
        #expect(r.escapeVerdicts["proc_net_unix_entries"] == "0", r.escapeLog())
    }

    @Test("an abstract unix socket the host listens on (and any other host abstract socket) is unreachable")
    func abstractSocket() async throws {
        let name = EscapeProbe.marker("abstract")
        let listener = EscapeHost.listenAbstract(name)
        try #require(listener >= 0)
        defer { close(listener) }
        // Control: the socket really is reachable from the host's network namespace.
        #expect(EscapeHost.connectAbstract(name))
        #expect(EscapeHost.acceptPending(listener))
        let names = [name] + EscapeHost.abstractSocketNames.filter { $0 != name }.prefix(20)
        let list = names.map { "'\($0)'" }.joined(separator: ", ")
        let r = try await EscapeProbe.python(#"""
        for i, n in enumerate([\#(list)]):
            def conn(n=n):
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.settimeout(2)
                s.connect("\0" + n)
            attempt(f"a{i}", conn)
        """#)
        #expect(r.escapeVerdicts["a0"] == "ECONNREFUSED", r.escapeLog())
        for index in names.indices { #expect(r.escapeVerdicts["a\(index)"] == "ECONNREFUSED", r.escapeLog("\(names[index])")) }
        #expect(!EscapeHost.acceptPending(listener), "the sandbox connected to the host's abstract socket")
    }

    @Test("the cloud metadata address 169.254.169.254 is unreachable")
    func metadata() async throws {
        let r = try await EscapeProbe.python(#"""
        attempt("tcp4", lambda: socket.create_connection(("169.254.169.254", 80), timeout=2))
        attempt("tcp6", lambda: socket.socket(socket.AF_INET6, socket.SOCK_STREAM).connect(("fd00:ec2::254", 80)))
        import subprocess
        rc = subprocess.run(["bash", "-c", "exec 3<>/dev/tcp/169.254.169.254/80"], capture_output=True).returncode
        say("bash", rc)
        rc = subprocess.run(["curl", "-s", "-m", "2", "http://169.254.169.254/latest/meta-data/"], capture_output=True).returncode
        say("curl_ok", rc == 0)
        """#)
        let v = r.escapeVerdicts
        #expect(v["tcp4"] == "EAFNOSUPPORT", r.escapeLog())
        #expect(v["tcp6"] == "EAFNOSUPPORT", r.escapeLog())
        #expect(v["bash"] == "1", r.escapeLog())
        #expect(v["curl_ok"] == "False", r.escapeLog())
    }
}

// MARK: - 8. Network with the policy off

@Suite("escape suite 8: network with the policy off", .enabled(if: EscapeProbe.isX86_64, "the probes use x86_64 syscall numbers"))
struct EscapeNetworkTests {
    @Test("TCP to the internet and to the host's loopback fails")
    func tcp() async throws {
        let r = try await EscapeProbe.python(#"""
        attempt("socket", lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM))
        attempt("internet", lambda: socket.create_connection(("1.1.1.1", 443), timeout=2))
        attempt("loopback", lambda: socket.create_connection(("127.0.0.1", 2024), timeout=2))
        say("raw", sc(41, 2, 1, 0))
        """#)
        for key in ["socket", "internet", "loopback", "raw"] { #expect(r.escapeVerdicts[key] == "EAFNOSUPPORT", r.escapeLog("\(key)")) }
    }

    @Test("UDP fails")
    func udp() async throws {
        let r = try await EscapeProbe.python(#"""
        attempt("sendto", lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("8.8.8.8", 53)))
        say("raw", sc(41, 2, 2, 0))
        """#)
        #expect(r.escapeVerdicts["sendto"] == "EAFNOSUPPORT", r.escapeLog())
        #expect(r.escapeVerdicts["raw"] == "EAFNOSUPPORT", r.escapeLog())
    }

    @Test("ICMP and raw sockets fail")
    func icmp() async throws {
        let r = try await EscapeProbe.python(#"""
        say("raw_icmp", sc(41, 2, 3, 1))
        say("ping_socket", sc(41, 2, 2, 1))
        say("raw_ip", sc(41, 2, 3, 255))
        say("packet", sc(41, 17, 3, 0x0300))
        say("icmpv6", sc(41, 10, 3, 58))
        """#)
        for key in ["raw_icmp", "ping_socket", "raw_ip", "packet", "icmpv6"] {
            #expect(r.escapeVerdicts[key] == "EAFNOSUPPORT", r.escapeLog("\(key)"))
        }
    }

    @Test("IPv6 fails")
    func ipv6() async throws {
        let r = try await EscapeProbe.python(#"""
        attempt("tcp6", lambda: socket.socket(socket.AF_INET6, socket.SOCK_STREAM).connect(("2606:4700:4700::1111", 443)))
        attempt("udp6", lambda: socket.socket(socket.AF_INET6, socket.SOCK_DGRAM).sendto(b"x", ("2001:4860:4860::8888", 53)))
        attempt("loopback6", lambda: socket.socket(socket.AF_INET6, socket.SOCK_STREAM).connect(("::1", 2024)))
        """#)
        for key in ["tcp6", "udp6", "loopback6"] { #expect(r.escapeVerdicts[key] == "EAFNOSUPPORT", r.escapeLog("\(key)")) }
    }

    @Test("bash /dev/tcp and /dev/udp fail")
    func bashDevTCP() async throws {
        let ws = try ScratchWorkspace()
        let r = try await TestSandboxes.sh(
            "bash -c 'echo x > /dev/tcp/1.1.1.1/80'; echo tcp=$?; bash -c 'echo x > /dev/udp/8.8.8.8/53'; echo udp=$?", in: ws)
        #expect(r.escapeVerdicts["tcp"] == "1", r.escapeLog())
        #expect(r.escapeVerdicts["udp"] == "1", r.escapeLog())
        #expect(r.stderr.text.contains("Address family not supported"), r.escapeLog())
    }

    @Test("DNS resolution fails and no resolver is configured")
    func dns() async throws {
        let r = try await EscapeProbe.python(#"""
        try:
            socket.getaddrinfo("example.com", 443)
            say("gai", "OK")
        except socket.gaierror as e:
            say("gai", "gaierror")
        attempt("resolv_conf", lambda: open("/etc/resolv.conf").read())
        attempt("hosts", lambda: open("/etc/hosts").read())
        import subprocess
        say("getent", subprocess.run(["getent", "hosts", "example.com"], capture_output=True).returncode)
        say("dig_udp", sc(41, 2, 2, 17))
        """#)
        let v = r.escapeVerdicts
        #expect(v["gai"] == "gaierror", r.escapeLog())
        #expect(v["resolv_conf"] == "ENOENT", r.escapeLog())
        #expect(v["getent"] == "2", r.escapeLog())
        #expect(v["dig_udp"] == "EAFNOSUPPORT", r.escapeLog())
    }

    @Test("vsock, netlink, packet and other families are refused; AF_UNIX still works")
    func otherFamilies() async throws {
        let r = try await EscapeProbe.python(#"""
        families = {"vsock": 40, "netlink": 16, "packet": 17, "bluetooth": 31, "alg": 38, "xdp": 44, "rds": 21,
                    "tipc": 30, "can": 29, "qipcrtr": 42, "mctp": 45, "appletalk": 5, "x25": 9, "ax25": 3}
        for key, family in families.items():
            say(key, sc(41, family, 2, 0) if key != "netlink" else sc(41, family, 3, 0))
        attempt("vsock_host", lambda: socket.socket(40, socket.SOCK_STREAM).connect((2, 2024)))
        say("unix", sc(41, 1, 1, 0))
        attempt("socketpair", lambda: socket.socketpair())
        """#)
        let v = r.escapeVerdicts
        for key in ["vsock", "netlink", "packet", "bluetooth", "alg", "xdp", "rds", "tipc", "can", "qipcrtr", "mctp",
                    "appletalk", "x25", "ax25", "vsock_host"] {
            #expect(v[key] == "EAFNOSUPPORT", r.escapeLog("\(key)"))
        }
        #expect(v["unix"] == "OK", r.escapeLog("control"))
        #expect(v["socketpair"] == "OK", r.escapeLog("control"))
    }

    @Test("socket() with high bits set in the family is still refused")
    func familyHighBits() async throws {
        let r = try await EscapeProbe.python(#"""
        say("inet_hi", sc(41, 0x100000002, 1, 0))
        say("inet_hiall", sc(41, 0xffffffff00000002, 1, 0))
        say("vsock_hi", sc(41, 0x100000028, 1, 0))
        say("inet6_hi", sc(41, 0x10000000a, 2, 0))
        """#)
        for key in ["inet_hi", "inet_hiall", "vsock_hi", "inet6_hi"] { #expect(r.escapeVerdicts[key] == "EAFNOSUPPORT", r.escapeLog("\(key)")) }
    }

    @Test("the network namespace is empty: only lo, no host connections or listeners visible")
    func emptyNamespace() async throws {
        let r = try await EscapeProbe.python(#"""
        devices = [l.split(":")[0].strip() for l in open("/proc/net/dev").read().splitlines()[2:]]
        say("devices", ",".join(devices))
        for name in ("tcp", "tcp6", "udp", "udp6", "raw"):
            say(name, len(open(f"/proc/net/{name}").read().splitlines()) - 1)
        """#)
        let v = r.escapeVerdicts
        #expect(v["devices"] == "lo", r.escapeLog())
        for name in ["tcp", "tcp6", "udp", "udp6", "raw"] { #expect(v[name] == "0", r.escapeLog("\(name)")) }
    }
}

// MARK: - 8b. Network with a proxy policy on

// The same category with the egress proxy's bridge running: IP sockets exist, but the
// namespace has only its loopback, so nothing but the bridge answers.

@Suite("escape suite 8: network with the proxy on", .enabled(if: EscapeProbe.isX86_64, "the probes use x86_64 syscall numbers"))
struct EscapeNetworkProxyTests {
    static let policy = NetworkPolicy.allowlist(["*.listed.example"])

    @Test("direct TCP to the internet, the host's loopback and the metadata address fails; only the bridge answers")
    func tcp() async throws {
        let r = try await EscapeProbe.python(#"""
        attempt("internet", lambda: socket.create_connection(("1.1.1.1", 443), timeout=2))
        attempt("loopback", lambda: socket.create_connection(("127.0.0.1", 2024), timeout=2))
        attempt("metadata", lambda: socket.create_connection(("169.254.169.254", 80), timeout=2))
        attempt("bridge", lambda: socket.create_connection(("127.0.0.1", 3128), timeout=2))
        say("raw", sc(41, 2, 3, 6))
        """#, network: Self.policy)
        let v = r.escapeVerdicts
        #expect(v["internet"] == "ENETUNREACH", r.escapeLog())
        #expect(v["loopback"] == "ECONNREFUSED", r.escapeLog())
        #expect(v["metadata"] == "ENETUNREACH", r.escapeLog())
        #expect(v["bridge"] == "OK", r.escapeLog("control"))
        #expect(v["raw"] == "EPERM", r.escapeLog())
    }

    @Test("UDP, ICMP, raw, packet and IPv6 go nowhere")
    func udpIcmpIPv6() async throws {
        let r = try await EscapeProbe.python(#"""
        attempt("udp", lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("8.8.8.8", 53)))
        attempt("tcp6", lambda: socket.socket(socket.AF_INET6, socket.SOCK_STREAM).connect(("2606:4700:4700::1111", 443)))
        attempt("udp6", lambda: socket.socket(socket.AF_INET6, socket.SOCK_DGRAM).sendto(b"x", ("2001:4860:4860::8888", 53)))
        attempt("metadata6", lambda: socket.socket(socket.AF_INET6, socket.SOCK_STREAM).connect(("fd00:ec2::254", 80)))
        say("raw_icmp", sc(41, 2, 3, 1))
        say("icmpv6", sc(41, 10, 3, 58))
        say("ping_socket", sc(41, 2, 2, 1))
        say("packet", sc(41, 17, 3, 0x0300))
        """#, network: Self.policy)
        let v = r.escapeVerdicts
        for key in ["udp", "tcp6", "udp6", "metadata6"] {
            #expect(v[key] == "ENETUNREACH" || v[key] == "EADDRNOTAVAIL", r.escapeLog("\(key)"))
        }
        #expect(v["raw_icmp"] == "EPERM", r.escapeLog())
        #expect(v["icmpv6"] == "EPERM", r.escapeLog())
        // Unprivileged ICMP sockets: no group may open them in a fresh namespace.
        #expect(v["ping_socket"] == "EACCES", r.escapeLog())
        #expect(v["packet"] == "EAFNOSUPPORT", r.escapeLog())
    }

    @Test("DNS without the proxy fails: no resolver, and nothing listens on port 53")
    func dns() async throws {
        let r = try await EscapeProbe.python(#"""
        try:
            socket.getaddrinfo("example.com", 443)
            say("gai", "OK")
        except socket.gaierror:
            say("gai", "gaierror")
        attempt("resolv_conf", lambda: open("/etc/resolv.conf").read())
        def udp53():
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.settimeout(1)
            s.sendto(b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07example\x03com\x00\x00\x01\x00\x01", ("127.0.0.1", 53))
            s.recvfrom(512)
        attempt("udp53", udp53)
        attempt("public53", lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("8.8.8.8", 53)))
        """#, network: Self.policy)
        let v = r.escapeVerdicts
        #expect(v["gai"] == "gaierror", r.escapeLog())
        #expect(v["resolv_conf"] == "ENOENT", r.escapeLog())
        #expect(v["udp53"] == "ECONNREFUSED" || v["udp53"] == "TimeoutError", r.escapeLog())
        #expect(v["public53"] == "ENETUNREACH", r.escapeLog())
    }

    @Test("bash /dev/tcp to the internet fails")
    func bashDevTCP() async throws {
        let ws = try ScratchWorkspace()
        let r = try await TestSandboxes.sh(
            "bash -c 'echo x > /dev/tcp/1.1.1.1/80'; echo tcp=$?; bash -c 'echo x > /dev/udp/8.8.8.8/53'; echo udp=$?",
            in: ws, network: Self.policy)
        #expect(r.escapeVerdicts["tcp"] == "1", r.escapeLog())
        #expect(r.escapeVerdicts["udp"] == "1", r.escapeLog())
    }

    @Test("socket families other than unix and IP stay refused, high bits included")
    func otherFamilies() async throws {
        let r = try await EscapeProbe.python(#"""
        families = {"vsock": 40, "netlink": 16, "packet": 17, "bluetooth": 31, "alg": 38, "xdp": 44, "rds": 21,
                    "tipc": 30, "can": 29, "qipcrtr": 42, "mctp": 45, "appletalk": 5, "x25": 9, "ax25": 3}
        for key, family in families.items():
            say(key, sc(41, family, 2, 0) if key != "netlink" else sc(41, family, 3, 0))
        say("vsock_hi", sc(41, 0x100000028, 1, 0))
        say("netlink_hi", sc(41, 0xffffffff00000010, 3, 0))
        say("inet", sc(41, 2, 1, 0))
        say("unix", sc(41, 1, 1, 0))
        """#, network: Self.policy)
        let v = r.escapeVerdicts
        for key in ["vsock", "netlink", "packet", "bluetooth", "alg", "xdp", "rds", "tipc", "can", "qipcrtr", "mctp",
                    "appletalk", "x25", "ax25", "vsock_hi", "netlink_hi"] {
            #expect(v[key] == "EAFNOSUPPORT", r.escapeLog("\(key)"))
        }
        #expect(v["inet"] == "OK", r.escapeLog("control"))
        #expect(v["unix"] == "OK", r.escapeLog("control"))
    }

    @Test("the namespace holds only lo and the bridge's listener; host sockets stay out of reach")
    func namespace() async throws {
        let r = try await EscapeProbe.python(#"""
        devices = [l.split(":")[0].strip() for l in open("/proc/net/dev").read().splitlines()[2:]]
        say("devices", ",".join(devices))
        tcp = open("/proc/net/tcp").read().splitlines()[1:]
        say("tcp", ";".join(l.split()[1] + "/" + l.split()[3] for l in tcp))
        say("tcp6", len(open("/proc/net/tcp6").read().splitlines()) - 1)
        say("proxy_socket", oct(os.stat("/.doer/proxy.sock").st_mode))
        attempt("write_socket_dir", lambda: open("/.doer/other", "w"))
        def abstract():
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect("\0/tmp/.X11-unix/X0")
        attempt("abstract", abstract)
        """#, network: Self.policy)
        let v = r.escapeVerdicts
        #expect(v["devices"] == "lo", r.escapeLog())
        // 0100007F:0C38 is 127.0.0.1:3128, state 0A is LISTEN.
        #expect(v["tcp"] == "0100007F:0C38/0A", r.escapeLog())
        #expect(v["tcp6"] == "0", r.escapeLog())
        #expect(v["proxy_socket"]?.hasPrefix("0o140") == true, r.escapeLog())
        #expect(v["write_socket_dir"] == "EROFS" || v["write_socket_dir"] == "EACCES", r.escapeLog())
        #expect(v["abstract"] == "ECONNREFUSED", r.escapeLog())
    }
}

// MARK: - 9. Filesystem

@Suite("escape suite 9: filesystem", .enabled(if: EscapeProbe.isX86_64, "the probes use x86_64 syscall numbers"))
struct EscapeFilesystemTests {
    @Test("writes outside the workspace fail and leave nothing on the host")
    func writesOutside() async throws {
        let ws = try ScratchWorkspace()
        let marker = EscapeProbe.marker("outside")
        let parent = ws.url.deletingLastPathComponent().path
        let staging = TestSandboxes.configuration.stagingRoot.path
        let targets = ["/\(marker)", "/usr/\(marker)", "/etc/\(marker)", "/bin/\(marker)", "/lib/\(marker)",
                       "/workspace/../\(marker)", "/.doer/\(marker)", "/proc/\(marker)", "\(parent)/\(marker)",
                       "\(staging)/\(marker)", "/root/\(marker)"]
        let list = targets.map { "\"\($0)\"" }.joined(separator: ", ")
        let r = try await EscapeProbe.python(#"""
        for i, p in enumerate([\#(list)]):
            attempt(f"w{i}", lambda p=p: open(p, "w").write("pwned"))
        attempt("init", lambda: open("/.doer/init", "r+b").write(b"pwned"))
        """#, in: ws)
        // Inside, /tmp is the sandbox's private tmpfs, so writes there may succeed; the host
        // checks below are what matter for those.
        for (index, path) in targets.enumerated() where !path.hasPrefix("/tmp/") {
            let verdict = r.escapeVerdicts["w\(index)"]
            #expect(verdict == "EROFS" || verdict == "ENOENT" || verdict == "EACCES", r.escapeLog("\(path)"))
        }
        #expect(r.escapeVerdicts["init"] == "EROFS" || r.escapeVerdicts["init"] == "EACCES", r.escapeLog())
        for path in ["/\(marker)", "/usr/\(marker)", "/etc/\(marker)", "/usr/bin/\(marker)", "/usr/lib/\(marker)",
                     "\(parent)/\(marker)", "\(staging)/\(marker)", "/root/\(marker)", "/tmp/\(marker)"] {
            #expect(!EscapeHost.exists(path), "\(path) appeared on the host")
        }
    }

    @Test("read-only mode cannot change the workspace")
    func readOnlyMode() async throws {
        let ws = try ScratchWorkspace(files: ["keep.txt": "original"])
        let r = try await EscapeProbe.python(#"""
        attempt("modify", lambda: open("keep.txt", "w").write("changed"))
        attempt("create", lambda: open("new.txt", "w").write("new"))
        attempt("delete", lambda: os.unlink("keep.txt"))
        attempt("chmod", lambda: os.chmod("keep.txt", 0o777))
        attempt("chmod_suid", lambda: os.chmod("keep.txt", 0o4777))
        """#, in: ws, mode: .readOnly)
        // A setuid mode is refused before the file system is asked (seccomp: EPERM).
        #expect(r.escapeVerdicts["chmod_suid"] == "EPERM" || r.escapeVerdicts["chmod_suid"] == "EROFS", r.escapeLog("chmod_suid"))
        for key in ["modify", "create", "delete", "chmod"] { #expect(r.escapeVerdicts[key] == "EROFS", r.escapeLog("\(key)")) }
        #expect(ws.read("keep.txt") == "original")
        #expect(!ws.exists("new.txt"))
    }

    @Test("a symlink to /etc/shadow left in the workspace is not followed, inside or by the host")
    func shadowSymlink() async throws {
        let ws = try ScratchWorkspace()
        #expect(symlink("/etc/shadow", ws.url.appendingPathComponent("shadow-link").path) == 0)
        #expect(symlink("/etc/shadow", ws.url.appendingPathComponent("shadow-link2").path) == 0)
        let shadowBefore = EscapeHost.read("/etc/shadow")
        let r = try await EscapeProbe.python(#"""
        attempt("read", lambda: sys.stdout.write(open("shadow-link").read()))
        attempt("write", lambda: open("shadow-link", "a").write("pwned::0:0:::::\n"))
        # Replace the second link by a regular file: the host must replace the link, not write through it.
        os.unlink("shadow-link2")
        open("shadow-link2", "w").write("pwned::0:0:::::\n")
        say("replaced", "yes")
        """#, in: ws)
        #expect(r.escapeVerdicts["read"] == "ENOENT", r.escapeLog())
        #expect(r.escapeVerdicts["write"] == "EROFS" || r.escapeVerdicts["write"] == "ENOENT", r.escapeLog())
        #expect(r.escapeVerdicts["replaced"] == "yes", r.escapeLog())
        #expect(EscapeHost.read("/etc/shadow") == shadowBefore, "/etc/shadow changed on the host")
        for line in EscapeHost.shadowLines { #expect(!r.stdout.text.contains(line), "shadow leaked") }
        // The untouched link stays a link; the replaced one became a regular file in the workspace.
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: ws.url.appendingPathComponent("shadow-link").path)) == "/etc/shadow")
        var info = stat()
        #expect(lstat(ws.url.appendingPathComponent("shadow-link2").path, &info) == 0 && info.st_mode & S_IFMT == S_IFREG)
    }

    @Test("a symlinked folder pointing to / (or outside) is never written through")
    func symlinkedFolder() async throws {
        let ws = try ScratchWorkspace()
        let outside = try ScratchWorkspace(files: ["victim.txt": "original"])
        let marker = EscapeProbe.marker("rootlink")
        #expect(symlink("/", ws.url.appendingPathComponent("rootlink").path) == 0)
        #expect(symlink(outside.url.path, ws.url.appendingPathComponent("outlink").path) == 0)
        let r = try await EscapeProbe.python(#"""
        attempt("tmp_through_root", lambda: open("rootlink/tmp/\#(marker)", "w").write("pwned"))
        attempt("etc_through_root", lambda: open("rootlink/etc/\#(marker)", "w").write("pwned"))
        attempt("victim", lambda: open("outlink/victim.txt", "w").write("pwned"))
        os.makedirs("\#(outside.url.path)", exist_ok=True)
        attempt("victim_again", lambda: open("outlink/victim.txt", "w").write("pwned"))
        attempt("new_in_outside", lambda: open("outlink/\#(marker)", "w").write("pwned"))
        """#, in: ws)
        #expect(r.escapeVerdicts["etc_through_root"] == "EROFS", r.escapeLog())
        // Anything that "worked" landed in the sandbox's private /tmp, never on the host.
        #expect(!EscapeHost.exists("/tmp/\(marker)"))
        #expect(!EscapeHost.exists("/etc/\(marker)"))
        #expect(outside.read("victim.txt") == "original")
        #expect(!outside.exists(marker))
        #expect(!r.changedFiles.contains { $0.path.hasPrefix("rootlink/") || $0.path.hasPrefix("outlink/") }, r.escapeLog())
    }

    @Test("links the run creates that point outside the workspace are not applied")
    func createdLinks() async throws {
        let ws = try ScratchWorkspace(files: ["inside.txt": "ok"])
        let r = try await EscapeProbe.python(#"""
        os.symlink("/etc/shadow", "abs-link")
        os.symlink("../../../../../../etc/passwd", "rel-escape")
        os.makedirs("sub/deeper")
        os.symlink("../../..", "sub/deeper/up")
        os.symlink("/", "rootdir")
        os.symlink("inside.txt", "ok-link")
        os.symlink("../inside.txt", "sub/ok-up")
        say("made", "yes")
        """#, in: ws)
        #expect(r.escapeVerdicts["made"] == "yes", r.escapeLog())
        for name in ["abs-link", "rel-escape", "sub/deeper/up", "rootdir"] {
            #expect(!ws.exists(name), "\(name) was applied")
            #expect(r.warnings.contains { $0.contains(name) }, r.escapeLog("\(name) not reported"))
        }
        // Control: links that stay inside are applied.
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: ws.url.appendingPathComponent("ok-link").path)) == "inside.txt")
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: ws.url.appendingPathComponent("sub/ok-up").path)) == "../inside.txt")
    }

    @Test("a folder swapped for a link does not redirect the host's writes")
    func folderSwappedForLink() async throws {
        let ws = try ScratchWorkspace(files: ["sub/file.txt": "original"])
        let outside = try ScratchWorkspace(files: ["victim.txt": "original"])
        let r = try await EscapeProbe.python(#"""
        import shutil
        shutil.rmtree("sub")
        os.makedirs("\#(outside.url.path)", exist_ok=True)
        os.symlink("\#(outside.url.path)", "sub")
        open("sub/victim.txt", "w").write("pwned")
        open("sub/new.txt", "w").write("pwned")
        os.makedirs("sub2")
        open("sub2/file.txt", "w").write("inside")
        say("done", "yes")
        """#, in: ws)
        #expect(r.escapeVerdicts["done"] == "yes", r.escapeLog())
        #expect(outside.read("victim.txt") == "original")
        #expect(!outside.exists("new.txt"))
        #expect(r.warnings.contains { $0.contains("sub") }, r.escapeLog())
        var info = stat()
        #expect(lstat(ws.url.appendingPathComponent("sub").path, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR,
                "the host workspace's folder was replaced by the link")
        #expect(ws.read("sub2/file.txt") == "inside", "control: ordinary changes are applied")
    }

    @Test("a hard link in the workspace to a host file is never written through; new hard links cannot leave the mount")
    func hardLinks() async throws {
        let outside = try ScratchWorkspace(files: ["victim.txt": "original"])
        let ws = try ScratchWorkspace()
        let victim = outside.url.appendingPathComponent("victim.txt").path
        try #require(link(victim, ws.url.appendingPathComponent("hl.txt").path) == 0)
        let r = try await EscapeProbe.python(#"""
        attempt("append", lambda: open("hl.txt", "a").write(" pwned"))
        attempt("link_passwd", lambda: os.link("/etc/passwd", "passwd-hl"))
        attempt("link_init", lambda: os.link("/.doer/init", "init-hl"))
        attempt("link_usr", lambda: os.link("/usr/bin/su", "su-hl"))
        attempt("link_tmp", lambda: (open("/tmp/x", "w").write("x"), os.link("/tmp/x", "tmp-hl")))
        """#, in: ws)
        #expect(r.escapeVerdicts["append"] == "OK", r.escapeLog())
        for key in ["link_passwd", "link_init", "link_usr", "link_tmp"] { #expect(r.escapeVerdicts[key] == "EXDEV", r.escapeLog("\(key)")) }
        #expect(outside.read("victim.txt") == "original", "the host wrote through a hard link")
        #expect(ws.read("hl.txt") == "original pwned", "control: the change itself is applied")
    }

    @Test("FIFOs and sockets made in the sandbox are neither opened nor applied by the host")
    func fifos() async throws {
        let ws = try ScratchWorkspace()
        let r = try await EscapeProbe.python(#"""
        os.mkfifo("made.fifo")
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind("made.sock")
        open("regular.txt", "w").write("ok")
        say("made", "yes")
        """#, in: ws, limits: ResourceLimits(wallClockSeconds: 10))
        #expect(r.escapeVerdicts["made"] == "yes", r.escapeLog())
        #expect(!ws.exists("made.fifo"))
        #expect(!ws.exists("made.sock"))
        #expect(r.warnings.contains { $0.contains("made.fifo") }, r.escapeLog())
        #expect(r.warnings.contains { $0.contains("made.sock") }, r.escapeLog())
        #expect(ws.read("regular.txt") == "ok", "control")
    }

    @Test("a FIFO left in the workspace is not handed to the sandbox and survives the run")
    func userFIFO() async throws {
        let ws = try ScratchWorkspace()
        let fifo = ws.url.appendingPathComponent("user.fifo").path
        try #require(mkfifo(fifo, 0o644) == 0)
        let r = try await EscapeProbe.python(#"""
        say("visible", os.path.lexists("user.fifo"))
        open("out.txt", "w").write("ok")
        """#, in: ws, limits: ResourceLimits(wallClockSeconds: 10))
        #expect(r.escapeVerdicts["visible"] == "False", r.escapeLog())
        #expect(ws.read("out.txt") == "ok")
        // The FIFO is left out of the view and must not then count as deleted by the run.
        #expect(EscapeHost.exists(fifo), "the user's FIFO was deleted by the run")
        #expect(!r.changedFiles.contains { $0.path == "user.fifo" }, r.escapeLog())
    }

    @Test("setuid and setgid bits set in the sandbox never reach the host")
    func setuidApplied() async throws {
        let ws = try ScratchWorkspace()
        let r = try await EscapeProbe.python(#"""
        import shutil
        shutil.copy("/usr/bin/id", "suid-id")
        attempt("chmod_suid", lambda: os.chmod("suid-id", 0o6755))
        say("mode_inside", oct(os.stat("suid-id").st_mode & 0o7777))
        os.makedirs("sgid-dir")
        attempt("chmod_sgid_dir", lambda: os.chmod("sgid-dir", 0o2775))
        open("sgid-dir/f", "w").write("x")
        attempt("chmod_f", lambda: os.chmod("sgid-dir/f", 0o2755))
        """#, in: ws)
        // The sandbox refuses the bits outright (seccomp); the host would strip them anyway.
        #expect(r.escapeVerdicts["chmod_suid"] == "EPERM" && r.escapeVerdicts["chmod_sgid_dir"] == "EPERM"
                && r.escapeVerdicts["chmod_f"] == "EPERM", r.escapeLog())
        #expect(r.escapeVerdicts["mode_inside"] == "0o755" || r.escapeVerdicts["mode_inside"] == "0o644", r.escapeLog("no bit inside either"))
        for path in ["suid-id", "sgid-dir", "sgid-dir/f"] {
            var info = stat()
            #expect(lstat(ws.url.appendingPathComponent(path).path, &info) == 0, "\(path) missing")
            #expect(info.st_mode & (S_ISUID | S_ISGID | S_ISVTX) == 0, "\(path) kept mode \(String(info.st_mode & 0o7777, radix: 8))")
        }
    }

    @Test("device nodes cannot be created and /dev holds only harmless devices")
    func devices() async throws {
        let r = try await EscapeProbe.python(#"""
        attempt("mknod_mem", lambda: os.mknod("mem", 0o666 | 0o020000, os.makedev(1, 1)))
        attempt("mknod_disk", lambda: os.mknod("/tmp/vda", 0o666 | 0o060000, os.makedev(254, 0)))
        attempt("mknod_devtmp", lambda: os.mknod("/dev/mem2", 0o666 | 0o020000, os.makedev(1, 1)))
        say("dev", ",".join(sorted(os.listdir("/dev"))))
        """#)
        for key in ["mknod_mem", "mknod_disk", "mknod_devtmp"] { #expect(r.escapeVerdicts[key] == "EPERM", r.escapeLog("\(key)")) }
        let allowed: Set<String> = ["core", "fd", "full", "null", "ptmx", "pts", "random", "shm", "stderr", "stdin", "stdout",
                                    "tty", "urandom", "zero", "console", "mqueue"]
        let devices = Set((r.escapeVerdicts["dev"] ?? "").split(separator: ",").map(String.init))
        #expect(!devices.isEmpty && devices.isSubset(of: allowed), "unexpected: \(devices.subtracting(allowed))")
    }

    @Test("nothing of one run (/tmp, /dev/shm, SysV IPC, home) survives into the next")
    func nothingSurvives() async throws {
        let marker = EscapeProbe.marker("survive")
        let first = try await EscapeProbe.python(#"""
        open("/tmp/\#(marker)", "w").write("x")
        open("/dev/shm/\#(marker)", "w").write("x")
        open(os.path.expanduser("~/.\#(marker)"), "w").write("x")
        import subprocess
        out = subprocess.run(["ipcmk", "-M", "4096"], capture_output=True, text=True).stdout
        say("shmid", out.strip().split()[-1])
        key = open("/proc/sysvipc/shm").read().splitlines()[1].split()[0]
        say("shmkey", key)
        """#)
        let shmKey = try #require(first.escapeVerdicts["shmkey"], first.escapeLog())
        let second = try await EscapeProbe.python(#"""
        for key, p in {"tmp": "/tmp/\#(marker)", "shm": "/dev/shm/\#(marker)", "home": os.path.expanduser("~/.\#(marker)")}.items():
            say(key, os.path.exists(p))
        say("sysv", len(open("/proc/sysvipc/shm").read().splitlines()) - 1)
        """#)
        for key in ["tmp", "shm", "home"] { #expect(second.escapeVerdicts[key] == "False", second.escapeLog("\(key)")) }
        #expect(second.escapeVerdicts["sysv"] == "0", second.escapeLog())
        // Nor did any of it land on the host.
        #expect(!EscapeHost.exists("/tmp/\(marker)"))
        #expect(!EscapeHost.exists("/dev/shm/\(marker)"))
        let hostSegments = (EscapeHost.read("/proc/sysvipc/shm") ?? "").split(separator: "\n").dropFirst()
        #expect(!hostSegments.contains { $0.split(separator: " ").first.map(String.init) == shmKey }, "the segment is on the host")
    }
}

// MARK: - 10. Exhaustion

@Suite("escape suite 10: resource exhaustion", .serialized, .enabled(if: EscapeProbe.isX86_64, "the probes use x86_64 syscall numbers"))
struct EscapeExhaustionTests {
    @Test("a fork bomb is contained by the process limit and leaves nothing behind")
    func forkBomb() async throws {
        let marker = EscapeProbe.marker("forkbomb")
        let r = try await EscapeProbe.c(#"""
        int main(void) {
            int reported = 0;
            for (;;) {
                pid_t p = fork();
                if (p < 0 && !reported) { printf("fork=%s\n", strerrorname_np(errno)); fflush(stdout); reported = 1; }
            }
        }
        """#, arguments: marker, limits: ResourceLimits(wallClockSeconds: 3, memoryBytes: 256 << 20, processes: 64))
        #expect(r.stdout.text.contains("fork=EAGAIN"), r.escapeLog())
        #expect(r.timedOut, r.escapeLog())
        let survivors = await EscapeHost.survivors(of: marker)
        #expect(survivors.isEmpty, "fork bomb processes survived on the host")
        // The host stays responsive: a trivial run right after completes quickly.
        let ws = try ScratchWorkspace()
        let after = try await TestSandboxes.sh("echo alive", in: ws)
        #expect(after.stdout.text == "alive\n")
        #expect(!after.timedOut, after.escapeLog())
    }

    @Test("a memory balloon is killed at the memory limit and reported")
    func memoryBalloon() async throws {
        let r = try await EscapeProbe.python(#"""
        blocks = []
        while True:
            blocks.append(b"x" * (8 << 20))
            say("mb", len(blocks) * 8)
        """#, limits: ResourceLimits(wallClockSeconds: 10, memoryBytes: 128 << 20))
        #expect(r.memoryKilled, r.escapeLog())
        #expect(r.termination == .signaled(SIGKILL), r.escapeLog())
        #expect(!r.timedOut, r.escapeLog())
        let reached = r.stdout.text.split(separator: "\n").compactMap { Int($0.split(separator: "=").last ?? "") }.max() ?? 0
        #expect(reached <= 136, "allocated \(reached) MB under a 128 MB limit")
    }

    @Test("filling /tmp stops at its size, privately")
    func diskFill() async throws {
        let marker = EscapeProbe.marker("diskfill")
        let r = try await EscapeProbe.python(#"""
        written = 0
        try:
            with open("/tmp/\#(marker)", "wb") as f:
                while True:
                    f.write(b"x" * (1 << 20)); f.flush(); written += 1
        except OSError as e:
            say("fill", errname(e.errno))
        say("mb", written)
        """#, limits: ResourceLimits(wallClockSeconds: 10, tmpSizeBytes: 16 << 20))
        #expect(r.escapeVerdicts["fill"] == "ENOSPC", r.escapeLog())
        #expect((Int(r.escapeVerdicts["mb"] ?? "") ?? 999) <= 16, r.escapeLog())
        #expect(!EscapeHost.exists("/tmp/\(marker)"))
    }

    @Test("filling /tmp with inodes is contained")
    func inodeFill() async throws {
        let marker = EscapeProbe.marker("inodes")
        let r = try await EscapeProbe.python(#"""
        os.makedirs("/tmp/\#(marker)")
        count, verdict, start = 0, "limit-not-reached", time.time()
        try:
            while time.time() - start < 6:
                for _ in range(1000):
                    os.close(os.open(f"/tmp/\#(marker)/{count}", os.O_CREAT | os.O_WRONLY, 0o644)); count += 1
        except OSError as e:
            verdict = errname(e.errno)
        say("inodes", verdict)
        say("count", count)
        """#, limits: ResourceLimits(wallClockSeconds: 4, memoryBytes: 64 << 20, tmpSizeBytes: 4 << 20))
        // Contained: the private tmpfs runs out (ENOSPC/ENOMEM), the memory limit kills the
        // run, or the wall clock does; in every case promptly and nothing reaches the host.
        let verdict = r.escapeVerdicts["inodes"]
        #expect(verdict == "ENOSPC" || verdict == "ENOMEM" || r.memoryKilled || r.timedOut, r.escapeLog())
        #expect(!EscapeHost.exists("/tmp/\(marker)"))
    }

    @Test("filling /dev/shm stops at its size, privately")
    func shmFill() async throws {
        let marker = EscapeProbe.marker("shmfill")
        let r = try await EscapeProbe.python(#"""
        written = 0
        try:
            with open("/dev/shm/\#(marker)", "wb") as f:
                while True:
                    f.write(b"x" * (1 << 20)); f.flush(); written += 1
        except OSError as e:
            say("fill", errname(e.errno))
        say("mb", written)
        """#, limits: ResourceLimits(wallClockSeconds: 10, tmpSizeBytes: 16 << 20))
        #expect(r.escapeVerdicts["fill"] == "ENOSPC", r.escapeLog())
        #expect((Int(r.escapeVerdicts["mb"] ?? "") ?? 999) <= 16, r.escapeLog())
        #expect(!EscapeHost.exists("/dev/shm/\(marker)"))
    }

    @Test("a CPU spin is stopped by the CPU-time limit")
    func cpuSpin() async throws {
        let ws = try ScratchWorkspace()
        let r = try await TestSandboxes.sh("exec python3 -c 'while True: pass'", in: ws,
                                           limits: ResourceLimits(wallClockSeconds: 15, cpuSeconds: 1))
        #expect(r.termination == .signaled(SIGKILL) || r.termination == .signaled(SIGXCPU), r.escapeLog())
        #expect(!r.timedOut, r.escapeLog())
        #expect((r.cpuUserMs ?? 0) + (r.cpuSystemMs ?? 0) < 3000, r.escapeLog())
    }

    @Test("spinning processes are stopped by the wall clock")
    func wallClock() async throws {
        let marker = EscapeProbe.marker("spin")
        let ws = try ScratchWorkspace()
        let r = try await TestSandboxes.sh(
            "for i in 1 2 3 4; do python3 -c 'while True: pass' \(marker) & done; exec python3 -c 'while True: pass' \(marker)", in: ws,
            limits: ResourceLimits(wallClockSeconds: 2, cpuSeconds: 60))
        #expect(r.timedOut, r.escapeLog())
        let survivors = await EscapeHost.survivors(of: marker)
        #expect(survivors.isEmpty, "spinning processes survived the timeout")
    }

    @Test("a stdout and stderr flood is capped, head and tail kept, and reported")
    func outputFlood() async throws {
        let ws = try ScratchWorkspace()
        let cap = 64 << 10
        let r = try await TestSandboxes.sh("yes err-flood >&2 & exec yes out-flood", in: ws,
                                           limits: ResourceLimits(wallClockSeconds: 2, outputBytes: cap))
        #expect(r.timedOut, r.escapeLog())
        for output in [r.stdout, r.stderr] {
            #expect(output.truncated)
            #expect(output.totalBytes > Int64(4 * cap))
            #expect(output.head.count + output.tail.count <= cap)
        }
        #expect(r.stdout.text.hasPrefix("out-flood\n"))
        #expect(r.stderr.text.hasPrefix("err-flood\n"))
    }

    @Test("descriptor exhaustion stops at the open-file limit, which cannot be raised")
    func fdExhaustion() async throws {
        let r = try await EscapeProbe.python(#"""
        import resource
        fds = []
        try:
            while True:
                fds.append(os.open("/dev/null", os.O_RDONLY))
        except OSError as e:
            say("open", errname(e.errno))
        say("count", len(fds))
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (65536, 65536))
            say("raise", "OK")
        except (ValueError, OSError) as e:
            say("raise", "refused")
        """#, limits: ResourceLimits(wallClockSeconds: 10, openFiles: 64))
        #expect(r.escapeVerdicts["open"] == "EMFILE", r.escapeLog())
        #expect((Int(r.escapeVerdicts["count"] ?? "") ?? 999) <= 64, r.escapeLog())
        #expect(r.escapeVerdicts["raise"] == "refused", r.escapeLog())
    }

    /// A double-forked, setsid'd daemon ignoring SIGHUP/SIGTERM that writes a marker later.
    static func daemon(marker: String, delay: Double) -> String {
        #"""
        import signal
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                signal.signal(signal.SIGHUP, signal.SIG_IGN)
                signal.signal(signal.SIGTERM, signal.SIG_IGN)
                for fd in (0, 1, 2):
                    os.close(fd)
                time.sleep(\#(delay))
                open("/workspace/\#(marker)", "w").write("daemon was here")
                time.sleep(60)
                os._exit(0)
            os._exit(0)
        say("parent", "exiting")
        """#
    }

    @Test("a daemon that double-forks does not outlive its run")
    func doubleForkDaemon() async throws {
        let marker = EscapeProbe.marker("daemon")
        let ws = try ScratchWorkspace()
        let r = try await EscapeProbe.python(Self.daemon(marker: marker, delay: 1.5), arguments: marker, in: ws,
                                             limits: ResourceLimits(wallClockSeconds: 10))
        #expect(r.escapeVerdicts["parent"] == "exiting", r.escapeLog())
        #expect(!r.timedOut, r.escapeLog("the run waited for the daemon"))
        let survivors = await EscapeHost.survivors(of: marker, within: 2)
        #expect(survivors.isEmpty, "the daemon survived on the host")
        try await Task.sleep(for: .seconds(1.5))
        #expect(!ws.exists(marker), "the daemon wrote into the workspace after the run")
        #expect(EscapeHost.processes(containing: marker).isEmpty)
    }

    @Test("a daemon started by a run that times out dies with it")
    func daemonOutlivingTimeout() async throws {
        let marker = EscapeProbe.marker("daemon-timeout")
        let ws = try ScratchWorkspace()
        let r = try await EscapeProbe.python(Self.daemon(marker: marker, delay: 3) + "\ntime.sleep(60)\n", arguments: marker, in: ws,
                                             limits: ResourceLimits(wallClockSeconds: 1.5))
        #expect(r.timedOut, r.escapeLog())
        let survivors = await EscapeHost.survivors(of: marker, within: 2)
        #expect(survivors.isEmpty, "the daemon survived the timeout")
        try await Task.sleep(for: .seconds(2))
        #expect(!ws.exists(marker))
        #expect(EscapeHost.processes(containing: marker).isEmpty)
    }

    @Test("a file in the workspace cannot grow past the file-size limit")
    func fileSize() async throws {
        let ws = try ScratchWorkspace()
        let r = try await EscapeProbe.python(#"""
        try:
            with open("big.bin", "wb") as f:
                f.write(b"x" * (2 << 20))
            say("write", "OK")
        except OSError as e:
            say("write", errname(e.errno))
        """#, in: ws, limits: ResourceLimits(wallClockSeconds: 10, fileSizeBytes: 1 << 20))
        #expect(r.escapeVerdicts["write"] == "EFBIG", r.escapeLog())
        var info = stat()
        if lstat(ws.url.appendingPathComponent("big.bin").path, &info) == 0 {
            #expect(info.st_size <= 1 << 20)
        }
    }
}

// MARK: - 11. seccomp bypasses

@Suite("escape suite 11: seccomp bypasses", .enabled(if: EscapeProbe.isX86_64, "the probes use x86_64 syscall numbers"))
struct EscapeSeccompTests {
    @Test("x32 syscall numbers are refused")
    func x32() async throws {
        let r = try await EscapeProbe.python(#"""
        X32 = 0x40000000
        say("getpid", sc(X32 | 39))
        say("write", sc(X32 | 1, 1, 0, 0))
        say("keyctl", sc(X32 | 250, 0, -3, 1))
        say("unshare", sc(X32 | 272, 0x10000000))
        say("socket", sc(X32 | 41, 2, 1, 0))
        say("ptrace", sc(X32 | 521, 16, 1, 0, 0))
        say("mount", sc(X32 | 165, 0, 0, 0, 0, 0))
        say("native_getpid", sc(39))
        """#)
        let v = r.escapeVerdicts
        #expect(v["native_getpid"] == "OK", r.escapeLog("control"))
        for key in ["getpid", "write", "keyctl", "unshare", "socket", "ptrace", "mount"] {
            #expect(v[key] == "EPERM", r.escapeLog("\(key)"))
        }
    }

    static func int80(_ eax: Int, _ ebx: String = "0", _ ecx: String = "0") -> String {
        #"""
        static unsigned int args[3] = { 2, 1, 0 };  /* socket(AF_INET, SOCK_STREAM, 0) for socketcall */
        int main(void) {
            printf("before=yes\n");
            fflush(stdout);
            long ret;
            __asm__ volatile ("int $0x80" : "=a"(ret) : "a"(\#(eax)), "b"(\#(ebx)), "c"(\#(ecx)) : "memory");
            printf("survived=%ld\n", ret);
            return 0;
        }
        """#
    }

    @Test("int 0x80 (the i386 ABI) kills the process")
    func int80GetPID() async throws {
        let r = try await EscapeProbe.c(Self.int80(20))
        #expect(r.escapeVerdicts["before"] == "yes", r.escapeLog())
        #expect(r.escapeVerdicts["survived"] == nil, r.escapeLog())
        #expect(r.termination == .signaled(SIGSYS), r.escapeLog())
    }

    @Test("socketcall through int 0x80 kills the process")
    func int80Socketcall() async throws {
        let r = try await EscapeProbe.c(Self.int80(102, "1", "(unsigned int)(uintptr_t)args"), flags: "-no-pie")
        #expect(r.escapeVerdicts["before"] == "yes", r.escapeLog())
        #expect(r.escapeVerdicts["survived"] == nil, r.escapeLog())
        #expect(r.termination == .signaled(SIGSYS), r.escapeLog())
    }

    @Test("i386 socket() and unshare through int 0x80 kill the process")
    func int80Socket() async throws {
        // i386 socket is 359, unshare is 310.
        let socketRun = try await EscapeProbe.c(Self.int80(359, "2", "1"))
        #expect(socketRun.termination == .signaled(SIGSYS), socketRun.escapeLog())
        #expect(socketRun.escapeVerdicts["survived"] == nil, socketRun.escapeLog())
        let unshareRun = try await EscapeProbe.c(Self.int80(310, "0x10000000"))
        #expect(unshareRun.termination == .signaled(SIGSYS), unshareRun.escapeLog())
        #expect(unshareRun.escapeVerdicts["survived"] == nil, unshareRun.escapeLog())
    }

    @Test("high bits in the syscall number do not slip past the filter")
    func highBitNumbers() async throws {
        let r = try await EscapeProbe.python(#"""
        say("getpid_hi", sc((1 << 32) | 39))
        say("keyctl_hi", sc((1 << 32) | 250, 0, -3, 1))
        say("io_uring_hi", sc((1 << 32) | 425, 1, ctypes.addressof(ctypes.create_string_buffer(120))))
        say("unshare_hi", sc((1 << 32) | 272, 0x10000000))
        say("socket_hi", sc((1 << 32) | 41, 2, 1, 0))
        """#)
        let v = r.escapeVerdicts
        // The kernel uses the low 32 bits of the number (getpid with high bits runs)...
        #expect(v["getpid_hi"] == "OK", r.escapeLog("control"))
        // ...and so does the filter.
        for key in ["keyctl_hi", "io_uring_hi", "unshare_hi"] { #expect(v[key] == "EPERM", r.escapeLog("\(key)")) }
        #expect(v["socket_hi"] == "EAFNOSUPPORT", r.escapeLog())
    }

    @Test("the kernel attack surface the filter removes is refused with EPERM")
    func deniedSyscalls() async throws {
        // Arguments chosen so that each call would succeed (or fail differently) unfiltered.
        let r = try await EscapeProbe.python(#"""
        buf = ctypes.create_string_buffer(256)
        b = ctypes.addressof(buf)
        calls = {
            "io_uring_setup": (425, 1, b), "io_uring_enter": (426, 0, 0, 0, 0, 0, 0), "io_uring_register": (427, 0, 0, 0, 0),
            "keyctl": (250, 0, -3, 1), "add_key": (248, ctypes.addressof(ctypes.create_string_buffer(b"user")),
                                                     ctypes.addressof(ctypes.create_string_buffer(b"k")), b, 1, -3),
            "request_key": (249, ctypes.addressof(ctypes.create_string_buffer(b"user")),
                            ctypes.addressof(ctypes.create_string_buffer(b"k")), 0, -3),
            "bpf": (321, 0, b, 72), "perf_event_open": (298, b, 0, -1, -1, 0), "userfaultfd": (323, 1),
            "kexec_load": (246, 0, 0, 0, 0), "init_module": (175, 0, 0, 0), "finit_module": (313, 0, 0, 0),
            "delete_module": (176, b, 0), "ptrace": (101, 0, 0, 0, 0), "process_vm_readv": (310, 1, 0, 0, 0, 0, 0),
            "setns": (308, 0, 0), "unshare": (272, 0x10000000), "mount": (165, 0, 0, 0, 0, 0), "umount2": (166, 0, 0),
            "pivot_root": (155, 0, 0), "chroot": (161, 0), "open_tree": (428, -100, 0, 0), "fsopen": (430, 0, 0),
            "name_to_handle_at": (303, -100, 0, 0, 0, 0), "open_by_handle_at": (304, 0, 0, 0),
            "pidfd_getfd": (438, 0, 0, 0), "swapon": (167, 0, 0), "reboot": (169, 0, 0, 0, 0),
            "settimeofday": (164, 0, 0), "acct": (163, 0), "quotactl": (179, 0, 0, 0, 0), "fanotify_init": (300, 0, 0),
            "iopl": (172, 3), "ioperm": (173, 0, 1, 1), "vhangup": (153,),
        }
        for key, (nr, *args) in calls.items():
            say(key, sc(nr, *args))
        """#)
        let names = ["io_uring_setup", "io_uring_enter", "io_uring_register", "keyctl", "add_key", "request_key", "bpf",
                     "perf_event_open", "userfaultfd", "kexec_load", "init_module", "finit_module", "delete_module", "ptrace",
                     "process_vm_readv", "setns", "unshare", "mount", "umount2", "pivot_root", "chroot", "open_tree", "fsopen",
                     "name_to_handle_at", "open_by_handle_at", "pidfd_getfd", "swapon", "reboot", "settimeofday", "acct",
                     "quotactl", "fanotify_init", "iopl", "ioperm", "vhangup"]
        for name in names { #expect(r.escapeVerdicts[name] == "EPERM", r.escapeLog("\(name)")) }
    }

    @Test("stacking a permissive filter does not loosen the sandbox's, and no-new-privs cannot be cleared")
    func stackedFilter() async throws {
        let r = try await EscapeProbe.c(#"""
        #include <linux/filter.h>
        #include <linux/seccomp.h>
        int main(void) {
            struct sock_filter allow[] = { BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW) };
            struct sock_fprog prog = { 1, allow };
            say("install", syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog));
            say("keyctl_after", syscall(SYS_keyctl, 0, -3, 1));
            say("unshare_after", syscall(SYS_unshare, CLONE_NEWUSER));
            say("clear_nnp", prctl(PR_SET_NO_NEW_PRIVS, 0, 0, 0, 0));
            say("nnp", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1 ? 0 : -1);
            say("strict_mode_off", prctl(PR_SET_SECCOMP, 0, 0, 0, 0));
            return 0;
        }
        """#)
        let v = r.escapeVerdicts
        #expect(v["install"] == "OK", r.escapeLog("control: the probe's own filter was installed"))
        #expect(v["keyctl_after"] == "EPERM", r.escapeLog())
        #expect(v["unshare_after"] == "EPERM", r.escapeLog())
        #expect(v["clear_nnp"] == "EINVAL", r.escapeLog())
        #expect(v["nnp"] == "OK", r.escapeLog())
        #expect(v["strict_mode_off"] == "EINVAL", r.escapeLog())
    }
}
