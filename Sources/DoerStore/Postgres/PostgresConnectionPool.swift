import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresNIO

/// A few connections to one server, shared by the sessions, the audit trail and the
/// tokens of one process. Connections open on first use and are reused; one that the
/// server closed (a restart, an idle timeout) is dropped and a new one opened.
final class PostgresConnectionPool: @unchecked Sendable {
    let address: PostgresAddress
    private let limit: Int
    /// Sent as a start-up parameter, so every connection, new or reopened, has it from its
    /// first statement and no statement is spent setting it.
    private let synchronousCommit: Bool
    private let condition = NSCondition()
    private var idle: [PostgresConnection] = []
    private var open = 0
    private var nextID = 0
    private var closed = false
    private let logger: Logger

    /// The store's own event loops: answers never wait on a caller's loop.
    private static let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    init(address: PostgresAddress, limit: Int = 8, synchronousCommit: Bool = true) {
        self.address = address
        self.limit = limit
        self.synchronousCommit = synchronousCommit
        var logger = Logger(label: "doer.store.postgres")
        logger.logLevel = .critical
        self.logger = logger
    }

    deinit { close() }

    @discardableResult
    func withConnection<T>(_ body: (PostgresLink) throws -> T) throws -> T {
        let connection = try checkOut()
        do {
            let value = try body(PostgresLink(connection: connection, logger: logger))
            checkIn(connection)
            return value
        } catch {
            checkIn(connection)
            throw error
        }
    }

    func close() {
        condition.lock()
        closed = true
        let connections = idle
        idle = []
        condition.unlock()
        for connection in connections { _ = try? PostgresLink.wait(connection.close()) }
    }

    private func checkOut() throws -> PostgresConnection {
        condition.lock()
        while true {
            if closed { condition.unlock(); throw PostgresFailure("the store was closed") }
            if let connection = idle.popLast() {
                if connection.isClosed { open -= 1; continue }
                condition.unlock()
                return connection
            }
            if open < limit { break }
            condition.wait()
        }
        open += 1
        nextID += 1
        let id = nextID
        condition.unlock()
        do {
            return try connect(id: id)
        } catch {
            condition.lock()
            open -= 1
            condition.signal()
            condition.unlock()
            throw error
        }
    }

    private func checkIn(_ connection: PostgresConnection) {
        condition.lock()
        if connection.isClosed || closed {
            open -= 1
        } else {
            idle.append(connection)
        }
        condition.signal()
        condition.unlock()
        if closed && !connection.isClosed { _ = try? PostgresLink.wait(connection.close()) }
    }

    /// A connection of its own, outside the pool's count and never shared: LISTEN holds
    /// one for as long as the process follows notifications. The caller closes it.
    func dedicatedConnection() throws -> PostgresConnection {
        condition.lock()
        nextID += 1
        let id = nextID
        condition.unlock()
        return try connect(id: id)
    }

    private func connect(id: Int) throws -> PostgresConnection {
        var configuration: PostgresConnection.Configuration
        switch address.endpoint {
        case .tcp(let host, let port):
            configuration = .init(host: host, port: port, username: address.user, password: address.password,
                                  database: address.database, tls: try PostgresTLS.configuration(for: address))
        case .socket(let path):
            configuration = .init(unixSocketPath: path, username: address.user, password: address.password,
                                  database: address.database)
        }
        configuration.options.connectTimeout = .seconds(10)
        // Always sent, "on" too: the audit trail's durability is what the configuration says,
        // not whatever a role or database default was set to on the server.
        configuration.options.additionalStartupParameters = [("synchronous_commit", synchronousCommit ? "on" : "off")]
        do {
            return try PostgresLink.wait(PostgresConnection.connect(on: Self.group.next(), configuration: configuration,
                                                                    id: id, logger: logger))
        } catch {
            throw PostgresFailure("cannot connect to \(address): \(PostgresFailure(error))")
        }
    }
}
