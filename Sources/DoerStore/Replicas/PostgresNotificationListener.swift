import Foundation
import PostgresNIO

/// One notification from another process on the same database.
public enum StoreNotification: Sendable, Hashable {
    /// Event `seq` of the session was committed.
    case event(sessionID: String, seq: Int)
    /// The run queue changed: a run was queued, an approval answered, a cancel asked for.
    case runs
}

/// Follows the store's NOTIFY channels on a connection of its own, and reconnects when it
/// is lost. Notifications are hints: they can be lost (a dropped connection, a replica
/// starting late), so whoever reacts reads the tables for what is new and also looks at
/// an interval of its own; `connected` is called after each (re)connection, when
/// something may have been missed.
///
/// ```swift
/// try await postgres.notifications.run(retrySeconds: 1, connected: { … }) { notification in … }
/// ```
public struct PostgresNotificationListener: Sendable {
    let pool: PostgresConnectionPool

    /// Runs until the task is cancelled.
    public func run(retrySeconds: Double, connected: @escaping @Sendable () async -> Void,
                    receive: @escaping @Sendable (StoreNotification) async -> Void) async {
        while !Task.isCancelled {
            if let connection = try? pool.dedicatedConnection() {
                do {
                    try await connection.listen(on: PostgresSchema.eventsChannel) { events in
                        try await connection.listen(on: PostgresSchema.runsChannel) { runs in
                            await connected()
                            try await withThrowingTaskGroup(of: Void.self) { group in
                                group.addTask {
                                    for try await notification in events {
                                        if let parsed = Self.event(notification.payload) { await receive(parsed) }
                                    }
                                }
                                group.addTask {
                                    for try await _ in runs { await receive(.runs) }
                                }
                                // Either one ending means the connection is gone.
                                _ = try await group.next()
                                group.cancelAll()
                            }
                        }
                    }
                } catch {
                    // Reconnect below; the caller's own interval covers the gap.
                }
                _ = try? await connection.close().get()
            }
            try? await Task.sleep(for: .milliseconds(Int(max(retrySeconds, 0.05) * 1000)))
        }
    }

    /// "SESSION SEQ", as `PostgresSessionStorage.appendEvent` sends it.
    static func event(_ payload: String) -> StoreNotification? {
        let parts = payload.split(separator: " ")
        guard parts.count == 2, let seq = Int(parts[1]) else { return nil }
        return .event(sessionID: String(parts[0]), seq: seq)
    }
}

extension PostgresStore {
    /// The NOTIFY channels of this store's database (`doer serve` replicas).
    public var notifications: PostgresNotificationListener { PostgresNotificationListener(pool: pool) }
}
