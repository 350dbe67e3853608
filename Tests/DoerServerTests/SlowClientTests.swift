import DoerCore
@testable import DoerServer
import DoerRuntime
import DoerStore
import Foundation
import NIOCore
import Testing

/// Clients that send slowly or hold many connections cannot keep the server's connections:
/// `doer serve` bounds the time to send a request's head (and body) and the connections
/// per client address. No test measures how fast: each waits generously for the close.
@Suite("doer serve: slow and greedy clients")
struct SlowClientTests {
    static func harness(head: Double = 1, body: Double = 1, perAddress: Int = 32) throws -> ServerHarness {
        try ServerHarness { options in
            options.port = 0
            options.headTimeoutSeconds = head
            options.bodyTimeoutSeconds = body
            options.maxConnectionsPerAddress = perAddress
        }
    }

    @Test("half a request head, then nothing: the server closes the connection")
    func halfHead() async throws {
        try await LiveServer.run(try Self.harness()) { port in
            for partial in ["GET /healthz HTTP/1.1\r\nHost: localhost\r\n", "GET /healthz HTTP/1.1\r\n", "GE", ""] {
                let connection = try RawConnection(port: port)
                connection.send(partial)
                #expect(await connection.closedByServer(), "after \(partial.debugDescription)")
            }
        }
    }

    @Test("a head that keeps trickling in is closed all the same: the deadline is not pushed back by bytes")
    func trickle() async throws {
        try await LiveServer.run(try Self.harness()) { port in
            let connection = try RawConnection(port: port)
            #expect(connection.send("GET /healthz HTTP/1.1\r\nHost: localhost\r\n"))
            var closed = false
            // A header line every 100 ms, for up to 60 s, stops as soon as the server hangs up.
            for index in 0..<600 where !closed {
                if !connection.send("X-Slow-\(index): y\r\n") { closed = true; break }
                closed = await connection.closedByServer(within: 0.1)
            }
            #expect(closed)
        }
    }

    @Test("after a complete request on a kept-alive connection, a stalled next head is closed too")
    func keepAliveThenStall() async throws {
        try await LiveServer.run(try Self.harness()) { port in
            let connection = try RawConnection(port: port)
            connection.send("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
            #expect(await connection.response() == "HTTP/1.1 200 OK")
            connection.send("GET /healthz HTTP/1.1\r\nHo")
            #expect(await connection.closedByServer())
        }
    }

    @Test("a body that never finishes is closed")
    func slowBody() async throws {
        let harness = try Self.harness()
        let token = try harness.token("ada")
        try await LiveServer.run(harness) { port in
            let connection = try RawConnection(port: port)
            connection.send("POST /v1/executions HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer \(token)\r\n"
                + "Content-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"language\": ")
            #expect(await connection.closedByServer())
        }
    }

    @Test("normal requests are unaffected, even one the server takes longer to answer than the head timeout")
    func normalRequests() async throws {
        // Deadlines short enough that the slow answer outlasts them, long enough that a
        // loaded machine still sends each next request in time.
        let harness = try Self.harness(head: 8, body: 8)
        let token = try harness.token("ada")
        try await LiveServer.run(harness) { port in
            let connection = try RawConnection(port: port)
            let statuses = await connection.exchange(Array(repeating: "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n", count: 3))
            #expect(statuses == Array(repeating: "HTTP/1.1 200 OK", count: 3), "\(connection.lastFailure)")
            let body = #"{"language": "python", "code": "import time\ntime.sleep(9)\nprint('slept')"}"#
            let slow = try RawConnection(port: port)
            let status = await slow.exchange(["POST /v1/executions HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer \(token)\r\n"
                + "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"])
            #expect(status == ["HTTP/1.1 200 OK"], "\(slow.lastFailure)")
        }
    }

    @Test("more connections than the per-address limit: the extra ones are closed, the others still served")
    func perAddress() async throws {
        try await LiveServer.run(try Self.harness(head: 600, perAddress: 3)) { port in
            let held = try (0..<3).map { _ in try RawConnection(port: port) }
            // Each is counted once the server has it: a request answered proves it.
            for connection in held {
                connection.send("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
                #expect(await connection.response() == "HTTP/1.1 200 OK")
            }
            for source in [nil, "127.0.0.2", "127.0.0.3"] {
                // Another loopback address is the same host: it does not get a fresh allowance.
                let extra = try RawConnection(port: port, source: source)
                extra.send("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
                #expect(await extra.closedByServer(), "from \(source ?? "127.0.0.1")")
            }
            for connection in held {
                connection.send("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
                #expect(await connection.response() == "HTTP/1.1 200 OK", "the admitted ones are untouched")
            }
            // Closing one makes room again (the server sees the close a moment later).
            held[0].send("GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            #expect(await held[0].response() == "HTTP/1.1 200 OK")
            #expect(await held[0].closedByServer())
            held[0].hangUp()
            var served = false
            for _ in 0..<100 where !served {
                try await Task.sleep(for: .milliseconds(50))
                let again = try RawConnection(port: port)
                again.send("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
                served = await again.response(within: 5) == "HTTP/1.1 200 OK"
            }
            #expect(served)
        }
    }

    @Test("connections closed by the deadline give their place back")
    func deadlineFreesPlace() async throws {
        try await LiveServer.run(try Self.harness(head: 1, perAddress: 2)) { port in
            for _ in 0..<3 {
                let stalled = try (0..<2).map { _ in try RawConnection(port: port) }
                for connection in stalled { #expect(await connection.closedByServer()) }
            }
            var served = false
            for _ in 0..<100 where !served {
                try await Task.sleep(for: .milliseconds(50))
                let fresh = try RawConnection(port: port)
                fresh.send("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
                served = await fresh.response(within: 5) == "HTTP/1.1 200 OK"
            }
            #expect(served)
        }
    }

    @Test("pipelined requests are each answered, and a partial head after them is closed by the head deadline")
    func pipelined() async throws {
        try await LiveServer.run(try Self.harness()) { port in
            let connection = try RawConnection(port: port)
            let request = "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"
            connection.send(String(repeating: request, count: 4) + "GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Stalled: y")
            let received = await connection.readUntilClosed()
            #expect(received.closed, "the stalled head after the pipelined requests was not closed")
            #expect(received.text.components(separatedBy: "HTTP/1.1 200 OK").count - 1 == 4, "\(received.text.prefix(2000))")
        }
    }

    @Test("a chunked body that keeps trickling in is closed: the body deadline is not pushed back by chunks")
    func trickledChunks() async throws {
        let harness = try Self.harness()
        let token = try harness.token("ada")
        try await LiveServer.run(harness) { port in
            let connection = try RawConnection(port: port)
            connection.send("POST /v1/executions HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer \(token)\r\n"
                + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
            var closed = false
            // A one-byte chunk every 100 ms, for up to 60 s, stops as soon as the server hangs up.
            for _ in 0..<600 where !closed {
                if !connection.send("1\r\n \r\n") { closed = true; break }
                closed = await connection.closedByServer(within: 0.1)
            }
            #expect(closed)
        }
    }

    @Test("a stream opened before its token was revoked ends at the next ping; the token opens no new one")
    func revokedTokenStream() async throws {
        let harness = try Self.harness(head: 10)
        let created = try harness.server.access.createToken(user: "ada")
        let session = try harness.runtime.store.createSession(task: "streams", workspace: "/nowhere")
        try harness.server.access.setOwner("ada", ofSession: session.id)
        try await LiveServer.run(harness) { port in
            let stream = try RawConnection(port: port)
            stream.send("GET /v1/sessions/\(session.id)/events HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer \(created.token)\r\n\r\n")
            #expect(await stream.response(within: 30) == "HTTP/1.1 200 OK")
            try harness.server.access.revokeToken(id: created.record.id)
            #expect(await stream.closedByServer(within: 40), "the stream ends at the ping after the revocation (every 15 s)")
            let again = try RawConnection(port: port)
            again.send("GET /v1/sessions/\(session.id)/events HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer \(created.token)\r\n\r\n")
            #expect(await again.response(within: 30) == "HTTP/1.1 401 Unauthorized")
        }
    }

    @Test("event streams count against the per-address limit, and are not cut by the head deadline while they stream")
    func eventStreamsCount() async throws {
        let harness = try Self.harness(head: 1, perAddress: 3)
        let token = try harness.token("ada")
        try await LiveServer.run(harness) { port in
            let create = try RawConnection(port: port)
            let body = #"{"title": "streams"}"#
            create.send("POST /v1/sessions HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer \(token)\r\n"
                + "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)")
            let created = await create.readUntilClosed()
            let id = try #require(created.text.range(of: #""id":"[^"]+""#, options: .regularExpression).map {
                String(created.text[$0].dropFirst(6).dropLast())
            }, "\(created.text)")
            create.hangUp()
            // Three streams from this address: each answered with its head and left open.
            var streams: [RawConnection] = []
            for _ in 0..<3 {
                var admitted: RawConnection?
                // The session's creating connection may still be counted for a moment.
                for _ in 0..<100 where admitted == nil {
                    let stream = try RawConnection(port: port)
                    stream.send("GET /v1/sessions/\(id)/events HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer \(token)\r\n"
                        + "Accept: text/event-stream\r\n\r\n")
                    if await stream.response(within: 30) == "HTTP/1.1 200 OK" { admitted = stream } else {
                        try await Task.sleep(for: .milliseconds(50))
                    }
                }
                streams.append(try #require(admitted, "stream \(streams.count) was not served"))
            }
            // A fourth connection from the same address is over the limit.
            let extra = try RawConnection(port: port)
            extra.send("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
            #expect(await extra.closedByServer())
            // The streams are the server's answer still under way, which the head deadline does not time.
            for stream in streams { #expect(!(await stream.closedByServer(within: 3)), "a stream was cut while it streamed") }
        }
    }

    @Test("addresses are counted the way one client can vary them")
    func clientKeys() throws {
        func key(_ ip: String) throws -> String { ConnectionsPerAddress.client(of: try SocketAddress(ipAddress: ip, port: 1)) }
        #expect(try key("127.0.0.1") == key("127.9.9.9"))
        #expect(try key("::1") == key("127.0.0.1"))
        #expect(try key("::ffff:192.0.2.7") == key("192.0.2.7"))
        #expect(try key("2001:db8:1:2::1") == key("2001:db8:1:2:ffff::9"), "one /64 is one client")
        #expect(try key("2001:db8:1:2::1") != key("2001:db8:1:3::1"))
        #expect(try key("192.0.2.7") != key("192.0.2.8"))

        let connections = ConnectionsPerAddress(limit: 2)
        #expect(connections.admit("a") && connections.admit("a"))
        #expect(!connections.admit("a"))
        #expect(connections.admit("b"))
        connections.release("a")
        #expect(connections.admit("a"))
        #expect(connections.count("a") == 2)
    }
}

extension RawConnection {
    /// Everything the server sends until it closes the connection (at most `seconds`, off the
    /// test's threads), and whether it closed.
    func readUntilClosed(within seconds: Double = 60) async -> (text: String, closed: Bool) {
        let fd = self.fd
        return await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                let end = Date().addingTimeInterval(seconds)
                var received: [UInt8] = []
                var buffer = [UInt8](repeating: 0, count: 4096)
                while Date() < end {
                    var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                    guard poll(&entry, 1, 200) > 0 else { continue }
                    let count = recv(fd, &buffer, buffer.count, 0)
                    if count <= 0 {
                        continuation.resume(returning: (String(decoding: received, as: UTF8.self), true))
                        return
                    }
                    received += buffer[0..<count]
                }
                continuation.resume(returning: (String(decoding: received, as: UTF8.self), false))
            }
        }
    }
}
