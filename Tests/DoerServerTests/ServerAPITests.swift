import DoerCore
@testable import DoerServer
import DoerStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@Suite("HTTP API: auth, isolation, limits")
struct ServerAuthTests {
    @Test("no token, a malformed header, an unknown token and a revoked token all get 401")
    func authFailures() async throws {
        let harness = try ServerHarness()
        let (token, record) = try harness.server.access.createToken(user: "ada")
        try await harness.test { client in
            let none = try await client.call(.get, "/v1/sessions", token: nil)
            #expect(none.status == .unauthorized)
            #expect(none.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true)
            #expect(none.errorMessage.contains("doer token create"))
            let basic = try await client.call(.get, "/v1/sessions", token: nil, headers: [.authorization: "Basic YTpi"])
            #expect(basic.status == .unauthorized)
            let bad = try await client.call(.get, "/v1/sessions", token: "doer_" + String(repeating: "0", count: 64))
            #expect(bad.status == .unauthorized)
            #expect(try await client.call(.get, "/v1/me", token: token).json["user"] as? String == "ada")
            try harness.server.access.revokeToken(id: record.id)
            let revoked = try await client.call(.get, "/v1/me", token: token)
            #expect(revoked.status == .unauthorized)
            #expect(revoked.errorMessage.contains("revoked"))
        }
    }

    @Test("tokens are stored only as SHA-256 hashes")
    func tokensHashed() throws {
        let harness = try ServerHarness()
        let token = try harness.token("ada")
        let database = try Data(contentsOf: harness.directories.accessDatabase)
        #expect(database.range(of: Data(token.utf8)) == nil)
        #expect(throws: DoerError.self) { try harness.server.access.createToken(user: "../etc") }
    }

    @Test("the web app and health check need no token; the page forbids inline scripts")
    func publicRoutes() async throws {
        let harness = try ServerHarness()
        try await harness.test { client in
            let page = try await client.call(.get, "/", token: nil)
            #expect(page.status == .ok)
            #expect(page.text.contains("<script type=\"module\" src=\"/ui/app.js\">"))
            #expect(page.headers[.contentSecurityPolicy]?.contains("script-src 'self'") == true)
            let script = try await client.call(.get, "/ui/app.js", token: nil)
            #expect(script.status == .ok)
            #expect(script.headers[.contentType]?.hasPrefix("text/javascript") == true)
            #expect(!script.text.contains("innerHTML"))
            #expect(try await client.call(.get, "/ui/../Package.swift", token: nil).status == .notFound)
            #expect(try await client.call(.get, "/healthz", token: nil).status == .ok)
            // CORS is off by default: no CORS headers for a cross-origin request.
            let cross = try await client.call(.get, "/v1/me", token: nil, headers: [HTTPField.Name("Origin")!: "https://evil.example"])
            #expect(cross.headers[.accessControlAllowOrigin] == nil)
        }
    }

    @Test("CORS only for the origin named with --cors-origin")
    func corsWhenConfigured() async throws {
        let harness = try ServerHarness(corsOrigins: ["https://app.example"])
        let ada = try harness.token("ada")
        try await harness.test { client in
            let allowed = try await client.call(.get, "/v1/me", token: ada, headers: [HTTPField.Name("Origin")!: "https://app.example"])
            #expect(allowed.headers[.accessControlAllowOrigin] == "https://app.example")
            let other = try await client.call(.get, "/v1/me", token: ada, headers: [HTTPField.Name("Origin")!: "https://evil.example"])
            #expect(other.headers[.accessControlAllowOrigin] == nil)
            let preflight = try await client.call(.options, "/v1/sessions", token: nil, headers: [
                HTTPField.Name("Origin")!: "https://app.example", HTTPField.Name("Access-Control-Request-Method")!: "POST",
            ])
            #expect(preflight.headers[.accessControlAllowOrigin] == "https://app.example")
        }
    }

    @Test("another user's session is 404 on every route, and absent from their list")
    func isolation() async throws {
        let harness = try ServerHarness()
        let ada = try harness.token("ada"), bob = try harness.token("bob")
        try await harness.test { client in
            let created = try await client.call(.post, "/v1/sessions", token: ada,
                                                json: #"{"title": "private work", "files": {"secret.txt": "ada's"}}"#)
            #expect(created.status == .created)
            let id = try #require(created.json["id"] as? String)
            #expect(try await client.call(.get, "/v1/sessions/\(id)", token: ada).status == .ok)
            for path in ["", "/events?follow=false", "/diff", "/files", "/files/secret.txt", "/approvals", "/audit"] {
                let response = try await client.call(.get, "/v1/sessions/\(id)\(path)", token: bob)
                #expect(response.status == .notFound, "GET \(path)")
                #expect(!response.text.contains("ada's"))
            }
            #expect(try await client.call(.post, "/v1/sessions/\(id)/messages", token: bob, json: #"{"text": "steal"}"#).status == .notFound)
            #expect(try await client.call(.post, "/v1/sessions/\(id)/approvals/x", token: bob, json: #"{"approve": true}"#).status == .notFound)
            #expect(try await client.call(.post, "/v1/sessions/\(id)/cancel", token: bob).status == .notFound)
            // A link planted in the workspace cannot reach outside it.
            let workspace = try harness.server.store.session(id).workspace
            try FileManager.default.createSymbolicLink(atPath: workspace + "/escape.txt", withDestinationPath: harness.directories.accessDatabase.path)
            let escaped = try await client.call(.get, "/v1/sessions/\(id)/files/escape.txt", token: ada)
            #expect(escaped.status == .notFound)
            #expect(try await client.call(.get, "/v1/sessions/\(id)/files/secret.txt", token: ada).text == "ada's")
            // A prefix of the id is not the id.
            #expect(try await client.call(.get, "/v1/sessions/\(id.prefix(8))", token: ada).status == .notFound)
            let bobs = try await client.call(.get, "/v1/sessions", token: bob).json["sessions"] as? [Any]
            #expect(bobs?.isEmpty == true)
            let adas = try await client.call(.get, "/v1/sessions", token: ada).json["sessions"] as? [[String: Any]]
            #expect(adas?.map { $0["id"] as? String } == [id])
        }
    }

    @Test("unknown session, unknown approval, bad event id")
    func notFound() async throws {
        let harness = try ServerHarness()
        let ada = try harness.token("ada")
        try await harness.test { client in
            let missing = try await client.call(.get, "/v1/sessions/00000000-0000-0000-0000-000000000000", token: ada)
            #expect(missing.status == .notFound)
            #expect(missing.errorMessage.contains("no session"))
            let id = try #require(try await client.call(.post, "/v1/sessions", token: ada, json: #"{"title": "t"}"#).json["id"] as? String)
            let approval = try await client.call(.post, "/v1/sessions/\(id)/approvals/nope", token: ada, json: #"{"approve": true}"#)
            #expect(approval.status == .notFound)
            let badID = try await client.call(.get, "/v1/sessions/\(id)/events?follow=false", token: ada,
                                              headers: [HTTPField.Name("Last-Event-ID")!: "abc"])
            #expect(badID.status == .badRequest)
            #expect(try await client.call(.post, "/v1/sessions/\(id)/cancel", token: ada).status == .conflict)
        }
    }

    @Test("malformed JSON and missing fields get 400 with a message that says what is wrong")
    func malformed() async throws {
        let harness = try ServerHarness()
        let ada = try harness.token("ada")
        try await harness.test { client in
            let broken = try await client.call(.post, "/v1/sessions", token: ada, json: #"{"title": "#)
            #expect(broken.status == .badRequest)
            #expect(!broken.errorMessage.isEmpty)
            let empty = try await client.call(.post, "/v1/sessions", token: ada, json: "{}")
            #expect(empty.status == .badRequest)
            #expect(empty.errorMessage.contains("message"))
            let wrongType = try await client.call(.post, "/v1/executions", token: ada, json: #"{"language": 3, "code": "x"}"#)
            #expect(wrongType.status == .badRequest)
            #expect(wrongType.errorMessage.contains("language"))
            let id = try #require(try await client.call(.post, "/v1/sessions", token: ada, json: #"{"title": "t"}"#).json["id"] as? String)
            let noText = try await client.call(.post, "/v1/sessions/\(id)/messages", token: ada, json: #"{"txt": "hi"}"#)
            #expect(noText.status == .badRequest)
            #expect(noText.errorMessage.contains("text"))
            let escape = try await client.call(.post, "/v1/sessions", token: ada, json: #"{"title": "t", "files": {"../x": "y"}}"#)
            #expect(escape.status == .badRequest)
            #expect(escape.errorMessage.contains("../x"))
        }
    }

    @Test("bodies over the limit get 413, declared or not")
    func oversized() async throws {
        let harness = try ServerHarness(maxBodyBytes: 4096)
        let ada = try harness.token("ada")
        try await harness.test { client in
            let big = #"{"title": "x", "files": {"a.txt": ""# + String(repeating: "a", count: 10_000) + #""}}"#
            let response = try await client.call(.post, "/v1/sessions", token: ada, json: big)
            #expect(response.status == .contentTooLarge)
            let exec = try await client.call(.post, "/v1/executions", token: ada,
                                             json: #"{"language": "python", "code": ""# + String(repeating: "#", count: 5000) + #""}"#)
            #expect(exec.status == .contentTooLarge)
            let sessions = try await client.call(.get, "/v1/sessions", token: ada).json["sessions"] as? [Any]
            #expect(sessions?.isEmpty == true)
        }
    }

    @Test("each token has its own bucket: over the burst, 429 with Retry-After")
    func rateLimit() async throws {
        let harness = try ServerHarness(rate: 0.01, burst: 3)
        let ada = try harness.token("ada"), bob = try harness.token("bob")
        try await harness.test { client in
            for _ in 0..<3 { #expect(try await client.call(.get, "/v1/me", token: ada).status == .ok) }
            let limited = try await client.call(.get, "/v1/me", token: ada)
            #expect(limited.status == .tooManyRequests)
            #expect(Int(limited.headers[.retryAfter] ?? "") ?? 0 >= 1)
            #expect(try await client.call(.get, "/v1/me", token: bob).status == .ok)
        }
    }
}

@Suite("a server on loopback answers only for loopback names")
struct LoopbackHostTests {
    @Test("Host names: loopback ones with any port, the allowed ones; a rebinding page's own name is refused")
    func names() {
        for host in ["localhost", "localhost:8080", "127.0.0.1:8080", "127.0.0.2", "[::1]:8080", "LOCALHOST"] {
            #expect(LoopbackHostMiddleware.accepts(host, allowed: []), "\(host)")
        }
        for host in ["evil.example", "evil.example:8080", "127.0.0.1.evil.example", "localhost.evil.example", "[::2]:80", "0.0.0.0"] {
            #expect(!LoopbackHostMiddleware.accepts(host, allowed: []), "\(host)")
        }
        #expect(LoopbackHostMiddleware.accepts("doer.internal:443", allowed: ["doer.internal"]))
    }

    @Test("a live server on loopback: /metrics, the web app and the API for Host: evil.example get 421; for localhost or an allowed name, answers")
    func live() async throws {
        let harness = try ServerHarness { $0.allowedHosts = ["proxy.internal"]; $0.port = 0 }
        try await LiveServer.run(harness) { port in
            for path in ["/metrics", "/", "/v1/sessions"] {
                let connection = try RawConnection(port: port)
                connection.send("GET \(path) HTTP/1.1\r\nHost: evil.example:\(port)\r\nConnection: close\r\n\r\n")
                #expect(await connection.response() == "HTTP/1.1 421 Misdirected Request", "\(path)")
            }
            for host in ["127.0.0.1:\(port)", "localhost", "proxy.internal"] {
                let connection = try RawConnection(port: port)
                connection.send("GET /metrics HTTP/1.1\r\nHost: \(host)\r\nConnection: close\r\n\r\n")
                #expect(await connection.response() == "HTTP/1.1 200 OK", "\(host)")
            }
        }
    }
}
