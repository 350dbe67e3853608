import NIOSSL
import PostgresNIO

/// The TLS a TCP connection to PostgreSQL uses, from the address's libpq `sslmode`,
/// `sslrootcert`, and `sslcert` with `sslkey` (the certificate Doer shows the server). Certificates are checked by NIOSSL (BoringSSL) against the named
/// authorities, or the system's when none is named.
enum PostgresTLS {
    static func configuration(for address: PostgresAddress) throws -> PostgresConnection.Configuration.TLS {
        var tls = TLSConfiguration.makeClientConfiguration()
        var mode = address.tls
        // libpq: with a root certificate at hand, `require` checks the chain as `verify-ca` does.
        if mode == .require && address.rootCertificates != nil { mode = .verifyCA }
        switch mode {
        case .disable: return .disable
        case .allow, .prefer, .require: tls.certificateVerification = .none
        case .verifyCA: tls.certificateVerification = .noHostnameVerification
        case .verifyFull: tls.certificateVerification = .fullVerification
        }
        if let file = address.rootCertificates { tls.trustRoots = .file(file) }
        let context: NIOSSLContext
        do {
            if let client = address.clientCertificate {
                tls.certificateChain = try NIOSSLCertificate.fromPEMFile(client.certificate).map { .certificate($0) }
                // PEM whatever the file is called (libpq's `postgresql.key`); DER otherwise.
                let key = try (try? NIOSSLPrivateKey(file: client.key, format: .pem)) ?? NIOSSLPrivateKey(file: client.key, format: .der)
                tls.privateKey = .privateKey(key)
            }
            context = try NIOSSLContext(configuration: tls)
        } catch {
            throw PostgresFailure("cannot set up TLS for \(address): \(error)")
        }
        return mode == .allow || mode == .prefer ? .prefer(context) : .require(context)
    }
}
