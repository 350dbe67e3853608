import DoerCore
@testable import DoerSandbox
import Testing

@Suite("bubblewrap command line")
struct BubblewrapArgumentsTests {
    let arguments = BubblewrapArguments(
        workspaceSource: "/tmp/doer-sandbox-0/ws-1", workspaceWritable: true,
        initHelper: "/tmp/doer-sandbox-0/init-abc", passwdFile: "/tmp/doer-sandbox-0/passwd-65534",
        groupFile: "/tmp/doer-sandbox-0/group-65534", tmpSizeBytes: 256 << 20, uid: 65534, gid: 65534,
        rootLinks: ["/bin": "usr/bin", "/lib": "usr/lib", "/lib64": "usr/lib64", "/sbin": "usr/sbin"],
        readOnlyPaths: ["/opt/swift"])

    @Test("the exact argument list for a writable workspace on a merged-/usr host")
    func pinned() {
        #expect(arguments.arguments == [
            "--unshare-all", "--unshare-user", "--disable-userns",
            "--die-with-parent", "--new-session", "--cap-drop", "ALL", "--clearenv", "--as-pid-1",
            "--hostname", "doer-sandbox",
            "--uid", "65534", "--gid", "65534",
            "--ro-bind", "/usr", "/usr",
            "--symlink", "usr/bin", "/bin",
            "--symlink", "usr/sbin", "/sbin",
            "--symlink", "usr/lib", "/lib",
            "--symlink", "usr/lib64", "/lib64",
            "--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache",
            "--ro-bind-try", "/etc/ld.so.conf", "/etc/ld.so.conf",
            "--ro-bind-try", "/etc/ld.so.conf.d", "/etc/ld.so.conf.d",
            "--ro-bind-try", "/etc/alternatives", "/etc/alternatives",
            "--ro-bind-try", "/etc/localtime", "/etc/localtime",
            "--ro-bind-try", "/etc/nsswitch.conf", "/etc/nsswitch.conf",
            "--ro-bind-try", "/etc/ssl/certs", "/etc/ssl/certs",
            "--ro-bind-try", "/etc/ca-certificates", "/etc/ca-certificates",
            "--ro-bind-try", "/etc/mime.types", "/etc/mime.types",
            "--ro-bind", "/tmp/doer-sandbox-0/passwd-65534", "/etc/passwd",
            "--ro-bind", "/tmp/doer-sandbox-0/group-65534", "/etc/group",
            "--proc", "/proc",
            "--dev", "/dev",
            "--size", "268435456", "--tmpfs", "/tmp",
            "--size", "67108864", "--tmpfs", "/dev/shm",
            "--ro-bind-try", "/opt/swift", "/opt/swift",
            "--bind", "/tmp/doer-sandbox-0/ws-1", "/workspace",
            "--ro-bind", "/tmp/doer-sandbox-0/init-abc", "/.doer/init",
            "--remount-ro", "/",
            "--chdir", "/workspace",
            "--", "/.doer/init",
        ])
    }

    @Test("with a staged /etc one read-only bind of it replaces the host's files and passwd and group")
    func stagedEtc() throws {
        var staged = arguments
        staged.etcDirectory = "/tmp/doer-sandbox-0/etc-65534-65534-1f"
        // The per-file binds run from the first /etc file to the bind of /etc/group.
        var expected = arguments.arguments
        let first = try #require(expected.firstIndex(of: "/etc/ld.so.cache")) - 1
        let last = try #require(expected.lastIndex(of: "/etc/group"))
        expected.replaceSubrange(first...last, with: ["--ro-bind", "/tmp/doer-sandbox-0/etc-65534-65534-1f", "/etc"])
        #expect(staged.arguments == expected)
        #expect(staged.arguments.filter { $0.hasPrefix("/etc") } == ["/etc"])
    }

    @Test("with a proxy policy only the proxy's socket is added, read-only, before the root goes read-only")
    func proxySocket() {
        var withProxy = arguments
        withProxy.proxySocket = "/tmp/doer-sandbox-0/net-1/proxy.sock"
        var expected = arguments.arguments
        let remount = try! #require(expected.firstIndex(of: "--remount-ro"))
        expected.insert(contentsOf: ["--ro-bind", "/tmp/doer-sandbox-0/net-1/proxy.sock", "/.doer/proxy.sock"], at: remount)
        #expect(withProxy.arguments == expected)
        // The network namespace stays unshared: no --share-net appears.
        #expect(withProxy.arguments.contains("--unshare-all") && !withProxy.arguments.contains("--share-net"))
    }

    @Test("writable paths are bound read-write after the read-only ones and the private /tmp")
    func writablePaths() {
        var withCache = arguments
        withCache.readOnlyPaths = ["/tmp/doer-sandbox-0/languages/go/support", "/opt/swift"]
        withCache.writablePaths = ["/tmp/doer-sandbox-0/languages/go/ws-1"]
        let args = withCache.arguments
        let tmpfs = args.firstIndex(of: "/tmp")!
        let support = args.firstIndex(of: "/tmp/doer-sandbox-0/languages/go/support")!
        let cache = args.firstIndex(of: "/tmp/doer-sandbox-0/languages/go/ws-1")!
        #expect(tmpfs < support && support < cache)
        #expect(args[cache - 1] == "--bind" && args[cache + 1] == "/tmp/doer-sandbox-0/languages/go/ws-1")
        #expect(args[support - 1] == "--ro-bind-try")
        #expect(args.firstIndex(of: "--remount-ro")! > cache)
    }

    @Test("a read-only run binds the workspace read-only")
    func readOnly() {
        var readOnly = arguments
        readOnly.workspaceWritable = false
        let args = readOnly.arguments
        let index = args.firstIndex(of: "/workspace")!
        #expect(args[index - 2] == "--ro-bind")
        #expect(!args.contains("--bind"))
    }

    @Test("hosts without merged /usr get their /bin and /lib bound, not linked")
    func splitUsr() {
        var split = arguments
        split.rootLinks = [:]
        let args = split.arguments
        #expect(!args.contains("--symlink"))
        #expect(args.contains(["--ro-bind-try", "/bin", "/bin"]))
        #expect(args.contains(["--ro-bind-try", "/lib64", "/lib64"]))
    }

    @Test("nothing from the host's home, /root, /run or /var is mounted")
    func noSecretsMounted() {
        let sources = Set(arguments.arguments)
        for forbidden in ["/root", "/home", "/run", "/var", "/etc", "/sys", "/etc/shadow", "/"] {
            let bound = arguments.arguments.indices.contains { i in
                ["--bind", "--ro-bind", "--ro-bind-try", "--dev-bind"].contains(arguments.arguments[i])
                    && i + 1 < arguments.arguments.count && arguments.arguments[i + 1] == forbidden
            }
            #expect(!bound, "\(forbidden) must not be mounted")
        }
        #expect(sources.contains("--disable-userns"))
    }
}

extension Array where Element: Equatable {
    func contains(_ run: [Element]) -> Bool {
        guard run.count <= count else { return false }
        return (0...(count - run.count)).contains { Array(self[$0..<($0 + run.count)]) == run }
    }
}
