import ArgumentParser
import DoerConfig
import DoerCore
import DoerStore
import Foundation

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "The tamper-evident audit trail: every decision and effect, hash-chained (and HMAC-signed when a key is configured).",
        subcommands: [Log.self, Verify.self, Export.self, Note.self,
                      AppendNote.self]
    )

    static func open() throws(DoerError) -> AuditLog {
        try AuditSupport.log(try DoerConfiguration.load())
    }
}

extension AuditCommand {
    struct Log: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "log", abstract: "Show audit records, oldest first.")

        @Option(help: "Only the records of this session (an id or its start).") var session: String?
        @Option(help: "Only the last N records.") var limit: Int?
        @Flag(help: "Print each record as one JSON line.") var json = false

        func run() async throws {
            let records: [AuditRecord]
            do {
                records = try AuditCommand.open().records(session: session, limit: limit)
            } catch {
                fail(error)
            }
            for record in records {
                if json {
                    print(record.exported.canonicalJSON)
                    continue
                }
                let session = record.sessionID.map { String($0.prefix(8)) } ?? "-"
                print("\(record.seq)  \(record.time)  \(record.kind.padding(toLength: 17, withPad: " ", startingAt: 0)) \(record.actor)  \(session)  \(Self.summary(record.details))")
            }
        }

        static func summary(_ details: AuditValue) -> String {
            guard case .object(let object) = details else { return details.canonicalJSON }
            let text = object.keys.sorted().map { key -> String in
                let value = object[key]!
                if case .string(let s) = value { return "\(key)=\(s.replacingOccurrences(of: "\n", with: " "))" }
                return "\(key)=\(value.canonicalJSON)"
            }.joined(separator: " ")
            return text.count > 160 ? String(text.prefix(159)) + "…" : text
        }
    }
}

extension AuditCommand {
    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify",
            abstract: "Check the whole chain: any edited, deleted, inserted or reordered record (or a wrong HMAC) is reported.",
            discussion: "Exits 0 when the chain is intact, 1 at the first broken link. Records cut off the end leave a valid chain: compare the head it prints with a copy kept elsewhere, or pass it with --head."
        )

        @Option(help: "The head hash you expect (from an earlier verify): records after it must follow from it.") var head: String?

        func run() async throws {
            let verification: AuditVerification
            do {
                verification = try AuditCommand.open().verify()
            } catch {
                fail(error)
            }
            if let broken = verification.firstBreak {
                FileHandle.standardError.write(Data("doer: audit trail broken at \(broken.description)\n".utf8))
                throw ExitCode(1)
            }
            let signing = verification.signed ? "HMAC-SHA256 signatures checked" : "not signed (no key configured)"
            print("audit trail intact: \(verification.records) records, \(signing)")
            print("head \(verification.head)")
            if let head, head != verification.head {
                let known = try AuditCommand.open().records().contains { $0.hash == head }
                if !known {
                    FileHandle.standardError.write(Data("doer: the expected head \(head) is not in the trail; records were removed from its end\n".utf8))
                    throw ExitCode(1)
                }
            }
        }
    }
}

extension AuditCommand {
    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "export",
            abstract: "Write every record as JSON lines (with its hashes), to stdout or a file."
        )

        @Flag(help: "JSON lines: one record per line, canonical JSON.") var jsonl = false
        @Option(help: "Write to this file instead of stdout.") var output: String?
        @Option(help: "Only the records of this session.") var session: String?

        func validate() throws {
            if !jsonl { throw ValidationError("choose the format: --jsonl (the only one for now)") }
        }

        func run() async throws {
            let records: [AuditRecord]
            do {
                records = try AuditCommand.open().records(session: session)
            } catch {
                fail(error)
            }
            let text = records.map { $0.exported.canonicalJSON + "\n" }.joined()
            if let output {
                do {
                    try Data(text.utf8).write(to: URL(fileURLWithPath: output), options: .atomic)
                } catch {
                    fail(.invalidArgument("cannot write \(output): \(error.localizedDescription)"))
                }
                FileHandle.standardError.write(Data("doer: \(records.count) records written to \(output)\n".utf8))
            } else {
                FileHandle.standardOutput.write(Data(text.utf8))
            }
        }
    }
}

extension AuditCommand {
    struct Note: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "note",
            abstract: "Add a note of your own to the audit trail (e.g. why something was done by hand)."
        )

        @Argument(help: "The note.") var text: String
        @Option(help: "Attach it to this session.") var session: String?
        @Option(help: ArgumentHelp("Append the note this many times (stress testing).", visibility: .hidden)) var count = 1

        func run() async throws {
            do {
                let configuration = try DoerConfiguration.load()
                let log = try AuditSupport.log(configuration)
                for index in 0..<max(count, 1) {
                    let details: AuditValue = count > 1 ? ["text": .string(text), "index": .int(Int64(index))] : ["text": .string(text)]
                    try log.append(.note, session: session, actor: configuration.audit.actor(), details: details)
                }
            } catch {
                fail(error)
            }
        }
    }
}

extension AuditCommand {
    /// `doer audit append-note TEXT --count N`: exists for load and crash tests of the audit
    /// store, so that the writers in them are real `doer` processes opening the configured store
    /// as every command does (`DOER_STORE_URL` included). It appends N notes, one transaction
    /// each, and prints each committed record's sequence number on its own line as soon as the
    /// commit returns: a test that kills the process knows which records must have survived.
    struct AppendNote: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "append-note",
            abstract: "Append N notes, printing the sequence number of each committed one (load and crash tests of the audit store).",
            shouldDisplay: false
        )

        @Argument(help: "The note's text; each record also holds its index and this process's id.") var text: String
        @Option(help: "How many notes to append, one after another.") var count = 1

        func validate() throws {
            guard count > 0 else { throw ValidationError("--count must be positive") }
        }

        func run() async throws {
            do {
                let configuration = try DoerConfiguration.load()
                let log = try AuditSupport.log(configuration)
                let actor = configuration.audit.actor()
                let pid = Int64(getpid())
                for index in 0..<count {
                    let record = try log.append(.note, actor: actor,
                                                details: ["text": .string(text), "index": .int(Int64(index)), "pid": .int(pid)])
                    // Unbuffered: a line on stdout means the record was committed, even if the
                    // process dies right after.
                    FileHandle.standardOutput.write(Data("\(record.seq)\n".utf8))
                }
            } catch {
                fail(error)
            }
        }
    }
}
