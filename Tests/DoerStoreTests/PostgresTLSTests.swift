import DoerCore
@testable import DoerStore
import Foundation
import Testing

/// TLS to PostgreSQL over TCP, with libpq's `sslmode`, `sslrootcert`, `sslcert` and `sslkey`, against a real
/// server that accepts TCP connections only with TLS (pg_hba `hostnossl … reject`).
@Suite("PostgreSQL over TLS")
struct PostgresTLSTests {

    /// Why the URL is refused before connecting, or "accepted".
    private static func refusal(_ url: String) -> String {
        do {
            _ = try PostgresAddress(url: url)
            return "accepted"
        } catch {
            return error.description
        }
    }

    private func database(_ server: TemporaryPostgresServer) throws -> String {
        let name = "tls_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(12)
        try server.psql("CREATE DATABASE \(name)", database: "postgres")
        return String(name)
    }

    private func opens(_ url: String) throws -> Bool {
        let store = try PostgresStore(url: url)
        defer { store.close() }
        return try store.setting("ssl") == "on"
    }

    @Test("require and verify-full with the authority connect; the audit trail is written and verified over TLS")
    func connects() throws {
        // A server of its own, whose certificate names localhost, stopped when the test ends.
        let server = try TemporaryPostgresServer(tlsName: "localhost")
        defer { server.stop() }
        let name = try database(server)
        let authority = try #require(server.certificateAuthority)
        #expect(try opens(server.tcpURL(database: name, sslmode: "require")))
        let url = server.tcpURL(database: name, sslmode: "verify-full", rootCertificate: authority)
        let stores = try Stores.open(StoreSettings(url: url), directories: DataDirectory(), auditKey: nil)
        for index in 0..<3 { _ = try stores.audit.append(kind: "test", session: nil, actor: "tls", details: ["n": .string("\(index)")]) }
        let verification = try stores.audit.verify()
        #expect(verification.intact && verification.records == 3)
        // And the rows are there, read back over the socket.
        #expect(try server.psql("SELECT count(*) FROM audit", database: name).trimmingCharacters(in: .whitespacesAndNewlines) == "3")
    }

    @Test("without TLS the server refuses the connection, and the error says so")
    func disableRefused() throws {
        // A server of its own, whose certificate names localhost, stopped when the test ends.
        let server = try TemporaryPostgresServer(tlsName: "localhost")
        defer { server.stop() }
        let name = try database(server)
        do {
            _ = try opens(server.tcpURL(database: name, sslmode: "disable"))
            Issue.record("a connection without TLS was let in")
        } catch {
            #expect("\(error)".contains("cannot connect"), "\(error)")
        }
    }

    @Test("a certificate from another authority, or naming another host under verify-full, is refused")
    func verificationRefuses() throws {
        // A server of its own, whose certificate names localhost, stopped when the test ends.
        let server = try TemporaryPostgresServer(tlsName: "localhost")
        defer { server.stop() }
        let name = try database(server)
        // Another server's authority did not sign this server's certificate.
        let other = try TemporaryPostgresServer(tlsName: "db.internal")
        defer { other.stop() }
        let stranger = try #require(other.certificateAuthority)
        #expect(throws: (any Error).self) { try opens(server.tcpURL(database: name, sslmode: "verify-ca", rootCertificate: stranger)) }
        // libpq's rule: `require` with a root certificate checks the chain too.
        #expect(throws: (any Error).self) { try opens(server.tcpURL(database: name, sslmode: "require", rootCertificate: stranger)) }

        // The other server's certificate names db.internal: verify-ca accepts it at localhost, verify-full does not.
        let otherName = try database(other)
        #expect(try opens(other.tcpURL(database: otherName, sslmode: "verify-ca", rootCertificate: stranger)))
        #expect(throws: (any Error).self) {
            try opens(other.tcpURL(database: otherName, sslmode: "verify-full", rootCertificate: stranger))
        }
    }

    @Test("a server that logs in by client certificate: Doer's certificate is shown and accepted; without it, or with a stranger's, no login")
    func clientCertificates() throws {
        let server = try TemporaryPostgresServer(tlsName: "localhost", clientCertificates: true)
        defer { server.stop() }
        let name = try database(server)
        let authority = try #require(server.certificateAuthority)
        let client = try #require(server.clientCertificate)
        let url = server.tcpURL(database: name, sslmode: "verify-full", rootCertificate: authority, client: client)
        let stores = try Stores.open(StoreSettings(url: url), directories: DataDirectory(), auditKey: nil)
        _ = try stores.audit.append(kind: "test", session: nil, actor: "cert", details: [:])
        #expect(try stores.audit.verify().intact)
        #expect(try opens(server.tcpURL(database: name, sslmode: "require", client: client)))
        // No certificate: pg_hba's `cert` lets nobody in.
        #expect(throws: (any Error).self) { try opens(server.tcpURL(database: name, sslmode: "verify-full", rootCertificate: authority)) }
        // A certificate for the same user that the server's authority did not sign.
        let other = try TemporaryPostgresServer(tlsName: "localhost", clientCertificates: true)
        defer { other.stop() }
        let stranger = try #require(other.clientCertificate)
        #expect(throws: (any Error).self) {
            try opens(server.tcpURL(database: name, sslmode: "verify-full", rootCertificate: authority, client: stranger))
        }
    }

    @Test("sslcert and sslkey: both or neither, readable, the key readable by its owner only, and not with sslmode=disable")
    func clientCertificateParameters() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("doer-cert-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let certificate = folder.appendingPathComponent("c.pem").path, key = folder.appendingPathComponent("c.key").path
        try Data("cert".utf8).write(to: URL(fileURLWithPath: certificate))
        try Data("key".utf8).write(to: URL(fileURLWithPath: key))
        chmod(key, 0o644)
        func refusal(_ query: String) -> String { Self.refusal("postgres://doer@db.internal/d?" + query) }
        #expect(refusal("sslcert=\(certificate)").contains("sslcert and sslkey go together (sslcert alone was given)"))
        #expect(refusal("sslkey=\(key)").contains("(sslkey alone was given)"))
        #expect(refusal("sslcert=/nonexistent/c.pem&sslkey=\(key)").contains("sslcert /nonexistent/c.pem cannot be read"))
        #expect(refusal("sslcert=\(certificate)&sslkey=\(key)").contains("can be read by others (mode 644); chmod 600 it"))
        chmod(key, 0o600)
        #expect(refusal("sslmode=disable&sslcert=\(certificate)&sslkey=\(key)").contains("need TLS"))
        let address = try PostgresAddress(url: "postgres://doer@db.internal/d?sslcert=\(certificate)&sslkey=\(key)")
        #expect(address.clientCertificate == PostgresAddress.ClientCertificate(certificate: certificate, key: key))
        // A file that is not a certificate is refused when TLS is set up, naming the address.
        #expect(throws: (any Error).self) { try PostgresTLS.configuration(for: address) }
    }

    @Test("a bad sslmode or an unreadable root certificate is refused before connecting, naming what is wrong")
    func badParameters() throws {
        #expect(Self.refusal("postgres://doer@localhost/d?sslmode=always").contains("sslmode=always is not one of disable, allow, prefer, require, verify-ca, verify-full"))
        #expect(Self.refusal("postgres://doer@localhost/d?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem").contains("sslrootcert /nonexistent/ca.pem cannot be read"))
        #expect(Self.refusal("postgres://doer@localhost/d?sslcrl=/x").contains("unknown parameter 'sslcrl'"))
        // libpq's default is prefer.
        #expect(try PostgresAddress(url: "postgres://doer@localhost/d").tls == .prefer)
    }
}
