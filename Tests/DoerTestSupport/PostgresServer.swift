public import DoerStore
import Foundation

/// The tests' PostgreSQL 15: `DoerStore`'s temporary server (fsync off), started once per test
/// process and stopped when the process exits. Each test asks for a database of its own.
///
/// ```swift
/// let url = try PostgresServer.shared().makeDatabase()   // postgres://doer@/t_…?host=/tmp/…
/// ```
///
/// PostgreSQL missing is a failure, never a skip: scripts/setup.sh installs it, and a
/// suite that passed without it would claim what it did not test.
public typealias PostgresServer = TemporaryPostgresServer

private let sharedLock = NSLock()
nonisolated(unsafe) private var sharedServer: Result<TemporaryPostgresServer, any Error>?

extension TemporaryPostgresServer {
    /// The server shared by this test process, started on first use.
    public static func shared() throws -> TemporaryPostgresServer {
        sharedLock.lock()
        defer { sharedLock.unlock() }
        if let sharedServer { return try sharedServer.get() }
        let result = Result { try TemporaryPostgresServer(durable: false) }
        sharedServer = result
        if case .success = result {
            // Swift Testing has no process-wide tear-down; exit is where the suite ends.
            atexit {
                if case .success(let server) = sharedServer { server.stop() }
            }
        }
        return try result.get()
    }
}
