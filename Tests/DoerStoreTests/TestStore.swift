import DoerCore
import DoerStore
import DoerTestSupport
import Foundation
import GRDB

/// The engines every store test runs against.
enum StoreEngine: String, CaseIterable, Sendable, CustomStringConvertible {
    case sqlite
    case postgres
    var description: String { rawValue }
}

/// A fresh, empty store of one engine: SQLite files in a temporary folder, or a new
/// database on the tests' PostgreSQL. Each `open…` call opens new handles (and, for
/// PostgreSQL, new connections), as another process would.
final class TestStore: @unchecked Sendable {
    let engine: StoreEngine
    let folder: URL
    let url: String?
    private var database: String? { url.flatMap { URLComponents(string: $0)?.path.dropFirst() }.map(String.init) }

    init(_ engine: StoreEngine) throws {
        self.engine = engine
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("doer-store-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        url = engine == .postgres ? try PostgresServer.shared().makeDatabase() : nil
    }

    deinit { try? FileManager.default.removeItem(at: folder) }

    var directories: DataDirectory { DataDirectory(environment: ["DOER_HOME": folder.path]) }

    func open(auditKey: Data? = nil, redactor: SecretRedactor = SecretRedactor()) throws -> Stores {
        if let url {
            let postgres = try PostgresStore(url: url)
            return Stores(sessions: SessionStore(storage: postgres.sessions),
                          audit: AuditLog(storage: postgres.audit, key: auditKey, redactor: redactor),
                          access: AccessStore(storage: postgres.access), description: "PostgreSQL at \(postgres.address)")
        }
        return try Stores.open(StoreSettings(), directories: directories, auditKey: auditKey, redactor: redactor)
    }

    func sessions() throws -> SessionStore { try open().sessions }
    func audit(key: Data? = nil, redactor: SecretRedactor = SecretRedactor()) throws -> AuditLog {
        try open(auditKey: key, redactor: redactor).audit
    }

    /// Runs SQL as someone with write access to the database would, the append-only
    /// triggers switched off first (they stop mistakes, not an owner). Written with
    /// SQLite's column names; `sessionId` and `prevHash` are renamed for PostgreSQL.
    func tamper(_ sql: String) throws {
        switch engine {
        case .sqlite:
            let queue = try DatabaseQueue(path: directories.sessionDatabase.path)
            try queue.write { db in
                try db.execute(sql: "DROP TRIGGER IF EXISTS audit_no_update; DROP TRIGGER IF EXISTS audit_no_delete")
                try db.execute(sql: sql)
            }
        case .postgres:
            let translated = sql.replacingOccurrences(of: "sessionId", with: "session_id").replacingOccurrences(of: "prevHash", with: "prev_hash")
            try PostgresServer.shared().psql("ALTER TABLE audit DISABLE TRIGGER USER; \(translated); ALTER TABLE audit ENABLE TRIGGER USER",
                                             database: database!)
        }
    }

    /// SQL run as is, with the triggers in place.
    func execute(_ sql: String) throws {
        switch engine {
        case .sqlite: try DatabaseQueue(path: directories.sessionDatabase.path).write { try $0.execute(sql: sql) }
        case .postgres: try PostgresServer.shared().psql(sql, database: database!)
        }
    }

    /// The details column as stored, for checking what reached the disk.
    func storedDetails() throws -> [String] {
        switch engine {
        case .sqlite:
            return try DatabaseQueue(path: directories.sessionDatabase.path).read { try String.fetchAll($0, sql: "SELECT details FROM audit ORDER BY seq") }
        case .postgres:
            return try PostgresServer.shared().psql("SELECT details FROM audit ORDER BY seq", database: database!)
                .split(separator: "\n").map(String.init)
        }
    }
}

/// SQL text literal.
func literal(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "''") + "'" }
