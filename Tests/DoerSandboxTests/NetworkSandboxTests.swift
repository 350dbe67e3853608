// Sandboxed runs with a network policy: the bridge inside, the proxy on the host, and real
// downloads from the package index this machine's pip is configured to use (read here at
// test time, never written down).

import DoerCore
@testable import DoerSandbox
import Foundation
import NIOConcurrencyHelpers
import Testing

enum NetworkTestSupport {
    static let discovered = RegistryDiscovery().discover()

    /// Whether this machine names any package registry at all (the download tests need one).
    static var hasRegistry: Bool { !discovered.hosts.isEmpty }

    /// Prints the status line a CONNECT through the bridge gets, for each target.
    static let connectProbe = #"""
    import socket, sys
    for i, target in enumerate(sys.argv[1:]):
        try:
            s = socket.create_connection(("127.0.0.1", 3128), timeout=20)
            s.sendall(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode())
            line = s.makefile("rb").readline().decode(errors="replace").strip()
        except OSError as e:
            line = f"error {e}"
        print(f"t{i}={line}", flush=True)
    """#

    static func run(_ command: [String], network: NetworkPolicy, workspace: ScratchWorkspace, seconds: Double = 30) async throws -> ExecutionResult {
        try await TestSandboxes.make().run(ExecutionRequest(
            command: command, workspace: workspace.url, limits: ResourceLimits(wallClockSeconds: seconds), network: network))
    }
}

@Suite("network: sandboxed runs through the proxy", .serialized)
struct NetworkSandboxTests {
    @Test("--net registries: pip installs a package from this host's configured index", .enabled(if: NetworkTestSupport.hasRegistry))
    func pipInstall() async throws {
        let ws = try ScratchWorkspace()
        let result = try await NetworkTestSupport.run(
            ["python3", "-m", "pip", "install", "--no-cache-dir", "--target", "./vendor", "six"],
            network: .registries(), workspace: ws, seconds: 180)
        #expect(result.termination == .exited(0), "\(result.stdout.text)\n\(result.stderr.text)")
        #expect(ws.exists("vendor/six.py"))
        let allowed = result.networkDecisions.filter { $0.verdict == .allowed }
        #expect(!allowed.isEmpty)
        // Everything it reached is one of the registries discovered from the host's configuration.
        for decision in allowed {
            #expect(NetworkTestSupport.discovered.hosts.contains(decision.host), "\(decision.host)")
            #expect(decision.bytesReceived > 0)
            #expect(decision.address.flatMap(IPAddress.init).map(AddressClassifier.isAllowed) == true)
        }
        #expect(result.networkDecisions.allSatisfy { $0.verdict == .allowed }, "\(result.networkDecisions)")
    }

    @Test("SOCKS5 with remote DNS (ALL_PROXY) reaches a registry through the same bridge", .enabled(if: NetworkTestSupport.hasRegistry))
    func socks() async throws {
        let host = try #require(NetworkTestSupport.discovered.hosts.first)
        let ws = try ScratchWorkspace()
        let result = try await NetworkTestSupport.run(
            ["sh", "-c", "echo proxy=$ALL_PROXY; curl -sS -o /dev/null -w 'code=%{http_code}\\n' --max-time 60 --noproxy '' -x \"$ALL_PROXY\" https://\(host)/"],
            network: .registries(), workspace: ws, seconds: 90)
        #expect(result.escapeVerdicts["proxy"] == "socks5h://127.0.0.1:3128", "\(result.stdout.text)")
        let code = Int(result.escapeVerdicts["code"] ?? "") ?? 0
        #expect((200..<500).contains(code), "\(result.stdout.text)\n\(result.stderr.text)")
        #expect(result.networkDecisions.contains { $0.method == "SOCKS5" && $0.host == host && $0.verdict == .allowed && $0.bytesReceived > 0 },
                "\(result.networkDecisions)")
    }

    @Test("--net allowlist: a host not listed is refused with a clear error in the run's output; the observer hears it")
    func notListedHost() async throws {
        let ws = try ScratchWorkspace()
        let heard = NIOLockedValueBox<[NetworkDecision]>([])
        var configuration = TestSandboxes.configuration
        configuration.networkObserver = NetworkDecisionObserver { decision in heard.withLockedValue { $0.append(decision) } }
        let result = try await SandboxFactory(configuration: configuration).make(.bubblewrap).run(ExecutionRequest(
            command: ["python3", "-c", "import urllib.request; urllib.request.urlopen('https://not-listed.example/', timeout=20)"],
            workspace: ws.url, limits: ResourceLimits(wallClockSeconds: 30), network: .allowlist(["*.listed.example"])))
        #expect(heard.withLockedValue { $0 } == result.networkDecisions)
        #expect(result.termination == .exited(1))
        #expect(result.stderr.text.contains("403 doer network policy CONNECT not-listed.example:443: not-listed.example is not allowed by the network policy"),
                "\(result.stderr.text)")
        #expect(result.networkDecisions.map(\.reason) == [.hostNotAllowed])
    }

    @Test("from inside: CONNECT to loopback, private and metadata addresses and to a listed name resolving to loopback is refused")
    func internalAddresses() async throws {
        let ws = try ScratchWorkspace(files: ["probe.py": NetworkTestSupport.connectProbe])
        let targets = ["127.0.0.1:22", "10.0.0.1:80", "169.254.169.254:80", "localhost:22", "[::1]:22", "[fd00:ec2::254]:80"]
        let result = try await NetworkTestSupport.run(
            ["python3", "probe.py"] + targets,
            network: .allowlist(["127.0.0.1", "10.0.0.1", "169.254.169.254", "localhost", "::1", "fd00:ec2::254"]), workspace: ws)
        for index in targets.indices {
            #expect(result.escapeVerdicts["t\(index)"]?.hasPrefix("HTTP/1.1 403 ") == true, "\(targets[index]): \(result.stdout.text)")
        }
        #expect(result.networkDecisions.count == targets.count)
        #expect(result.networkDecisions.allSatisfy { $0.reason == .forbiddenAddress })
    }

    @Test("--net full: a public registry is reachable, internal addresses are not, and the run says so loudly",
          .enabled(if: NetworkTestSupport.hasRegistry))
    func full() async throws {
        let host = try #require(NetworkTestSupport.discovered.hosts.first)
        let ws = try ScratchWorkspace(files: ["probe.py": NetworkTestSupport.connectProbe])
        let result = try await NetworkTestSupport.run(["python3", "probe.py", "\(host):443", "127.0.0.1:22", "localhost:22"],
                                                      network: .full, workspace: ws)
        #expect(result.escapeVerdicts["t0"]?.hasPrefix("HTTP/1.1 200 ") == true, "\(result.stdout.text)")
        #expect(result.escapeVerdicts["t1"]?.hasPrefix("HTTP/1.1 403 ") == true, "\(result.stdout.text)")
        #expect(result.escapeVerdicts["t2"]?.hasPrefix("HTTP/1.1 403 ") == true, "\(result.stdout.text)")
        #expect(result.warnings.contains { $0.hasPrefix("full network:") })
    }

    /// A registry apt reaches over plain http (apt's sources are http here), for plain-HTTP tests.
    static var aptHost: String? {
        NetworkTestSupport.discovered.registries.first { $0.source.hasPrefix("/etc/apt") }?.host
    }

    @Test("plain HTTP through the proxy works, and the run's byte limit cuts a response off", .enabled(if: aptHost != nil))
    func plainHTTPAndByteLimit() async throws {
        let host = try #require(Self.aptHost)
        let directory = URL(fileURLWithPath: "/tmp/doer-proxy-\(UUID().uuidString.prefix(8))", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let request = "GET http://\(host)/ HTTP/1.1\r\nHost: \(host)\r\nUser-Agent: doer-test\r\n\r\n"
        func fetch(budget: Int64) async throws -> (String, NetworkDecision) {
            var limits = ProxyLimits()
            limits.maxBytes = budget
            let proxy = try await EgressProxy.start(
                socketPath: directory.appendingPathComponent("p\(budget).sock").path,
                rules: EgressRules(access: .allowlist, allowlist: try HostAllowlist(parsing: [host])), limits: limits)
            let client = try ProxySocketClient(path: proxy.socketPath)
            client.send(request)
            let answer = client.readAll()
            await proxy.shutdown()
            return (answer, try #require(proxy.recordedDecisions.first))
        }
        let (answer, decision) = try await fetch(budget: 1 << 20)
        #expect(answer.hasPrefix("HTTP/1.1 "), "\(answer.prefix(300))")
        #expect(decision.host == host && decision.method == "GET" && decision.verdict == .allowed, "\(decision)")
        #expect(decision.bytesSent > 0 && decision.bytesReceived > 0, "\(decision)")
        // A budget the request fits in but the response does not: the response never
        // reaches the client and the decision says why.
        let (cutAnswer, cut) = try await fetch(budget: decision.bytesSent + 1)
        #expect(!cutAnswer.hasPrefix("HTTP/1.1 "), "\(cutAnswer.prefix(300))")
        #expect(cut.verdict == .refused && cut.reason == .byteLimit, "\(cut)")
    }

    @Test("the bridge carries many connections at once, survives clients that vanish, and keeps serving")
    func bridgeUnderLoad() async throws {
        let ws = try ScratchWorkspace(files: ["load.py": #"""
        import socket, threading
        answers = []
        def ask(i):
            s = socket.create_connection(("127.0.0.1", 3128), timeout=20)
            s.sendall(f"CONNECT host-{i}.not-listed.example:443 HTTP/1.1\r\n\r\n".encode())
            answers.append(s.makefile("rb").readline().split()[1].decode())
        threads = [threading.Thread(target=ask, args=(i,)) for i in range(48)]
        for t in threads: t.start()
        for t in threads: t.join()
        print("answers=" + ",".join(sorted(set(answers))) + f" count={len(answers)}")
        # Clients that connect and vanish, half-way through a head or at once.
        for i in range(20):
            s = socket.create_connection(("127.0.0.1", 3128), timeout=5)
            if i % 2: s.sendall(b"CONNECT half")
            s.close()
        s = socket.create_connection(("127.0.0.1", 3128), timeout=20)
        s.sendall(b"CONNECT after.not-listed.example:443 HTTP/1.1\r\n\r\n")
        print("after=" + s.makefile("rb").readline().split()[1].decode())
        """#])
        let result = try await NetworkTestSupport.run(["python3", "load.py"], network: .allowlist(["*.listed.example"]), workspace: ws)
        #expect(result.stdout.text.contains("answers=403 count=48"), "\(result.stdout.text)\n\(result.stderr.text)")
        #expect(result.escapeVerdicts["after"] == "403", "\(result.stdout.text)")
        #expect(result.networkDecisions.filter { $0.reason == .hostNotAllowed }.count == 49)
    }

    @Test("a network policy on a backend without the bridge is refused with the remedy")
    func otherBackends() async throws {
        let ws = try ScratchWorkspace()
        await #expect { _ = try await TestSandboxes.make(.process, unsafe: true).run(
            ExecutionRequest(command: ["true"], workspace: ws.url, network: .registries())) } throws: { error in
            "\(error)".contains("needs the bubblewrap backend")
        }
    }
}
