import DoerCore
@testable import DoerSandbox
import Foundation
import NIOConcurrencyHelpers
import Testing

/// Starting doer-sandbox-runner under gVisor here, as a pod under the `gvisor` RuntimeClass
/// runs it: `runsc --network=host --platform=ptrace do --ip ADDRESS -- doer-sandbox-runner`.
/// `runsc do` puts the sandbox in a network namespace of its own joined to the host by a veth
/// pair, with the sandbox at ADDRESS (and sets up NAT with iptables); each launch gets a /24
/// of its own that no route on the machine uses yet, so runs here and other test processes'
/// never share an address. `--network=host` lets the sandbox use that namespace's stack;
/// `--platform=ptrace` is what Debian's 2022 runsc supports here (see SANDBOX.md).
enum GVisorRunner {
    static let runsc: String? = ["/usr/bin/runsc", "/usr/local/bin/runsc", "/usr/sbin/runsc"].first { access($0, X_OK) == 0 }

    /// Why the runner cannot be started under gVisor on this machine, or nil when it can.
    static var unavailable: String? {
        guard SandboxPodController.runnerPath != nil else { return "doer-sandbox-runner is not built (swift build --build-tests builds it)" }
        guard runsc != nil else { return "runsc (gVisor) is not installed: apt-get install runsc (scripts/setup.sh all installs it)" }
        guard geteuid() == 0 else { return "runsc do makes a network namespace and veth pair for the sandbox, which needs root" }
        let folders = ["/usr/sbin", "/sbin", "/usr/bin", "/bin", "/usr/local/sbin"]
        for tool in ["iptables", "sysctl"] where !folders.contains(where: { access("\($0)/\(tool)", X_OK) == 0 }) {
            return "runsc do runs \(tool) to set up the sandbox's network and it is not installed: apt-get install \(tool == "sysctl" ? "procps" : tool)"
        }
        return nil
    }

    /// How long a pod's gVisor sandbox may take to answer: a runner that hangs fails the
    /// test, a slow boot on two busy cores (over 90 s was seen under the whole suite) does not.
    static let startTimeout: Double = 600

    private static let nextSubnet = NIOLockedValueBox(Int.random(in: 1...254))

    /// The command that runs `runner` with `arguments` in a new gVisor sandbox, and the
    /// address the sandbox will have.
    static func launch(runner: String, arguments: [String]) -> (command: [String], address: String) {
        var subnet = 0
        for _ in 0..<254 {
            subnet = nextSubnet.withLockedValue { next in
                defer { next = next >= 254 ? 1 : next + 1 }
                return next
            }
            if !routeExists(subnet: subnet) { break }
        }
        let address = "10.213.\(subnet).2"
        let command = [runsc ?? "runsc", "--network=host", "--platform=ptrace", "do", "--quiet", "--ip", address, "--", runner] + arguments
        return (command, address)
    }

    /// Whether the host has a route to 10.213.`subnet`.0/24: another sandbox's (or the
    /// machine's own network), which a new one must not share.
    static func routeExists(subnet: Int) -> Bool {
        // /proc/net/route writes each destination as the address's bytes in memory order, in hex.
        let destination = String(format: "%08X", UInt32(10) | UInt32(213) << 8 | UInt32(subnet) << 16)
        let table = (try? String(contentsOfFile: "/proc/net/route", encoding: .utf8)) ?? ""
        return table.split(separator: "\n").dropFirst().contains { line in
            line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first.map(String.init) == destination
        }
    }

    static func subnet(of address: String) -> Int? {
        let parts = address.split(separator: ".")
        return parts.count == 4 ? Int(parts[2]) : nil
    }
}

/// The in-pod runner under gVisor, driven by the kubernetes backend itself: the fake API
/// server takes the pod, the controller starts the real doer-sandbox-runner under `runsc do`
/// and marks the pod ready at the sandbox's address, and `KubernetesSandbox` sends its
/// `POST /run` there and reads the `ExecutionResult` and the changes, as against a cluster.
@Suite("kubernetes runner under gVisor (runsc)", .serialized,
       .enabled(if: GVisorRunner.unavailable == nil, Comment(rawValue: GVisorRunner.unavailable ?? "")))
struct KubernetesRunnerGVisorTests {
    /// Checks that the pod ran under runsc and that the sandbox, its network namespace and
    /// its route are gone after the run.
    private func expectGone(_ cluster: FakeCluster) throws {
        let addresses = cluster.controller.gvisorAddresses
        #expect(addresses.count == 1, "one pod, started under runsc: \(addresses)")
        #expect(cluster.api.names("pods").isEmpty)
        #expect(cluster.controller.runningRunners == 0)
        for address in addresses.values {
            let subnet = try #require(GVisorRunner.subnet(of: address))
            // The host's end of the veth pair goes when the kernel finishes tearing the
            // sandbox's namespace down, which it does in the background after runsc exits.
            let deadline = Date().addingTimeInterval(20)
            while GVisorRunner.routeExists(subnet: subnet) && Date() < deadline { usleep(50_000) }
            #expect(!GVisorRunner.routeExists(subnet: subnet), "runsc left the route to \(address) behind")
        }
    }

    @Test("exit status, stdout and stderr come back from a command that ran on gVisor's kernel")
    func exitStatusAndOutput() async throws {
        let cluster = try FakeCluster(mode: .gvisor, startTimeout: GVisorRunner.startTimeout)
        let workspace = try ScratchWorkspace()
        let result = try await cluster.sh("echo out; echo err >&2; dmesg | head -n 3; exit 3", in: workspace)
        #expect(result.termination == .exited(3))
        #expect(result.stdout.text.hasPrefix("out\n"))
        // gVisor's own kernel log, which no Linux host kernel writes.
        #expect(result.stdout.text.contains("Starting gVisor"), "\(result.stdout.text)")
        #expect(result.stderr.text == "err\n")
        #expect(result.backend == .kubernetes)
        #expect(!result.timedOut)
        try expectGone(cluster)
    }

    @Test("an output flood is capped, keeping head and tail and counting every byte")
    func outputCap() async throws {
        let cluster = try FakeCluster(mode: .gvisor, startTimeout: GVisorRunner.startTimeout)
        let workspace = try ScratchWorkspace()
        var limits = ResourceLimits(wallClockSeconds: 30)
        limits.outputBytes = 1000
        let flood = try await cluster.sh("echo FIRST; head -c 200000 /dev/zero | tr '\\0' x; echo; echo LAST", in: workspace, limits: limits)
        #expect(flood.termination == .exited(0))
        #expect(flood.stdout.truncated)
        #expect(flood.stdout.totalBytes == 6 + 200_000 + 1 + 5)
        #expect(flood.stdout.head.count + flood.stdout.tail.count <= 1000)
        #expect(flood.stdout.text.hasPrefix("FIRST\nxxx"))
        #expect(flood.stdout.text.hasSuffix("xxx\nLAST\n"))
        try expectGone(cluster)
    }

    @Test("the wall clock kills the command and what it started inside the sandbox")
    func timeout() async throws {
        let cluster = try FakeCluster(mode: .gvisor, startTimeout: GVisorRunner.startTimeout)
        let workspace = try ScratchWorkspace()
        let result = try await cluster.sh("sleep 60 & echo started; exec sleep 60", in: workspace,
                                          limits: ResourceLimits(wallClockSeconds: 1))
        #expect(result.timedOut)
        #expect(result.termination == .signaled(SIGKILL))
        #expect(!result.succeeded)
        #expect(result.stdout.text == "started\n")
        #expect(result.warnings.contains { $0.contains("time limit") })
        try expectGone(cluster)
    }

    @Test("files written in the sandbox come back as changes and are applied to the workspace")
    func workspaceChanges() async throws {
        let cluster = try FakeCluster(mode: .gvisor, startTimeout: GVisorRunner.startTimeout)
        let workspace = try ScratchWorkspace(files: ["a.txt": "one\n", "old.txt": "gone\n"])
        let result = try await cluster.sh("cat a.txt > seen.txt && echo changed > a.txt && rm old.txt && mkdir -p new && echo x > new/c.txt",
                                          in: workspace)
        #expect(result.termination == .exited(0), "\(result.stderr.text)")
        #expect(result.changesApplied)
        #expect(workspace.read("seen.txt") == "one\n")
        #expect(workspace.read("a.txt") == "changed\n")
        #expect(workspace.read("new/c.txt") == "x\n")
        #expect(!workspace.exists("old.txt"))
        let kinds = Dictionary(uniqueKeysWithValues: result.changedFiles.map { ($0.path, $0.kind) })
        #expect(kinds["seen.txt"] == .added)
        #expect(kinds["a.txt"] == .modified)
        #expect(kinds["old.txt"] == .deleted)
        #expect(kinds["new/c.txt"] == .added)
        try expectGone(cluster)
    }
}
