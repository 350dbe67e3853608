import Foundation
import Logging
import NIOCore
import PostgresNIO

/// A value bound to a query's `$n`. The store writes text, integers and doubles only.
enum PostgresValue: Sendable {
    case text(String?)
    case int(Int64?)
    case double(Double?)
}

/// What a failed statement or connection says, with the server's own message and SQLSTATE
/// (postgres-nio's own description hides both).
struct PostgresFailure: Error, CustomStringConvertible {
    var message: String
    var sqlState: String?

    static let uniqueViolation = "23505"

    init(_ message: String, sqlState: String? = nil) {
        self.message = message
        self.sqlState = sqlState
    }

    init(_ error: any Error) {
        if let failure = error as? PostgresFailure {
            self = failure
        } else if let error = error as? PSQLError {
            if let info = error.serverInfo {
                self.init(info[.message] ?? "server error", sqlState: info[.sqlState])
            } else if let underlying = error.underlying {
                self.init("\(error.code): \(underlying)")
            } else {
                self.init("\(error.code)")
            }
        } else {
            self.init("\(error)")
        }
    }

    var description: String { sqlState.map { "\(message) (SQLSTATE \($0))" } ?? message }
}

/// One checked-out connection, used synchronously: the store's API is synchronous (as
/// SQLite's is), so each statement waits for its answer. The answer comes on the store's
/// own event loops, never the caller's, so a caller on a server's event loop cannot
/// deadlock on itself.
struct PostgresLink {
    let connection: PostgresConnection
    let logger: Logger

    @discardableResult
    func query(_ sql: String, _ values: [PostgresValue] = []) throws -> [PostgresRandomAccessRow] {
        var binds = PostgresBindings(capacity: values.count)
        for value in values {
            switch value {
            case .text(let text): binds.append(text)
            case .int(let number): binds.append(number)
            case .double(let number): binds.append(number)
            }
        }
        let result = try Self.wait(connection.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger))
        return result.rows.map { $0.makeRandomAccess() }
    }

    /// Runs several statements, one at a time: postgres-nio sends every query through the
    /// extended protocol, which takes one statement per message. For migrations only:
    /// nothing is bound.
    func script(_ sql: String) throws {
        for statement in Self.statements(in: sql) { try query(statement) }
    }

    /// `sql` cut at each `;` that is outside quotes, `$$` bodies and comments.
    static func statements(in sql: String) -> [String] {
        var statements: [String] = []
        var current = ""
        var inQuote = false
        var inDollar = false
        var inComment = false
        var characters = Array(sql)[...]
        while let character = characters.popFirst() {
            if inComment {
                current.append(character)
                if character == "\n" { inComment = false }
                continue
            }
            if !inQuote && !inDollar && character == "-" && characters.first == "-" { inComment = true; current.append(character); continue }
            if !inQuote && character == "$" && characters.first == "$" {
                inDollar.toggle()
                current.append(character)
                current.append(characters.removeFirst())
                continue
            }
            if !inDollar && character == "'" { inQuote.toggle() }
            if character == ";" && !inQuote && !inDollar {
                let statement = current.trimmingCharacters(in: .whitespacesAndNewlines)
                if !statement.isEmpty { statements.append(statement) }
                current = ""
                continue
            }
            current.append(character)
        }
        let last = current.trimmingCharacters(in: .whitespacesAndNewlines)
        if !last.isEmpty && !last.split(separator: "\n").allSatisfy({ $0.trimmingCharacters(in: .whitespaces).hasPrefix("--") }) {
            statements.append(last)
        }
        return statements
    }

    /// Runs `body` in one READ COMMITTED transaction: committed when it returns, rolled
    /// back when it throws.
    func transaction<T>(_ body: () throws -> T) throws -> T {
        try query("BEGIN ISOLATION LEVEL READ COMMITTED")
        do {
            let value = try body()
            try query("COMMIT")
            return value
        } catch {
            if !connection.isClosed { _ = try? query("ROLLBACK") }
            throw error
        }
    }

    static func wait<T: Sendable>(_ future: EventLoopFuture<T>) throws -> T {
        let semaphore = DispatchSemaphore(value: 0)
        let box = ResultBox<T>()
        future.whenComplete { result in
            box.result = result
            semaphore.signal()
        }
        semaphore.wait()
        switch box.result! {
        case .success(let value): return value
        case .failure(let error): throw PostgresFailure(error)
        }
    }
}

/// Carries a future's result to the waiting thread; the semaphore orders the accesses.
private final class ResultBox<T>: @unchecked Sendable {
    var result: Result<T, any Error>?
}

extension PostgresCell {
    func text() throws -> String? { try decode(String?.self) }
    func int() throws -> Int64? { try decode(Int64?.self) }
    func bool() throws -> Bool? { try decode(Bool?.self) }
    func double() throws -> Double? { try decode(Double?.self) }
}
