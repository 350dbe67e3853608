import DoerCore
import DoerStore
import DoerTestSupport
import Foundation
import Synchronization
import Testing

/// The audit chain on PostgreSQL with writers that are separate `doer` processes
/// (`doer audit append-note`), each with its own connections: many at once, and one killed
/// with SIGKILL while it appends.
@Suite("audit trail on PostgreSQL, writers in separate processes")
struct AuditPostgresProcessTests {
    /// A note appended by a writer, as read back from the database.
    struct Note: Hashable {
        var seq: Int64
        var text: String
        var index: Int64
        var pid: Int64
    }

    static func notes(_ log: AuditLog) throws -> [Note] {
        try log.records().compactMap { record in
            guard record.kind == AuditKind.note.rawValue, let text = record.details["text"]?.stringValue,
                  let index = record.details["index"]?.intValue, let pid = record.details["pid"]?.intValue else { return nil }
            return Note(seq: record.seq, text: text, index: index, pid: pid)
        }
    }

    /// The sequence numbers a writer printed, one a line; a line cut off by a kill is not one.
    static func printedSeqs(_ output: String) -> [Int64] {
        output.split(separator: "\n", omittingEmptySubsequences: false).dropLast().compactMap { Int64($0) }
    }

    @Test("8 writer processes append 2,000 records to one chain: it verifies and each writer's records are all there")
    func concurrentWriters() throws {
        let url = try PostgresServer.shared().makeDatabase()
        let writers = 8, perWriter = 250
        let dir = try TempDir()
        // The test's own record, first: the writers' records follow it.
        let log = AuditLog(storage: try PostgresStore(url: url).audit)
        try log.append(.note, actor: "test", details: ["text": "before the writers"])

        // Threads, not tasks: each waits on its process, and the cooperative pool has one
        // thread per core, which would start the writers two at a time on this machine.
        let results = WriterResults()
        let group = DispatchGroup()
        for writer in 0..<writers {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                do {
                    let output = try DoerCLI.run(["audit", "append-note", "writer-\(writer)", "--count", "\(perWriter)"],
                                                 in: dir.url, environment: ["DOER_STORE_URL": url, "USER": "writer-\(writer)"])
                    results.outputs.withLock { $0[writer] = output }
                } catch {
                    results.errors.withLock { $0.append("writer \(writer): \(error)") }
                }
            }
        }
        group.wait()
        let errors = results.errors.withLock { $0 }
        #expect(errors.isEmpty, "\(errors)")
        let outputs = results.outputs.withLock { $0 }
        for writer in 0..<writers {
            let output = try #require(outputs[writer])
            #expect(output.status == 0, "writer \(writer): \(output.stderr)")
        }

        let verification = try log.verify()
        #expect(verification.intact, "\(String(describing: verification.firstBreak))")
        #expect(verification.records == writers * perWriter + 1)
        let notes = try Self.notes(log)
        #expect(try log.records().first?.details["text"]?.stringValue == "before the writers")
        #expect(notes.count == writers * perWriter)
        for writer in 0..<writers {
            let mine = notes.filter { $0.text == "writer-\(writer)" }
            #expect(mine.map(\.index) == (0..<Int64(perWriter)).map { $0 }, "writer \(writer)'s records, each once and in its order")
            #expect(Set(mine.map(\.pid)).count == 1, "one process per writer")
            let printed = Self.printedSeqs(outputs[writer]?.stdout ?? "")
            #expect(printed == mine.map(\.seq), "writer \(writer) printed the numbers its records have")
        }
        #expect(Set(notes.map(\.pid)).count == writers, "\(writers) different processes")
        // The writers ran at the same time: their records interleave in the chain, rather
        // than following one another in eight runs.
        let runs = zip(notes, notes.dropFirst()).filter { $0.text != $1.text }.count + 1
        #expect(runs > writers, "the chain holds \(runs) runs of one writer's records")
        // `doer audit verify` on the same database agrees.
        let after = try DoerCLI.run(["audit", "verify"], in: dir.url, environment: ["DOER_STORE_URL": url])
        #expect(after.status == 0, "\(after.stderr)")
        #expect(after.stdout.contains("audit trail intact: \(writers * perWriter + 1) records"))
    }

    @Test("a writer killed with SIGKILL while appending loses no committed record and leaves a chain that verifies and goes on")
    func killedWriter() throws {
        let url = try PostgresServer.shared().makeDatabase()
        let dir = try TempDir()
        let process = DoerCLI.process(["audit", "append-note", "doomed", "--count", "1000000"], in: dir.url,
                                      environment: ["DOER_STORE_URL": url])
        let stdout = Pipe(), stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        // Should it hang instead of writing, the test fails rather than waits for ever.
        let pid = process.processIdentifier
        let watchdog = DispatchWorkItem { kill(pid, SIGKILL) }
        DispatchQueue.global().asyncAfter(deadline: .now() + 300, execute: watchdog)
        // Read what it reports committed until it has committed a good number, then kill it
        // mid-stream: most of its time is spent inside a transaction, holding the chain's lock.
        var output = Data()
        let reader = stdout.fileHandleForReading
        while Self.printedSeqs(String(decoding: output, as: UTF8.self)).count < 300 {
            let chunk = reader.availableData
            if chunk.isEmpty { break }
            output.append(chunk)
        }
        watchdog.cancel()
        kill(pid, SIGKILL)
        process.waitUntilExit()
        // Lines it wrote before it died are still in the pipe.
        output.append(reader.readDataToEndOfFile())
        let problems = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationReason == .uncaughtSignal, "\(problems)")
        #expect(process.terminationStatus == SIGKILL)
        let printed = Self.printedSeqs(String(decoding: output, as: UTF8.self))
        #expect(printed.count >= 300, "\(problems)")
        #expect(printed == (1...Int64(printed.count)).map { $0 })

        let log = AuditLog(storage: try PostgresStore(url: url).audit)
        let verification = try log.verify()
        #expect(verification.intact, "\(String(describing: verification.firstBreak))")
        // Every record it reported is there; at most one more committed before the kill
        // that it had no time to report.
        let notes = try Self.notes(log)
        #expect(Array(notes.prefix(printed.count)).map(\.seq) == printed)
        #expect(notes.map(\.index) == (0..<Int64(notes.count)).map { $0 })
        #expect(verification.records == notes.count)
        #expect((printed.count...printed.count + 1).contains(notes.count), "\(notes.count) stored, \(printed.count) reported")
        // The dead writer's transaction was rolled back and its lock released: the next
        // writer appends after it, and the chain still verifies.
        let next = try DoerCLI.run(["audit", "append-note", "after the kill", "--count", "3"], in: dir.url,
                                   environment: ["DOER_STORE_URL": url])
        #expect(next.status == 0, "\(next.stderr)")
        #expect(Self.printedSeqs(next.stdout) == (1...3).map { Int64(notes.count + $0) })
        let final = try log.verify()
        #expect(final.intact, "\(String(describing: final.firstBreak))")
        #expect(final.records == notes.count + 3)
    }
}

/// What the writer threads hand back to the test.
private final class WriterResults: Sendable {
    let outputs = Mutex<[Int: DoerCLI.Output]>([:])
    let errors = Mutex<[String]>([])
}
