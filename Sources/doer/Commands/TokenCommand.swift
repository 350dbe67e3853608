import ArgumentParser
import DoerCore
import DoerStore
import Foundation

struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Manage the API tokens of `doer serve`.",
        subcommands: [Create.self, List.self, Revoke.self]
    )
}

extension TokenCommand {
    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create",
            abstract: "Make a token for a user and print it once; only its SHA-256 is kept."
        )

        @Option(help: "Whose token it is; each user sees only their own sessions.") var user = ProcessInfo.processInfo.environment["USER"] ?? "default"

        func run() async throws {
            do {
                let (token, record) = try StoreSupport.open().access.createToken(user: user)
                FileHandle.standardError.write(Data("doer: token \(record.id) for user \(record.user); it is shown only now\n".utf8))
                print(token)
            } catch {
                fail(error)
            }
        }
    }
}

extension TokenCommand {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List tokens (ids, users, state), never the tokens.")

        func run() async throws {
            do {
                let formatter = ISO8601DateFormatter()
                for token in try StoreSupport.open().access.tokens() {
                    let state = token.revokedAt.map { "revoked \(formatter.string(from: $0))" } ?? "active"
                    print("\(token.id)  \(token.user.padding(toLength: 16, withPad: " ", startingAt: 0))  \(formatter.string(from: token.createdAt))  \(state)")
                }
            } catch {
                fail(error)
            }
        }
    }
}

extension TokenCommand {
    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "revoke", abstract: "Revoke a token by its id; it stops working at once.")

        @Argument(help: "The token's id, from `doer token list`.") var id: String

        func run() async throws {
            do {
                try StoreSupport.open().access.revokeToken(id: id)
                print("revoked \(id)")
            } catch {
                fail(error)
            }
        }
    }
}
