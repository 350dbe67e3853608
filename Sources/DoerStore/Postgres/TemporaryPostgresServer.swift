public import Foundation

/// A PostgreSQL 15 of its own for the tests and for `doer bench store`: a cluster made with
/// `initdb` in a temporary folder and listening only on a unix socket there (no TCP port),
/// run as the unprivileged `postgres` user, since Doer's tests and benchmarks run as root
/// and the server refuses root. `stop()` shuts it down and removes the folder.
///
/// ```swift
/// let server = try TemporaryPostgresServer(durable: true)
/// defer { server.stop() }
/// let store = try PostgresStore(url: try server.makeDatabase())   // postgres://doer@/t_…?host=/tmp/…
/// ```
///
/// `durable: false` (what the tests use) turns fsync off: a test checks behaviour, not the
/// disk. A benchmark keeps PostgreSQL's defaults, so each commit waits for its WAL on disk
/// as it would in production.
public final class TemporaryPostgresServer: Sendable {
    public static let binaries = URL(fileURLWithPath: "/usr/lib/postgresql/15/bin")
    public let folder: URL
    public let socketFolder: URL
    public let user = "doer"
    /// Whether commits wait for the disk (fsync on); false for tests.
    public let durable: Bool
    /// The server's port: its unix socket's name and, with TLS, the TCP port on 127.0.0.1.
    public let port: Int
    /// With TLS: the authority that signed the server's certificate (PEM).
    public let certificateAuthority: URL?
    /// With client certificates required: one the server accepts for `user`, signed by
    /// `certificateAuthority`.
    public let clientCertificate: PostgresAddress.ClientCertificate?

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// `settings` are more server parameters (`-c name=value`), e.g. `synchronous_commit`.
    /// `tlsName`: also listen on TCP at 127.0.0.1, with TLS only (a connection without it is
    /// refused), the certificate naming that host and signed by `certificateAuthority`.
    /// `clientCertificates`: with `tlsName`, TCP connections log in only with a client
    /// certificate for their user signed by that authority (pg_hba `cert`).
    public init(durable: Bool = false, maxConnections: Int = 200, settings: [String: String] = [:], tlsName: String? = nil,
                clientCertificates: Bool = false) throws {
        guard FileManager.default.isExecutableFile(atPath: Self.binaries.appendingPathComponent("initdb").path) else {
            throw Failure(description: "PostgreSQL 15 is not installed (\(Self.binaries.path)/initdb); "
                + "`apt-get install postgresql-15` (scripts/setup.sh all does it)")
        }
        guard let account = getpwnam("postgres") else {
            throw Failure(description: "no `postgres` user to run the server as; the postgresql-15 package creates it")
        }
        let uid = account.pointee.pw_uid, gid = account.pointee.pw_gid
        let base = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("doer-pg-\(getpid())-\(UUID().uuidString.prefix(8))")
        self.durable = durable
        folder = base.appendingPathComponent("data")
        socketFolder = base.appendingPathComponent("socket")
        for path in [base, folder, socketFolder] {
            try FileManager.default.createDirectory(at: path, withIntermediateDirectories: true)
            chown(path.path, uid, gid)
        }
        chmod(folder.path, 0o700)
        try Self.asPostgres(["initdb", "-D", folder.path, "-U", user, "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C"])
        var options = "-k \(socketFolder.path) -c max_connections=\(maxConnections)" + (durable ? "" : " -c fsync=off")
            + settings.sorted { $0.key < $1.key }.map { " -c \($0.key)=\($0.value)" }.joined()
        if let tlsName {
            port = try Self.freePort()
            let files = try Self.makeCertificates(in: base, name: tlsName, owner: (uid, gid))
            certificateAuthority = files.authority
            clientCertificate = clientCertificates ? try Self.makeClientCertificate(in: base, user: user) : nil
            // TLS or nothing over TCP; the unix socket stays for psql and the set-up.
            let method = clientCertificates ? "cert" : "trust"
            try Data("local all all trust\nhostssl all all 127.0.0.1/32 \(method)\nhostnossl all all 127.0.0.1/32 reject\n".utf8)
                .write(to: folder.appendingPathComponent("pg_hba.conf"))
            options += " -c port=\(port) -c listen_addresses=127.0.0.1 -c ssl=on"
                + " -c ssl_cert_file=\(files.certificate.path) -c ssl_key_file=\(files.key.path)"
                + (clientCertificates ? " -c ssl_ca_file=\(files.authority.path)" : "")
        } else {
            port = 5432
            certificateAuthority = nil
            clientCertificate = nil
            options += " -c listen_addresses=''"
        }
        try Self.asPostgres(["pg_ctl", "-D", folder.path, "-w", "-l", base.appendingPathComponent("log").path, "start", "-o", options])
    }

    /// A new empty database, as the URL a store opens.
    public func makeDatabase() throws -> String {
        let name = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)
        try psql("CREATE DATABASE \(name)", database: "postgres")
        return url(database: String(name))
    }

    public func url(database: String) -> String {
        "postgres://\(user)@/\(database)?host=\(socketFolder.path)" + (port == 5432 ? "" : "&port=\(port)")
    }

    /// The database over TCP (a server made with `tlsName`), with libpq's TLS parameters.
    public func tcpURL(database: String, host: String = "localhost", sslmode: String, rootCertificate: URL? = nil,
                       client: PostgresAddress.ClientCertificate? = nil) -> String {
        "postgres://\(user)@\(host):\(port)/\(database)?sslmode=\(sslmode)" + (rootCertificate.map { "&sslrootcert=\($0.path)" } ?? "")
            + (client.map { "&sslcert=\($0.certificate)&sslkey=\($0.key)" } ?? "")
    }

    /// A port on 127.0.0.1 free a moment ago.
    private static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "no socket for a free port: errno \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw Failure(description: "no free port: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// An authority and a server certificate for `name` signed by it (openssl), the key
    /// readable by the server's user only, as PostgreSQL demands.
    private static func makeCertificates(in folder: URL, name: String, owner: (uid_t, gid_t)) throws -> (authority: URL, certificate: URL, key: URL) {
        let tls = folder.appendingPathComponent("tls")
        try FileManager.default.createDirectory(at: tls, withIntermediateDirectories: true)
        let path = { (file: String) in tls.appendingPathComponent(file).path }
        try run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=doer test authority",
                 "-keyout", path("ca.key"), "-out", path("ca.pem")])
        try run(["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=\(name)", "-keyout", path("server.key"), "-out", path("server.csr")])
        try Data("subjectAltName=DNS:\(name)\n".utf8).write(to: tls.appendingPathComponent("san.ext"))
        try run(["openssl", "x509", "-req", "-in", path("server.csr"), "-CA", path("ca.pem"), "-CAkey", path("ca.key"), "-CAcreateserial",
                 "-days", "2", "-extfile", path("san.ext"), "-out", path("server.pem")])
        chown(tls.path, owner.0, owner.1)
        chown(path("server.key"), owner.0, owner.1)
        chmod(path("server.key"), 0o600)
        return (tls.appendingPathComponent("ca.pem"), tls.appendingPathComponent("server.pem"), tls.appendingPathComponent("server.key"))
    }

    /// A client certificate for `user` (its common name, as pg_hba `cert` matches it) signed
    /// by the authority `makeCertificates` made in `folder`, its key readable by this process only.
    private static func makeClientCertificate(in folder: URL, user: String) throws -> PostgresAddress.ClientCertificate {
        let authority = { (file: String) in folder.appendingPathComponent("tls").appendingPathComponent(file).path }
        let client = folder.appendingPathComponent("client")
        try FileManager.default.createDirectory(at: client, withIntermediateDirectories: true)
        let path = { (file: String) in client.appendingPathComponent(file).path }
        try run(["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=\(user)", "-keyout", path("client.key"), "-out", path("client.csr")])
        try run(["openssl", "x509", "-req", "-in", path("client.csr"), "-CA", authority("ca.pem"), "-CAkey", authority("ca.key"),
                 "-CAserial", path("ca.srl"), "-CAcreateserial", "-days", "2", "-out", path("client.pem")])
        chmod(path("client.key"), 0o600)
        return PostgresAddress.ClientCertificate(certificate: path("client.pem"), key: path("client.key"))
    }

    /// Runs SQL with psql as the database's owner (a superuser): tests use it to tamper.
    @discardableResult
    public func psql(_ sql: String, database: String) throws -> String {
        try Self.run(["/usr/bin/env", Self.binaries.appendingPathComponent("psql").path, "-h", socketFolder.path, "-p", String(port), "-U", user,
                      "-d", database, "-v", "ON_ERROR_STOP=1", "-Atq", "-c", sql])
    }

    public func stop() {
        _ = try? Self.asPostgres(["pg_ctl", "-D", folder.path, "-m", "immediate", "stop"])
        try? FileManager.default.removeItem(at: folder.deletingLastPathComponent())
    }

    private static func asPostgres(_ arguments: [String]) throws {
        var command = arguments
        command[0] = binaries.appendingPathComponent(command[0]).path
        // Past root's own folder, which postgres may not enter.
        try run(["/usr/sbin/runuser", "-u", "postgres", "--"] + command, directory: URL(fileURLWithPath: "/"))
    }

    @discardableResult
    private static func run(_ arguments: [String], directory: URL? = nil) throws -> String {
        // posix_spawn and a blocking waitpid, not Foundation's Process: `pg_ctl start` leaves
        // a server running with the descriptors it inherited, and Process's own reaping of
        // the child did not come back here. Output goes to a file, which no one holds open.
        let outputFile = FileManager.default.temporaryDirectory.appendingPathComponent("doer-pg-output-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: outputFile) }
        let quoted = arguments.map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
        let script = "cd '\((directory ?? URL(fileURLWithPath: "/")).path)' && exec \(quoted) </dev/null >'\(outputFile.path)' 2>&1"
        var pid: pid_t = 0
        let argv: [UnsafeMutablePointer<CChar>?] = ["/bin/sh", "-c", script].map { (text: String) in strdup(text) } + [nil]
        defer { argv.forEach { free($0) } }
        let spawned = posix_spawn(&pid, "/bin/sh", nil, nil, argv, environ)
        guard spawned == 0 else { throw Failure(description: "\(arguments[0]) could not start: errno \(spawned)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let text = (try? String(contentsOf: outputFile, encoding: .utf8)) ?? ""
        let exited = status & 0x7f == 0
        let code = (status >> 8) & 0xff
        guard exited && code == 0 else {
            throw Failure(description: "\(arguments.joined(separator: " ")) exited \(exited ? code : 128 + (status & 0x7f)): \(text)")
        }
        return text
    }
}
