public import DoerCore
public import Foundation

/// Where a PostgreSQL server is and whom to log in as, read from a `postgres://` URL in
/// libpq's documented form, so the URL a team already uses with `psql` works here:
///
/// ```text
/// postgres://doer:secret@db.internal:5432/doer          TCP
/// postgres://doer@/doer?host=/run/postgresql            unix socket in /run/postgresql
/// postgresql://doer@%2Frun%2Fpostgresql/doer            the same, the folder percent-encoded
/// ```
///
/// A host that starts with `/` is the folder holding the server's socket
/// (`.s.PGSQL.<port>`), as in libpq. Over TCP, `sslmode` and `sslrootcert` mean what they
/// mean to libpq:
///
/// ```text
/// postgres://doer@db.internal/doer?sslmode=verify-full&sslrootcert=/etc/doer/db-ca.pem
/// ```
public struct PostgresAddress: Sendable, Hashable, CustomStringConvertible {
    public enum Endpoint: Sendable, Hashable {
        case tcp(host: String, port: Int)
        /// The socket file itself: `<folder>/.s.PGSQL.<port>`.
        case socket(path: String)
    }

    /// libpq's `sslmode` for a TCP connection (a unix socket never uses TLS).
    public enum TLSMode: String, Sendable, Hashable, CaseIterable {
        /// Never TLS.
        case disable
        /// libpq tries without TLS first and uses TLS only when the server insists; here,
        /// as PostgresNIO offers no such fallback, it is the same as `prefer`.
        case allow
        /// TLS when the server offers it, otherwise without (libpq's default).
        case prefer
        /// TLS or no connection; the certificate is not checked unless `sslrootcert` names
        /// the authority to check it against (then as `verify-ca`), as libpq does.
        case require
        /// TLS with a certificate signed by `sslrootcert` (or the system's authorities).
        case verifyCA = "verify-ca"
        /// As `verify-ca`, and the certificate must name the host connected to.
        case verifyFull = "verify-full"
    }

    public var endpoint: Endpoint
    public var user: String
    public var password: String?
    public var database: String
    public var tls: TLSMode
    /// The certificate authorities (PEM) the server's certificate is checked against.
    public var rootCertificates: String?
    /// The certificate (PEM, with its chain) and private key Doer shows the server, for a
    /// server that authenticates clients by certificate (pg_hba `cert`, or `clientcert=`).
    public var clientCertificate: ClientCertificate?

    public struct ClientCertificate: Sendable, Hashable {
        public var certificate: String
        public var key: String
        public init(certificate: String, key: String) {
            self.certificate = certificate
            self.key = key
        }
    }

    public init(endpoint: Endpoint, user: String, password: String? = nil, database: String,
                tls: TLSMode = .prefer, rootCertificates: String? = nil, clientCertificate: ClientCertificate? = nil) {
        self.endpoint = endpoint
        self.user = user
        self.password = password
        self.database = database
        self.tls = tls
        self.rootCertificates = rootCertificates
        self.clientCertificate = clientCertificate
    }

    /// True for the URLs this type reads: `postgres://` and `postgresql://`.
    public static func isPostgres(_ url: String) -> Bool {
        url.hasPrefix("postgres://") || url.hasPrefix("postgresql://")
    }

    public init(url text: String, defaultUser: String = NSUserName()) throws(DoerError) {
        let shown = Self.redacted(text)
        guard Self.isPostgres(text), let components = URLComponents(string: text) else {
            throw .configuration("store url \(shown) is not a postgres://user@host/database URL")
        }
        var query: [String: String] = [:]
        for item in components.queryItems ?? [] { query[item.name] = item.value ?? "" }
        let known = ["host", "port", "user", "password", "dbname", "sslmode", "sslrootcert", "sslcert", "sslkey", "application_name"]
        for name in query.keys.sorted() where !known.contains(name) {
            throw .configuration("store url \(shown): unknown parameter '\(name)' (known: \(known.joined(separator: ", ")))")
        }
        let modeText = query["sslmode"] ?? TLSMode.prefer.rawValue
        guard let mode = TLSMode(rawValue: modeText) else {
            throw .configuration("store url \(shown): sslmode=\(modeText) is not one of "
                + TLSMode.allCases.map(\.rawValue).joined(separator: ", "))
        }
        tls = mode
        rootCertificates = query["sslrootcert"].flatMap { $0.isEmpty ? nil : $0 }
        if let file = rootCertificates, !FileManager.default.isReadableFile(atPath: file) {
            throw .configuration("store url \(shown): sslrootcert \(file) cannot be read")
        }
        clientCertificate = try Self.clientCertificate(certificate: query["sslcert"], key: query["sslkey"], shown: shown)
        if clientCertificate != nil && tls == .disable {
            throw .configuration("store url \(shown): sslcert and sslkey need TLS, and sslmode=disable turns it off")
        }
        let portText = query["port"] ?? components.port.map(String.init) ?? "5432"
        guard let port = Int(portText), (1...65535).contains(port) else {
            throw .configuration("store url \(shown): port \(portText) is not a port number")
        }
        let host = query["host"] ?? components.percentEncodedHost.flatMap { $0.removingPercentEncoding } ?? ""
        if host.hasPrefix("/") {
            endpoint = .socket(path: (host as NSString).appendingPathComponent(".s.PGSQL.\(port)"))
        } else if host.isEmpty {
            // libpq's default: the socket folder of Debian's and most distributions' servers.
            endpoint = .socket(path: "/var/run/postgresql/.s.PGSQL.\(port)")
        } else {
            endpoint = .tcp(host: host, port: port)
        }
        user = query["user"] ?? components.user.flatMap { $0.removingPercentEncoding } ?? defaultUser
        password = query["password"] ?? components.password.flatMap { $0.removingPercentEncoding }
        var path = components.path
        if path.hasPrefix("/") { path.removeFirst() }
        database = query["dbname"] ?? (path.isEmpty ? user : (path.removingPercentEncoding ?? path))
        guard !user.isEmpty else { throw .configuration("store url \(shown) names no user") }
    }

    /// The client certificate named by `sslcert` and `sslkey`: both or neither, both readable,
    /// and the key — a secret — readable by its owner only, as libpq demands.
    private static func clientCertificate(certificate: String?, key: String?, shown: String) throws(DoerError) -> ClientCertificate? {
        let certificate = certificate.flatMap { $0.isEmpty ? nil : $0 }, key = key.flatMap { $0.isEmpty ? nil : $0 }
        guard certificate != nil || key != nil else { return nil }
        guard let certificate, let key else {
            throw .configuration("store url \(shown): sslcert and sslkey go together (\(certificate == nil ? "sslkey" : "sslcert") alone was given)")
        }
        for (name, file) in [("sslcert", certificate), ("sslkey", key)] where !FileManager.default.isReadableFile(atPath: file) {
            throw .configuration("store url \(shown): \(name) \(file) cannot be read")
        }
        var info = stat()
        if stat(key, &info) == 0, info.st_mode & 0o077 != 0 {
            throw .configuration("store url \(shown): sslkey \(key) can be read by others (mode \(String(info.st_mode & 0o777, radix: 8))); "
                + "chmod 600 it")
        }
        return ClientCertificate(certificate: certificate, key: key)
    }

    /// The URL without its password, for messages and logs.
    public var description: String {
        switch endpoint {
        case .tcp(let host, let port): return "postgres://\(user)@\(host):\(port)/\(database)"
        case .socket(let path): return "postgres://\(user)@/\(database)?host=\((path as NSString).deletingLastPathComponent)"
        }
    }

    /// `text` with any password replaced, so a mistyped URL can be shown back safely.
    public static func redacted(_ text: String) -> String {
        guard var components = URLComponents(string: text) else { return "(a URL that cannot be read)" }
        if components.password != nil { components.password = "***" }
        if let items = components.queryItems {
            components.queryItems = items.map { $0.name == "password" ? URLQueryItem(name: "password", value: "***") : $0 }
        }
        return components.string ?? "(a URL that cannot be read)"
    }
}
