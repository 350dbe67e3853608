import Foundation
import PostgresNIO

/// Token hashes and session owners in PostgreSQL.
final class PostgresAccessStorage: AccessStorage {
    private let pool: PostgresConnectionPool

    init(pool: PostgresConnectionPool) {
        self.pool = pool
    }

    func insertToken(_ token: StoredToken) throws {
        try pool.withConnection { link in
            try link.query("INSERT INTO token (id, user_name, sha256, created_at, revoked_at) VALUES ($1, $2, $3, $4, $5)",
                           [.text(token.record.id), .text(token.record.user), .text(token.sha256),
                            .double(token.record.createdAt.timeIntervalSince1970),
                            .double(token.record.revokedAt?.timeIntervalSince1970)])
        }
    }

    func activeToken(sha256: String) throws -> TokenRecord? {
        try pool.withConnection { link in
            try link.query(Self.select + " WHERE sha256 = $1 AND revoked_at IS NULL", [.text(sha256)]).first.map(Self.token)?.record
        }
    }

    func tokens() throws -> [StoredToken] {
        try pool.withConnection { link in try link.query(Self.select + " ORDER BY created_at").map(Self.token) }
    }

    func revokeToken(id: String, at time: Double) throws -> Bool {
        try pool.withConnection { link in
            try !link.query("UPDATE token SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2 RETURNING id",
                            [.double(time), .text(id)]).isEmpty
        }
    }

    func setOwner(_ user: String, ofSession sessionID: String) throws {
        try pool.withConnection { link in
            try link.query("""
                INSERT INTO session_owner (session_id, user_name) VALUES ($1, $2)
                ON CONFLICT (session_id) DO UPDATE SET user_name = EXCLUDED.user_name
                """, [.text(sessionID), .text(user)])
        }
    }

    func owner(ofSession sessionID: String) throws -> String? {
        try pool.withConnection { link in
            try link.query("SELECT user_name FROM session_owner WHERE session_id = $1", [.text(sessionID)]).first?[0].text()
        }
    }

    func sessions(ownedBy user: String) throws -> Set<String> {
        try pool.withConnection { link in
            Set(try link.query("SELECT session_id FROM session_owner WHERE user_name = $1", [.text(user)]).compactMap { try $0[0].text() })
        }
    }

    func owners() throws -> [(session: String, user: String)] {
        try pool.withConnection { link in
            try link.query("SELECT session_id, user_name FROM session_owner ORDER BY session_id").map {
                (try $0[0].text() ?? "", try $0[1].text() ?? "")
            }
        }
    }

    private static let select = "SELECT id, user_name, sha256, created_at, revoked_at FROM token"

    private static func token(_ row: PostgresRandomAccessRow) throws -> StoredToken {
        StoredToken(record: TokenRecord(id: try row[0].text() ?? "", user: try row[1].text() ?? "",
                                        createdAt: Date(timeIntervalSince1970: try row[3].double() ?? 0),
                                        revokedAt: try row[4].double().map(Date.init(timeIntervalSince1970:))),
                    sha256: try row[2].text() ?? "")
    }
}
