/// A token row: the record and the SHA-256 that identifies its token.
public struct StoredToken: Sendable, Hashable {
    public var record: TokenRecord
    public var sha256: String

    public init(record: TokenRecord, sha256: String) {
        self.record = record
        self.sha256 = sha256
    }
}

/// Where `AccessStore` keeps token hashes and session owners: SQLite or PostgreSQL.
///
/// ```swift
/// let access = AccessStore(storage: postgres.access)
/// let (token, _) = try access.createToken(user: "ada")
/// ```
public protocol AccessStorage: Sendable {
    func insertToken(_ token: StoredToken) throws
    /// The token with this hash, unless revoked.
    func activeToken(sha256: String) throws -> TokenRecord?
    /// Every token with its hash, oldest first.
    func tokens() throws -> [StoredToken]
    /// False when no token has this id; revoking twice keeps the first time.
    func revokeToken(id: String, at time: Double) throws -> Bool
    func setOwner(_ user: String, ofSession sessionID: String) throws
    func owner(ofSession sessionID: String) throws -> String?
    func sessions(ownedBy user: String) throws -> Set<String>
    /// Every session and its owner (`doer store migrate`).
    func owners() throws -> [(session: String, user: String)]
}
