// The egress proxy driven directly over its unix socket, as the bridge would: every
// destination here is refused before a connection is made, so nothing leaves the machine.

import DoerCore
@testable import DoerSandbox
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import Testing

/// A blocking client of the proxy's unix socket, with a receive timeout so no test hangs.
final class ProxySocketClient {
    let fd: Int32

    init(path: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EMFILE) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.utf8.prefix(raw.count - 1).enumerated() { raw[index] = byte }
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        // On a throw the (fully initialized) object is released and deinit closes fd.
        guard connected == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .ECONNREFUSED) }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    func send(bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Up to `count` bytes, or fewer when the proxy closes first.
    func read(count: Int) -> [UInt8] {
        var data = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: count)
        while data.count < count {
            let got = recv(fd, &buffer, count - data.count, 0)
            if got <= 0 { break }
            data += buffer[0..<got]
        }
        return data
    }

    func send(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Everything until the proxy closes (or the timeout).
    func readAll() -> String {
        var data = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count <= 0 { break }
            data += buffer[0..<count]
        }
        return String(decoding: data, as: UTF8.self)
    }

    deinit { if fd >= 0 { close(fd) } }
}

/// Records every name the proxy asks about, so a test can prove no lookup happened.
final class RecordingResolver: HostResolver {
    let asked = NIOLockedValueBox<[String]>([])

    func resolve(_ host: String, on eventLoop: any EventLoop) -> EventLoopFuture<[IPAddress]> {
        asked.withLockedValue { $0.append(host) }
        return SystemHostResolver().resolve(host, on: eventLoop)
    }
}

/// A proxy on a fresh socket for one test.
final class TestProxy: @unchecked Sendable {
    let directory: URL
    let proxy: EgressProxy
    let resolver = RecordingResolver()

    init(access: NetworkAccess, allow: [String], limits: ProxyLimits = ProxyLimits()) async throws {
        directory = URL(fileURLWithPath: "/tmp/doer-proxy-\(UUID().uuidString.prefix(8))", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        proxy = try await EgressProxy.start(socketPath: directory.appendingPathComponent("p.sock").path,
                                            rules: EgressRules(access: access, allowlist: try HostAllowlist(parsing: allow)),
                                            limits: limits, resolver: resolver)
    }

    func client() throws -> ProxySocketClient { try ProxySocketClient(path: proxy.socketPath) }

    /// One request on its own connection; the whole answer.
    func ask(_ request: String) throws -> String {
        let connection = try client()
        connection.send(request)
        return connection.readAll()
    }

    func stop() async {
        await proxy.shutdown()
        try? FileManager.default.removeItem(at: directory)
    }
}

@Suite("network: egress proxy")
struct EgressProxyTests {
    @Test("CONNECT to loopback, private, link-local and metadata addresses is refused after resolving, even when listed")
    func forbiddenAddresses() async throws {
        let targets = ["127.0.0.1:22", "10.0.0.1:80", "169.254.169.254:80", "localhost:22", "[::1]:22",
                       "[fd00:ec2::254]:80", "[::ffff:127.0.0.1]:22", "192.168.0.1:443", "100.64.0.1:443", "0.0.0.0:80"]
        let allow = ["127.0.0.1", "10.0.0.1", "169.254.169.254", "localhost", "::1", "fd00:ec2::254", "::ffff:127.0.0.1",
                     "192.168.0.1", "100.64.0.1", "0.0.0.0"]
        let proxy = try await TestProxy(access: .allowlist, allow: allow)
        for target in targets {
            let answer = try proxy.ask("CONNECT \(target) HTTP/1.1\r\nHost: \(target)\r\n\r\n")
            #expect(answer.hasPrefix("HTTP/1.1 403 "), "\(target): \(answer)")
            #expect(answer.contains("may not reach"), "\(target): \(answer)")
        }
        await proxy.stop()
        let decisions = proxy.proxy.recordedDecisions
        #expect(decisions.count == targets.count)
        #expect(decisions.allSatisfy { $0.verdict == .refused && $0.reason == .forbiddenAddress && $0.bytesSent == 0 })
        let localhost = try #require(decisions.first { $0.host == "localhost" })
        #expect(localhost.detail.contains("loopback"))
        // Only the name was looked up; literals never are.
        #expect(proxy.resolver.asked.withLockedValue { $0 } == ["localhost"])
    }

    @Test("full access still refuses internal addresses")
    func fullStillRefusesInternal() async throws {
        let proxy = try await TestProxy(access: .full, allow: [])
        for target in ["127.0.0.1:8080", "169.254.169.254:80", "localhost:5432", "10.1.2.3:22"] {
            let answer = try proxy.ask("CONNECT \(target) HTTP/1.1\r\n\r\n")
            #expect(answer.hasPrefix("HTTP/1.1 403 "), "\(target): \(answer)")
        }
        let plain = try proxy.ask("GET http://127.0.0.1:8080/admin HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n")
        #expect(plain.hasPrefix("HTTP/1.1 403 "), "\(plain)")
        await proxy.stop()
        #expect(proxy.proxy.recordedDecisions.allSatisfy { $0.reason == .forbiddenAddress })
    }

    @Test("a host not on the list is refused by name, before any DNS lookup, with the remedy in the answer")
    func notListed() async throws {
        let proxy = try await TestProxy(access: .allowlist, allow: ["*.allowed.test"])
        let answer = try proxy.ask("CONNECT not-listed.test:443 HTTP/1.1\r\n\r\n")
        #expect(answer.hasPrefix("HTTP/1.1 403 doer network policy CONNECT not-listed.test:443: not-listed.test is not allowed"), "\(answer)")
        #expect(answer.contains("--allow not-listed.test"))
        let plain = try proxy.ask("GET http://NOT-listed.test./simple/ HTTP/1.1\r\n\r\n")
        #expect(plain.hasPrefix("HTTP/1.1 403 "), "\(plain)")
        let lookalike = try proxy.ask("CONNECT allowed.test.evil.test:443 HTTP/1.1\r\n\r\n")
        #expect(lookalike.hasPrefix("HTTP/1.1 403 "), "\(lookalike)")
        await proxy.stop()
        #expect(proxy.resolver.asked.withLockedValue { $0 }.isEmpty)
        let decisions = proxy.proxy.recordedDecisions
        #expect(decisions.map(\.host) == ["not-listed.test", "not-listed.test", "allowed.test.evil.test"])
        #expect(decisions.allSatisfy { $0.verdict == .refused && $0.reason == .hostNotAllowed })
    }

    @Test("an allowed name that does not resolve fails cleanly and is reported")
    func unresolvable() async throws {
        let proxy = try await TestProxy(access: .allowlist, allow: ["no-such-host.invalid"])
        let answer = try proxy.ask("CONNECT no-such-host.invalid:443 HTTP/1.1\r\n\r\n")
        #expect(answer.hasPrefix("HTTP/1.1 502 "), "\(answer)")
        await proxy.stop()
        #expect(proxy.proxy.recordedDecisions.first?.verdict == .failed)
        #expect(proxy.proxy.recordedDecisions.first?.reason == .unresolvable)
    }

    @Test("malformed and oversized requests get an error, and the proxy keeps serving")
    func malformed() async throws {
        var limits = ProxyLimits()
        limits.maxHeaderBytes = 4096
        let proxy = try await TestProxy(access: .allowlist, allow: ["localhost"], limits: limits)
        let inputs = [
            "\u{01}\u{02}garbage\r\n\r\n",
            "GET /just-a-path HTTP/1.1\r\nHost: x\r\n\r\n",
            "CONNECT no-port.test HTTP/1.1\r\n\r\n",
            "CONNECT bad host:443 HTTP/1.1\r\n\r\n",
            "GET https://tls.test/ HTTP/1.1\r\n\r\n",
            "GET ftp://files.test/ HTTP/1.1\r\n\r\n",
            "CONNECT localhost:22 HTTP/1.1\r\nX-Big: \(String(repeating: "a", count: 8000))\r\n\r\n",
            "CONNECT localhost:22 HTTP/1.1\r\nBroken header line\r\n\r\n",
        ]
        for input in inputs {
            let answer = try proxy.ask(input)
            #expect(answer.hasPrefix("HTTP/1.1 4"), "\(input.prefix(40)): \(answer.prefix(200))")
        }
        // A client that sends nothing and closes.
        do { _ = try proxy.client() }
        let alive = try proxy.ask("CONNECT localhost:22 HTTP/1.1\r\n\r\n")
        #expect(alive.hasPrefix("HTTP/1.1 403 "), "\(alive)")
        await proxy.stop()
        let reasons = proxy.proxy.recordedDecisions.map(\.reason)
        #expect(reasons.contains(.malformedRequest) && reasons.contains(.unsupportedRequest))
        #expect(reasons.filter { $0 == .forbiddenAddress }.count == 1)
    }

    @Test("slow clients time out on the request head, the connection limit holds, and the proxy keeps serving")
    func slowloris() async throws {
        var limits = ProxyLimits()
        limits.headerTimeoutSeconds = 0.5
        limits.maxConcurrentConnections = 6
        let proxy = try await TestProxy(access: .allowlist, allow: ["localhost"], limits: limits)
        // Six slow clients fill the proxy: each sends half a head and then nothing.
        var slow: [ProxySocketClient] = []
        for _ in 0..<6 {
            let client = try proxy.client()
            client.send("CONNECT local")
            slow.append(client)
        }
        // A seventh is turned away at once rather than queued.
        let extra = try proxy.ask("CONNECT localhost:22 HTTP/1.1\r\n\r\n")
        #expect(extra.hasPrefix("HTTP/1.1 503 "), "\(extra)")
        for client in slow {
            let answer = client.readAll()
            #expect(answer.hasPrefix("HTTP/1.1 408 "), "\(answer)")
        }
        slow.removeAll()
        // Once they are gone, new clients are served as before.
        var answer = ""
        for _ in 0..<20 {
            answer = try proxy.ask("CONNECT localhost:22 HTTP/1.1\r\n\r\n")
            if answer.hasPrefix("HTTP/1.1 403 ") { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(answer.hasPrefix("HTTP/1.1 403 "), "\(answer)")
        await proxy.stop()
        let reasons = proxy.proxy.recordedDecisions.map(\.reason)
        #expect(reasons.filter { $0 == .headerTimeout }.count == 6)
        #expect(reasons.contains(.connectionLimit))
    }

    @Test("decisions also arrive on the stream, in order")
    func decisionStream() async throws {
        let proxy = try await TestProxy(access: .allowlist, allow: [])
        _ = try proxy.ask("CONNECT a.test:443 HTTP/1.1\r\n\r\n")
        _ = try proxy.ask("CONNECT b.test:443 HTTP/1.1\r\n\r\n")
        await proxy.stop()
        var hosts: [String] = []
        for await decision in proxy.proxy.decisions { hosts.append(decision.host) }
        #expect(hosts == ["a.test", "b.test"])
    }

    /// A SOCKS5 CONNECT by name (address type 3); the reply code, or nil when the proxy
    /// closed before replying.
    static func socksConnect(_ proxy: TestProxy, host: String? = nil, ipv4: [UInt8]? = nil, port: UInt16,
                             methods: [UInt8] = [0], command: UInt8 = 1) throws -> (method: UInt8?, reply: UInt8?) {
        let client = try proxy.client()
        client.send(bytes: [5, UInt8(methods.count)] + methods)
        let choice = client.read(count: 2)
        guard choice.count == 2, choice[1] == 0 else { return (choice.count == 2 ? choice[1] : nil, nil) }
        var request: [UInt8] = [5, command, 0]
        if let host { request += [3, UInt8(host.utf8.count)] + Array(host.utf8) } else { request += [1] + (ipv4 ?? []) }
        request += [UInt8(port >> 8), UInt8(port & 0xff)]
        client.send(bytes: request)
        let reply = client.read(count: 10)
        return (0, reply.count >= 2 ? reply[1] : nil)
    }

    @Test("SOCKS5: names are decided before lookup, addresses vetted after; refusals get 'not allowed'")
    func socks() async throws {
        let proxy = try await TestProxy(access: .allowlist, allow: ["localhost", "127.0.0.1", "10.0.0.1"])
        let notListed = try Self.socksConnect(proxy, host: "not-listed.test", port: 443)
        #expect(notListed.reply == 2)
        let loopbackName = try Self.socksConnect(proxy, host: "localhost", port: 22)
        #expect(loopbackName.reply == 2)
        let loopback = try Self.socksConnect(proxy, ipv4: [127, 0, 0, 1], port: 22)
        #expect(loopback.reply == 2)
        let privateAddress = try Self.socksConnect(proxy, ipv4: [10, 0, 0, 1], port: 80)
        #expect(privateAddress.reply == 2)
        let bind = try Self.socksConnect(proxy, host: "localhost", port: 22, command: 2)
        #expect(bind.reply == 7)
        let authOnly = try Self.socksConnect(proxy, host: "localhost", port: 22, methods: [2])
        #expect(authOnly.method == 0xff && authOnly.reply == nil)
        // Garbage after the version byte, then a clean request still works.
        let garbage = try proxy.client()
        garbage.send(bytes: [5, 0])
        _ = garbage.read(count: 2)
        garbage.send(bytes: [9, 9, 9, 9, 9, 9])
        #expect(garbage.read(count: 10).count < 10)
        #expect(try Self.socksConnect(proxy, host: "localhost", port: 22).reply == 2)
        await proxy.stop()
        let decisions = proxy.proxy.recordedDecisions
        #expect(decisions.filter { $0.method == "SOCKS5" && $0.reason == .hostNotAllowed }.map(\.host) == ["not-listed.test"])
        #expect(decisions.filter { $0.reason == .forbiddenAddress }.count == 4)
        #expect(proxy.resolver.asked.withLockedValue { $0 } == ["localhost", "localhost"])
    }
}
