import DoerCore
public import Foundation

/// The `[audit]` table: how records are signed and whom they name.
public struct AuditSettings: Sendable, Equatable {
    /// A file holding the HMAC-SHA256 key that signs every record (its bytes, trailing
    /// newline removed). `DOER_AUDIT_KEY` (the key itself) takes precedence.
    public var hmacKeyFile: String?
    /// The key from `DOER_AUDIT_KEY`, when set.
    public var hmacKey: String?
    /// Who approvals are recorded as; `$USER` when not set.
    public var user: String?

    public init(hmacKeyFile: String? = nil, hmacKey: String? = nil, user: String? = nil) {
        self.hmacKeyFile = hmacKeyFile
        self.hmacKey = hmacKey
        self.user = user
    }

    /// The signing key's bytes, or nil when records are not signed.
    public func resolvedKey() throws(DoerError) -> Data? {
        if let hmacKey, !hmacKey.isEmpty { return Data(hmacKey.utf8) }
        guard let hmacKeyFile else { return nil }
        guard let data = FileManager.default.contents(atPath: hmacKeyFile) else {
            throw .configuration("audit.hmac_key_file \(hmacKeyFile) cannot be read; create it (e.g. `head -c 32 /dev/urandom | base64 > FILE`) or remove the setting")
        }
        var text = String(decoding: data, as: UTF8.self)
        while text.hasSuffix("\n") || text.hasSuffix("\r") { text.removeLast() }
        guard !text.isEmpty else { throw .configuration("audit.hmac_key_file \(hmacKeyFile) is empty") }
        return Data(text.utf8)
    }

    /// The person decisions are recorded as.
    public func actor(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let user, !user.isEmpty { return user }
        if let name = environment["USER"], !name.isEmpty { return name }
        if let name = environment["LOGNAME"], !name.isEmpty { return name }
        let name = NSUserName()
        return name.isEmpty ? "unknown user" : name
    }
}
