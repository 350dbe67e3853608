import ArgumentParser
import DoerConfig
import DoerCore
import DoerRuntime
import DoerStore
import Foundation

struct StoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Where sessions, tokens and the audit trail are kept: SQLite (the default) or PostgreSQL ([store] url, DOER_STORE_URL).",
        subcommands: [Status.self, Migrate.self]
    )
}

extension StoreCommand {
    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "status", abstract: "Show which store is configured and that it opens.")

        func run() async throws {
            do {
                let stores = try StoreSupport.open()
                print(stores.description)
                print("sessions: \(try stores.sessions.sessions(limit: Int(Int32.max)).count)")
                let verification = try stores.audit.verify()
                print("audit records: \(verification.records)\(verification.intact ? "" : " (does not verify: `doer audit verify`)")")
            } catch {
                fail(error)
            }
        }
    }
}

extension StoreCommand {
    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "migrate",
            abstract: "Copy the SQLite data directory into an empty PostgreSQL database, then verify the audit chain there.",
            discussion: """
                Sessions and events, tokens and owners, and the audit trail are copied as they are: records keep \
                their hashes and signatures, so the chain verifies the same afterwards. The SQLite files are left \
                in place; set [store] url (or DOER_STORE_URL) to the new database to use it.
                """
        )

        @Option(help: "The PostgreSQL database to copy into, e.g. postgres://doer@/doer?host=/run/postgresql.") var to: String

        func validate() throws {
            guard PostgresAddress.isPostgres(to) else { throw ValidationError("--to must be a postgres:// URL") }
        }

        func run() async throws {
            do {
                let directories = DataDirectory()
                var configuration = try DoerConfiguration.load(directories: directories)
                configuration.store.url = nil
                let source = try Runtime.openStores(configuration, directories: directories)
                configuration.store.url = to
                let target = try Runtime.openStores(configuration, directories: directories)
                let report = try StoreCopy(from: source, to: target).run()
                print("copied \(report.sessions) sessions (\(report.events) events), \(report.tokens) tokens, \(report.owners) owners, "
                    + "\(report.auditRecords) audit records from \(source.description) to \(target.description)")
                print("audit chain verified after the copy: head \(report.auditHead)")
            } catch {
                fail(error)
            }
        }
    }
}
