public import DoerCore
public import Foundation
import Synchronization

/// Sessions, audit trail and tokens opened together on the engine `StoreSettings` names:
/// SQLite files under the data directory, or one PostgreSQL database. `DoerRuntime` opens
/// them (`Runtime.openStores`), and every frontend takes them from there.
///
/// ```swift
/// let stores = try Stores.open(StoreSettings(url: nil), directories: DataDirectory(), auditKey: nil)
/// let session = try stores.sessions.createSession(task: "t", workspace: "/w")
/// ```
public struct Stores: Sendable {
    public let sessions: SessionStore
    public let audit: AuditLog
    public let access: AccessStore
    /// "SQLite in …" or "PostgreSQL at …" (no password).
    public let description: String

    public init(sessions: SessionStore, audit: AuditLog, access: AccessStore, description: String) {
        self.sessions = sessions
        self.audit = audit
        self.access = access
        self.description = description
    }

    public static func open(_ settings: StoreSettings, directories: DataDirectory, auditKey: Data?,
                            redactor: SecretRedactor = SecretRedactor()) throws(DoerError) -> Stores {
        if let url = settings.url {
            let postgres = try PostgresStore.shared(url: url, synchronousCommit: settings.synchronousCommit)
            return Stores(sessions: SessionStore(storage: postgres.sessions),
                          audit: try openAudit(settings, directories: directories, auditKey: auditKey, redactor: redactor),
                          access: AccessStore(storage: postgres.access),
                          description: "PostgreSQL at \(postgres.address)" + (settings.synchronousCommit ? "" : " (synchronous_commit off)"))
        }
        return Stores(sessions: try SessionStore(path: directories.sessionDatabase),
                      audit: try openAudit(settings, directories: directories, auditKey: auditKey, redactor: redactor),
                      access: try AccessStore(path: directories.accessDatabase),
                      description: "SQLite in \(directories.data.path)")
    }

    /// The audit trail alone, for a command that records or reads it and nothing else
    /// (`doer sandbox`, `doer audit`): the sessions' and the tokens' connections, and their
    /// schema checks, would cost each such run more than its own record.
    public static func openAudit(_ settings: StoreSettings, directories: DataDirectory, auditKey: Data?,
                                 redactor: SecretRedactor = SecretRedactor()) throws(DoerError) -> AuditLog {
        if let url = settings.url {
            let postgres = try PostgresStore.shared(url: url, synchronousCommit: settings.synchronousCommit)
            return AuditLog(storage: postgres.audit, key: auditKey, redactor: redactor)
        }
        return try AuditLog(path: directories.sessionDatabase, key: auditKey, redactor: redactor)
    }
}

extension PostgresStore {
    private static let opened = Mutex<[String: PostgresStore]>([:])

    /// One store (one set of connections, one migration check) per URL, durability setting
    /// and process, however many runtimes and commands open it.
    public static func shared(url: String, synchronousCommit: Bool = true) throws(DoerError) -> PostgresStore {
        let key = (synchronousCommit ? "on " : "off ") + url
        let result: Result<PostgresStore, DoerError> = opened.withLock { stores in
            if let store = stores[key] { return .success(store) }
            do throws(DoerError) {
                let store = try PostgresStore(address: PostgresAddress(url: url), synchronousCommit: synchronousCommit)
                stores[key] = store
                return .success(store)
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }
}
