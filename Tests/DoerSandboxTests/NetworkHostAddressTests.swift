// The egress proxy against the host's own addresses: a real listener on every address of this
// host, and requests through the proxy in every form it accepts, each aimed back at the host.
// Each test first connects to the listener directly, so a proxy that let one through would be
// seen; then none of the proxied attempts may reach it.

import DoerCore
@testable import DoerSandbox
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import Testing

/// A TCP listener on every address of the host: `[::]` with IPv4 mapped in, which is what a
/// service bound to `0.0.0.0` and `::` answers on (IPv4 only when the host has no IPv6).
final class HostWideListener {
    let fd: Int32
    let port: Int

    init() throws {
        var fd = socket(AF_INET6, Int32(SOCK_STREAM.rawValue), 0)
        var port = 0
        if fd >= 0 {
            var off: Int32 = 0
            setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &off, socklen_t(MemoryLayout<Int32>.size))
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
            if bound != 0 {
                close(fd)
                fd = -1
            }
        }
        if fd < 0 {
            fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard fd >= 0, bound == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EADDRNOTAVAIL) }
        }
        guard listen(fd, 64) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EADDRNOTAVAIL) }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { _ = getsockname(fd, $0, &length) }
        }
        // sin_port and sin6_port sit at the same offset, in network byte order.
        port = withUnsafeBytes(of: &storage) { Int($0[2]) << 8 | Int($0[3]) }
        self.fd = fd
        self.port = port
    }

    /// Accepts every connection waiting (the kernel completes a handshake before accept, so
    /// one the proxy made is waiting here by the time the proxy answers); their number.
    func drain() -> Int {
        var count = 0
        while true {
            let client = accept(fd, nil, nil)
            guard client >= 0 else { return count }
            close(client)
            count += 1
        }
    }

    deinit { close(fd) }

    /// Connects from the test itself, not through the proxy: the control that shows the
    /// listener answers on `address`.
    static func connectDirectly(_ address: IPAddress, port: Int) -> Bool {
        let fd = socket(address.isIPv4 ? AF_INET : AF_INET6, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        if address.isIPv4 {
            var sa = sockaddr_in()
            sa.sin_family = sa_family_t(AF_INET)
            sa.sin_port = in_port_t(UInt16(port).bigEndian)
            withUnsafeMutableBytes(of: &sa.sin_addr) { $0.copyBytes(from: address.bytes) }
            return withUnsafePointer(to: &sa) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            } == 0
        }
        var sa = sockaddr_in6()
        sa.sin6_family = sa_family_t(AF_INET6)
        sa.sin6_port = in_port_t(UInt16(port).bigEndian)
        withUnsafeMutableBytes(of: &sa.sin6_addr) { $0.copyBytes(from: address.bytes) }
        return withUnsafePointer(to: &sa) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
        } == 0
    }
}

/// Resolves the names a test plants (a name that is not in /etc/hosts but leads to the host,
/// as an attacker's DNS would), and everything else as the system does.
final class PlantedResolver: HostResolver {
    let planted: [String: [IPAddress]]

    init(_ planted: [String: [IPAddress]]) { self.planted = planted }

    func resolve(_ host: String, on eventLoop: any EventLoop) -> EventLoopFuture<[IPAddress]> {
        if let addresses = planted[host] { return eventLoop.makeSucceededFuture(addresses) }
        return SystemHostResolver().resolve(host, on: eventLoop)
    }
}

/// One attempt through the proxy to reach the host.
struct HostProbe: CustomStringConvertible {
    enum Form {
        /// A whole HTTP request (CONNECT or an absolute-URI GET).
        case http(String)
        /// A SOCKS5 CONNECT: address type (1 IPv4, 3 name, 4 IPv6), the address bytes and the port.
        case socks(type: UInt8, address: [UInt8], port: Int)
    }

    var form: Form
    /// The host as written, for the allowlist.
    var host: String

    var description: String {
        switch form {
        case .http(let request): String(request.prefix { $0 != "\r" })
        case .socks(let type, let address, _): "SOCKS5 type \(type) \(type == 3 ? String(decoding: address.dropFirst(), as: UTF8.self) : "\(address)")"
        }
    }

    /// Every way of writing `address` the proxy might accept, in every protocol.
    static func all(for address: IPAddress, port: Int) -> [HostProbe] {
        var hosts: [(text: String, bracketed: String)] = []
        var socks: [(UInt8, [UInt8])] = []
        if address.isIPv4 {
            let b = address.bytes
            let text = address.description
            let hex = String(format: "%02x%02x:%02x%02x", b[0], b[1], b[2], b[3])
            let number = b.reduce(0) { $0 << 8 | Int($1) }
            let octal = b.map { "0" + String($0, radix: 8) }.joined(separator: ".")
            // Teredo: the server's address in clear, the client's inverted; both this host's.
            let inverted = String(format: "%02x%02x:%02x%02x", 255 - b[0], 255 - b[1], 255 - b[2], 255 - b[3])
            for v6 in ["::ffff:\(text)", "::ffff:\(hex)", "::\(text)", "64:ff9b::\(text)", "2002:\(hex)::1", "0:0:0:0:0:ffff:\(text)",
                       "::ffff:0:\(text)", "64:ff9b:1::\(text)", "2001:0:\(hex):0:0:\(inverted)"] {
                hosts.append((v6, "[\(v6)]"))
            }
            for name in [text, "\(text).", "\(number)", "0x" + String(number, radix: 16), octal,
                         "\(b[0]).\(b[1]).\(Int(b[2]) << 8 | Int(b[3]))", "\(b[0]).\(Int(b[1]) << 16 | Int(b[2]) << 8 | Int(b[3]))"] {
                hosts.append((name, name))
            }
            socks += [(1, b), (4, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff] + b), (4, [0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0] + b),
                      (4, [0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0] + b), (4, [0x20, 0x01, 0, 0] + b + [0, 0, 0, 0] + b.map { 255 - $0 })]
            for name in [text, "\(number)", "::ffff:\(text)"] { socks.append((3, [UInt8(name.utf8.count)] + Array(name.utf8))) }
        } else {
            let text = address.description
            hosts.append((text, "[\(text)]"))
            socks.append((4, address.bytes))
            socks.append((3, [UInt8(text.utf8.count)] + Array(text.utf8)))
        }
        var probes: [HostProbe] = []
        for (text, bracketed) in hosts {
            probes.append(HostProbe(form: .http("CONNECT \(bracketed):\(port) HTTP/1.1\r\nHost: \(bracketed):\(port)\r\n\r\n"), host: text))
            probes.append(HostProbe(form: .http("GET http://\(bracketed):\(port)/ HTTP/1.1\r\nHost: \(bracketed):\(port)\r\n\r\n"), host: text))
        }
        for (type, bytes) in socks {
            let host = type == 3 ? String(decoding: bytes.dropFirst(), as: UTF8.self) : IPAddress(bytes: bytes)!.description
            probes.append(HostProbe(form: .socks(type: type, address: bytes, port: port), host: host))
        }
        return probes
    }

    /// Teredo and local-use NAT64 forms: refused whatever they carry, as reserved, so their
    /// answers do not say whose address is inside.
    static func isTunnelled(_ host: String) -> Bool {
        guard let address = IPAddress(host) else { return false }
        return AddressClassifier.classify(address) == .reserved && address.embeddedIPv4 == nil
    }

    /// Names planted in a resolver that lead to `address`: alone, in its IPv6 forms, and
    /// mixed with other internal addresses.
    static func planted(for address: IPAddress, port: Int, tag: String) -> (probes: [HostProbe], resolver: [String: [IPAddress]]) {
        var forms = [address]
        if address.isIPv4 {
            forms.append(IPAddress(bytes: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff] + address.bytes)!)
        }
        let names: [String: [IPAddress]] = [
            "own-\(tag).test": [address],
            "own-forms-\(tag).test": forms,
            "own-mixed-\(tag).test": forms + [IPAddress("127.0.0.1")!, IPAddress("169.254.169.254")!],
        ]
        var probes: [HostProbe] = []
        for name in names.keys.sorted() {
            probes.append(HostProbe(form: .http("CONNECT \(name):\(port) HTTP/1.1\r\n\r\n"), host: name))
            probes.append(HostProbe(form: .http("GET http://\(name.uppercased()).:\(port)/x HTTP/1.1\r\n\r\n"), host: name))
            probes.append(HostProbe(form: .socks(type: 3, address: [UInt8(name.utf8.count)] + Array(name.utf8), port: port), host: name))
        }
        return (probes, names)
    }
}

/// A proxy with a planted resolver, started before anything it is asked about is set up.
final class HostProbeProxy {
    let directory: URL
    let proxy: EgressProxy

    init(access: NetworkAccess, allow: [String], planted: [String: [IPAddress]]) async throws {
        directory = URL(fileURLWithPath: "/tmp/doer-proxy-\(UUID().uuidString.prefix(8))", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        proxy = try await EgressProxy.start(socketPath: directory.appendingPathComponent("p.sock").path,
                                            rules: EgressRules(access: access, allowlist: try HostAllowlist(parsing: allow)),
                                            resolver: PlantedResolver(planted))
    }

    /// Each probe on its own connection, in turn; the answers and the decisions they made.
    func ask(_ probes: [HostProbe]) throws -> HostProbeRun {
        let before = proxy.recordedDecisions.count
        var run = HostProbeRun()
        for probe in probes {
            let client = try ProxySocketClient(path: proxy.socketPath)
            switch probe.form {
            case .http(let request):
                client.send(request)
                run.answers.append((probe, client.readAll()))
            case .socks(let type, let address, let port):
                client.send(bytes: [5, 1, 0])
                _ = client.read(count: 2)
                client.send(bytes: [5, 1, 0, type] + address + [UInt8(port >> 8), UInt8(port & 0xff)])
                let reply = client.read(count: 4)
                run.answers.append((probe, reply.count >= 2 ? "SOCKS \(reply[1])" : "SOCKS -"))
            }
        }
        // A refusal is recorded before it is answered, so every one is in by now.
        run.decisions = Array(proxy.recordedDecisions.dropFirst(before))
        return run
    }

    func stop() async {
        await proxy.shutdown()
        try? FileManager.default.removeItem(at: directory)
    }
}

/// The answers a set of probes got, and the proxy's decisions on them.
struct HostProbeRun {
    /// For each probe: the HTTP answer, or the SOCKS reply code as "SOCKS n" ("SOCKS -" when closed).
    var answers: [(probe: HostProbe, answer: String)] = []
    var decisions: [NetworkDecision] = []

    /// A proxy of its own for `probes` (each host on the allowlist unless `full`); `beforeProbes`
    /// runs once the proxy is listening.
    static func run(_ probes: [HostProbe], access: NetworkAccess, planted: [String: [IPAddress]] = [:],
                    beforeProbes: () throws -> Void = {}) async throws -> HostProbeRun {
        let proxy = try await HostProbeProxy(access: access, allow: access == .full ? [] : Array(Set(probes.map(\.host))),
                                             planted: planted)
        do {
            try beforeProbes()
            let run = try proxy.ask(probes)
            await proxy.stop()
            return run
        } catch {
            await proxy.stop()
            throw error
        }
    }

    /// Every answer a refusal: 403 for HTTP, "connection not allowed" (2) for SOCKS.
    func expectAllRefused(_ context: String, sourceLocation: SourceLocation = #_sourceLocation) {
        for (probe, answer) in answers {
            let refused = answer.hasPrefix("HTTP/1.1 403 ") || answer == "SOCKS 2"
            #expect(refused, "\(context): \(probe) got \(answer.prefix(300))", sourceLocation: sourceLocation)
        }
        #expect(decisions.count == answers.count, "\(context)", sourceLocation: sourceLocation)
        for decision in decisions {
            #expect(decision.verdict == .refused && decision.address == nil && decision.bytesSent == 0,
                    "\(context): \(decision)", sourceLocation: sourceLocation)
        }
    }
}

/// The host's addresses as the test reads them itself, loopback and link-local left out
/// (the first is refused by name already, the second needs a zone to connect to).
enum HostInterfaces {
    static func addresses() -> [IPAddress] {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0 else { return [] }
        defer { freeifaddrs(list) }
        var found: [IPAddress] = []
        var entry = list
        while let current = entry {
            entry = current.pointee.ifa_next
            guard let raw = current.pointee.ifa_addr else { continue }
            let bytes: [UInt8]
            switch Int32(raw.pointee.sa_family) {
            case AF_INET:
                var a = raw.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
                bytes = withUnsafeBytes(of: &a) { Array($0) }
            case AF_INET6:
                var a = raw.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_addr }
                bytes = withUnsafeBytes(of: &a) { Array($0) }
            default:
                continue
            }
            guard let address = IPAddress(bytes: bytes), !found.contains(address) else { continue }
            let category = AddressClassifier.classify(address)
            if category == .loopback || category == .linkLocal { continue }
            found.append(address)
        }
        return found
    }
}

/// Adds and removes addresses and local routes on this host with `ip`, as root.
enum HostNetworkTool {
    static let ip = (["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"] as [String]).first { access($0, X_OK) == 0 }
    static var usable: Bool { geteuid() == 0 && ip != nil }

    @discardableResult
    static func run(_ arguments: String...) -> Bool {
        guard let ip else { return false }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ip)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }

    /// A new interface with no other use, created down. Kernels without the dummy driver get
    /// an empty bridge, then an ifb device; nil when none can be made.
    static func makeInterface(_ name: String) -> String? {
        run("link", "del", name)
        for type in ["dummy", "bridge", "ifb"] where run("link", "add", name, "type", type) { return type }
        return nil
    }
}

@Suite("network: the host's own addresses", .serialized)
struct NetworkHostAddressTests {
    @Test("the check refuses an own address in every IPv6 form that carries it, and lets its neighbours and public addresses pass")
    func checkForms() throws {
        let own = try #require(IPAddress("198.51.100.7"))
        let own6 = try #require(IPAddress("2001:db8:d0e5::7"))
        let check = DestinationCheck(ownAddresses: [own, own6])
        for text in ["198.51.100.7", "::ffff:198.51.100.7", "::198.51.100.7", "64:ff9b::c633:6407", "2002:c633:6407::1",
                     "2002:c633:6407:ffff::9", "2001:db8:d0e5::7"] {
            #expect(check.refusal(for: try #require(IPAddress(text))) == "an address of this host", "\(text)")
        }
        for text in ["198.51.100.8", "198.51.100.6", "::ffff:198.51.100.8", "2001:db8:d0e5::8", "8.8.8.8", "2606:4700::1111"] {
            #expect(check.refusal(for: try #require(IPAddress(text))) == nil, "\(text)")
        }
        // Internal addresses keep their own reason.
        #expect(check.refusal(for: try #require(IPAddress("127.0.0.1"))) == "loopback")
        #expect(check.refusal(for: try #require(IPAddress("::ffff:10.0.0.1"))) == "private")
        // A host whose interface has a 6to4 address owns the IPv4 address inside it too.
        let sixToFour = DestinationCheck(ownAddresses: [try #require(IPAddress("2002:cb00:7105::1"))])
        #expect(sixToFour.refusal(for: try #require(IPAddress("203.0.113.5"))) == "an address of this host")
    }

    @Test("IPv6 forms whose IPv4 destination is translated or tunnelled: v4-translated is judged by the address it carries, Teredo and local-use NAT64 are refused")
    func translatedAndTunnelledForms() throws {
        let check = DestinationCheck(ownAddresses: [try #require(IPAddress("198.51.100.7"))])
        // ::ffff:0:a.b.c.d (RFC 2765) carries its IPv4 address in the last 32 bits.
        for (text, why) in [("::ffff:0:198.51.100.7", "an address of this host"), ("::ffff:0:127.0.0.1", "loopback"),
                            ("::ffff:0:10.1.2.3", "private"), ("::ffff:0:169.254.169.254", "cloud metadata"),
                            ("0:0:0:0:ffff:0:0:0", "unspecified")] {
            #expect(check.refusal(for: try #require(IPAddress(text))) == why, "\(text)")
        }
        #expect(IPAddress("::ffff:0:8.8.8.8")?.embeddedIPv4 == IPAddress("8.8.8.8"))
        // Teredo carries a relay's address and the client's inverted, and local-use NAT64 an
        // address at a place the network chooses: neither is judged by guessing, both refused.
        for text in ["2001:0:c633:6407::3ccf:9bf8", "2001:0:4136:e378:8000:63bf:3fff:fdfd", "2001::1", "2001:0:ffff::",
                     "64:ff9b:1::c633:6407", "64:ff9b:1::808:808", "64:ff9b:1:ffff::1"] {
            #expect(check.refusal(for: try #require(IPAddress(text))) == "reserved", "\(text)")
        }
        // Their neighbours are ordinary addresses.
        for text in ["2001:1::1", "2001:4860::8888", "2001:db8::1", "64:ff9b:2::1", "64:ff9b::808:808", "::fffe:0:808:808"] {
            #expect(check.refusal(for: try #require(IPAddress(text))) != "reserved", "\(text)")
        }
    }

    @Test("every address on this host's interfaces is read, and is refused by a fresh check")
    func freshCheckKnowsTheInterfaces() throws {
        let seen = HostInterfaces.addresses()
        let current = try HostAddresses.current()
        for address in seen {
            #expect(current.contains(address), "\(address)")
            #expect(try DestinationCheck.now().refusal(for: address) != nil, "\(address)")
        }
        #expect(current.contains(try #require(IPAddress("127.0.0.1"))))
    }

    @Test("a listener on all of the host's addresses is unreachable through the proxy, by every form and in every mode",
          arguments: [NetworkAccess.full, .allowlist, .registries])
    func interfacesUnreachable(access: NetworkAccess) async throws {
        let addresses = HostInterfaces.addresses()
        try #require(!addresses.isEmpty, "this machine has no address but loopback and link-local ones to test with")
        let listener = try HostWideListener()
        for address in addresses {
            #expect(HostWideListener.connectDirectly(address, port: listener.port), "control: \(address) does not answer directly")
        }
        #expect(listener.drain() == addresses.count, "control: the direct connections did not arrive")

        var probes: [HostProbe] = []
        var planted: [String: [IPAddress]] = [:]
        for (index, address) in addresses.enumerated() {
            probes += HostProbe.all(for: address, port: listener.port)
            let names = HostProbe.planted(for: address, port: listener.port, tag: "\(index)")
            probes += names.probes
            planted.merge(names.resolver) { a, _ in a }
        }
        // The machine's own name, whatever it resolves to here.
        var name = [CChar](repeating: 0, count: 256)
        if gethostname(&name, name.count) == 0 {
            let hostname = String(cString: name).lowercased()
            if HostPattern.isValidName(hostname) {
                probes.append(HostProbe(form: .http("CONNECT \(hostname):\(listener.port) HTTP/1.1\r\n\r\n"), host: hostname))
                probes.append(HostProbe(form: .socks(type: 3, address: [UInt8(hostname.utf8.count)] + Array(hostname.utf8),
                                                     port: listener.port), host: hostname))
            }
        }
        let run = try await HostProbeRun.run(probes, access: access, planted: planted)
        run.expectAllRefused("\(access)")
        #expect(listener.drain() == 0, "a connection through the proxy reached the host's listener")
        // Public-range addresses of the host (this machine's eth0 is in a documentation range)
        // are refused for being the host's, and the answer says so.
        for decision in run.decisions where decision.detail.contains("an address of this host") {
            #expect(decision.reason == .forbiddenAddress)
        }
        let publicOwn = addresses.filter(AddressClassifier.isAllowed)
        for address in publicOwn {
            let text = address.description
            let answers = run.answers.filter { $0.probe.host == text && $0.answer.hasPrefix("HTTP/") }
            #expect(!answers.isEmpty)
            for (probe, answer) in answers {
                #expect(answer.contains("an address of this host"), "\(probe): \(answer.prefix(300))")
            }
        }
    }

    @Test("an address added to a new interface after the proxy started is refused, with the interface down, up and down again",
          .enabled(if: HostNetworkTool.usable, "needs root and the ip tool, to add an address to this host"))
    func addressAddedLater() async throws {
        let v4 = try #require(IPAddress("198.51.100.7"))
        let v6 = try #require(IPAddress("2001:db8:d0e5::7"))
        let interface = "doertest0"
        HostNetworkTool.run("link", "del", interface) // left by a run that was killed
        // Not the host's yet: a public (documentation-range) address passes the check.
        #expect(try DestinationCheck.now().refusal(for: v4) == nil)
        #expect(try DestinationCheck.now().refusal(for: v6) == nil)
        let listener = try HostWideListener()
        let names = HostProbe.planted(for: v4, port: listener.port, tag: "later")
        let v4Probes = HostProbe.all(for: v4, port: listener.port) + names.probes
        let proxy = try await HostProbeProxy(access: .full, allow: [], planted: names.resolver)
        defer { HostNetworkTool.run("link", "del", interface) }
        do {
            // The proxy is listening, and has decided once, before the interface and its
            // addresses exist: nothing it read then may stand for later decisions.
            let early = try proxy.ask([HostProbe(form: .http("CONNECT 127.0.0.1:\(listener.port) HTTP/1.1\r\n\r\n"), host: "127.0.0.1")])
            early.expectAllRefused("before the address exists")
            let type = try #require(HostNetworkTool.makeInterface(interface), "cannot create a network interface here")
            try #require(HostNetworkTool.run("addr", "add", "198.51.100.7/32", "dev", interface), "\(type)")
            try #require(HostNetworkTool.run("-6", "addr", "add", "2001:db8:d0e5::7/128", "dev", interface, "nodad"), "\(type)")
            for state in ["down", "up", "down"] {
                HostNetworkTool.run("link", "set", interface, state)
                // Taking an interface down drops its IPv6 addresses (unless keep_addr_on_down
                // is set), after which that address is no longer the host's: it is probed only
                // while the interface has it.
                let hasV6 = HostInterfaces.addresses().contains(v6)
                let run = try proxy.ask(v4Probes + (hasV6 ? HostProbe.all(for: v6, port: listener.port) : []))
                run.expectAllRefused("interface \(state), IPv6 address \(hasV6 ? "present" : "gone")")
                for decision in run.decisions where !HostProbe.isTunnelled(decision.host) {
                    #expect(decision.detail.contains("an address of this host"), "\(state): \(decision.host): \(decision.detail)")
                }
                #expect(listener.drain() == 0, "\(state): a connection through the proxy reached the host's listener")
            }
        } catch {
            await proxy.stop()
            throw error
        }
        await proxy.stop()
        HostNetworkTool.run("link", "set", interface, "up")
        #expect(HostWideListener.connectDirectly(v4, port: listener.port), "control: the added address does not answer directly")
        #expect(listener.drain() == 1)
        HostNetworkTool.run("link", "del", interface)
        #expect(try DestinationCheck.now().refusal(for: v4) == nil, "the address is no longer the host's once removed")
    }

    @Test("the unspecified address and 0.0.0.0/8, which the kernel delivers to the host, and addresses with a zone id reach nothing",
          arguments: [NetworkAccess.full, .allowlist])
    func unspecifiedAndZones(access: NetworkAccess) async throws {
        let listener = try HostWideListener()
        // Control: from the host, 0.0.0.0 is the host.
        #expect(HostWideListener.connectDirectly(try #require(IPAddress("0.0.0.0")), port: listener.port))
        #expect(listener.drain() == 1)
        var probes: [HostProbe] = []
        for text in ["0.0.0.0", "0.1.2.3", "0.255.255.255", "::"] {
            probes += HostProbe.all(for: try #require(IPAddress(text)), port: listener.port)
        }
        for name in ["0", "0x0", "00"] {
            probes.append(HostProbe(form: .http("CONNECT \(name):\(listener.port) HTTP/1.1\r\n\r\n"), host: name))
        }
        let planted = ["zero.test": [try #require(IPAddress("0.0.0.0")), try #require(IPAddress("::"))]]
        probes.append(HostProbe(form: .http("CONNECT zero.test:\(listener.port) HTTP/1.1\r\n\r\n"), host: "zero.test"))
        let run = try await HostProbeRun.run(probes, access: access, planted: planted)
        run.expectAllRefused("\(access)")

        // A zone id is no part of an address here, nor of a name: the request is malformed.
        var zoned: [HostProbe] = []
        for address in HostInterfaces.addresses() + [try #require(IPAddress("::1")), try #require(IPAddress("fe80::1"))] {
            for zone in ["%25lo", "%lo", "%1", "%25eth0"] {
                let host = "\(address)\(zone)"
                zoned.append(HostProbe(form: .http("CONNECT [\(host)]:\(listener.port) HTTP/1.1\r\n\r\n"), host: host))
                zoned.append(HostProbe(form: .http("GET http://[\(host)]:\(listener.port)/ HTTP/1.1\r\n\r\n"), host: host))
                zoned.append(HostProbe(form: .socks(type: 3, address: [UInt8(host.utf8.count)] + Array(host.utf8), port: listener.port),
                                       host: host))
            }
        }
        let proxy = try await HostProbeProxy(access: .full, allow: [], planted: [:])
        let zonedRun = try proxy.ask(zoned)
        await proxy.stop()
        for (probe, answer) in zonedRun.answers {
            #expect(answer.hasPrefix("HTTP/1.1 4") || (answer.hasPrefix("SOCKS ") && answer != "SOCKS 0"), "\(probe): \(answer.prefix(200))")
        }
        #expect(zonedRun.decisions.allSatisfy { $0.verdict == .refused && $0.address == nil })
        #expect(listener.drain() == 0, "a connection through the proxy reached the host's listener")
    }

    @Test("a range routed to the host itself (ip route add local) is refused on every address in it, and the answer says why",
          .enabled(if: HostNetworkTool.usable, "needs root and the ip tool, to add a local route to this host"))
    func locallyRoutedRange() async throws {
        let v4 = try #require(IPAddress("198.51.100.70"))
        let v6 = try #require(IPAddress("2001:db8:d0e6::70"))
        let listener = try HostWideListener()
        let names = HostProbe.planted(for: v4, port: listener.port, tag: "anyip")
        let probes = HostProbe.all(for: v4, port: listener.port) + HostProbe.all(for: v6, port: listener.port) + names.probes
        let removeRoutes = {
            HostNetworkTool.run("route", "del", "local", "198.51.100.64/26", "dev", "lo")
            HostNetworkTool.run("-6", "route", "del", "local", "2001:db8:d0e6::/64", "dev", "lo")
        }
        removeRoutes() // left by a run that was killed
        #expect(try DestinationCheck.now().refusal(for: v4) == nil)
        defer { removeRoutes() }
        for access in [NetworkAccess.full, .allowlist] {
            let run = try await HostProbeRun.run(probes, access: access, planted: names.resolver) {
                try #require(HostNetworkTool.run("route", "replace", "local", "198.51.100.64/26", "dev", "lo"))
                try #require(HostNetworkTool.run("-6", "route", "replace", "local", "2001:db8:d0e6::/64", "dev", "lo"))
            }
            run.expectAllRefused("\(access)")
            for decision in run.decisions where !HostProbe.isTunnelled(decision.host) {
                #expect(decision.detail.contains("an address of this host"), "\(decision.host): \(decision.detail)")
            }
            #expect(listener.drain() == 0, "a connection through the proxy reached the host's listener")
        }
        // Control: the kernel really does deliver the range to the host's listener.
        #expect(HostWideListener.connectDirectly(v4, port: listener.port))
        #expect(listener.drain() == 1)
    }
}

@Suite("network: the host's own addresses from inside a sandbox", .serialized)
struct NetworkHostAddressSandboxTests {
    @Test("--net full: CONNECT and plain GET from inside a run to a host listener on 0.0.0.0, by each host address, are refused")
    func fromInside() async throws {
        let addresses = HostInterfaces.addresses()
        try #require(!addresses.isEmpty, "this machine has no address but loopback and link-local ones to test with")
        let listener = try HostWideListener()
        var targets: [String] = []
        for address in addresses {
            let host = address.isIPv4 ? address.description : "[\(address)]"
            targets.append("\(host):\(listener.port)")
            if address.isIPv4 { targets.append("[::ffff:\(address)]:\(listener.port)") }
        }
        let ws = try ScratchWorkspace(files: ["probe.py": NetworkTestSupport.connectProbe])
        let first = targets[0]
        let result = try await NetworkTestSupport.run(
            ["sh", "-c", "python3 probe.py \"$@\"; curl -s -o /dev/null -w 'get=%{http_code}\\n' --max-time 20 http://\(first)/", "sh"] + targets,
            network: .full, workspace: ws)
        for index in targets.indices {
            #expect(result.escapeVerdicts["t\(index)"]?.hasPrefix("HTTP/1.1 403 ") == true, "\(targets[index]): \(result.stdout.text)")
        }
        #expect(result.escapeVerdicts["get"] == "403", "\(result.stdout.text)\n\(result.stderr.text)")
        #expect(result.networkDecisions.count == targets.count + 1)
        #expect(result.networkDecisions.allSatisfy { $0.verdict == .refused && $0.reason == .forbiddenAddress })
        #expect(listener.drain() == 0, "a connection from inside the sandbox reached the host's listener")
    }
}
