public import DoerCore
public import Foundation

/// Copies one store into another (`doer store migrate`): sessions with their events,
/// tokens and owners, and the audit chain record for record, hashes and signatures
/// unchanged. The target must hold no sessions, tokens or audit records, so a copy never
/// merges two chains. After the copy the target's chain is walked and must end at the
/// source's head, with as many records.
public struct StoreCopy: Sendable {
    public struct Report: Sendable, Hashable {
        public var sessions: Int
        public var events: Int
        public var tokens: Int
        public var owners: Int
        public var auditRecords: Int
        /// The chain's last hash, the same in both stores.
        public var auditHead: String
    }

    public let source: Stores
    public let target: Stores

    public init(from source: Stores, to target: Stores) {
        self.source = source
        self.target = target
    }

    public func run() throws(DoerError) -> Report {
        let before = try source.audit.verify()
        if let firstBreak = before.firstBreak {
            throw .configuration("the source's audit trail does not verify (\(firstBreak)); a copy would hide where it was broken")
        }
        do {
            guard try target.sessions.storage.sessions(limit: 1).isEmpty, try target.access.storage.tokens().isEmpty,
                  try target.audit.storage.records(sessionPrefix: nil).isEmpty else {
                throw DoerError.configuration("\(target.description) already holds sessions, tokens or audit records; migrate into an empty database")
            }
            var report = Report(sessions: 0, events: 0, tokens: 0, owners: 0, auditRecords: 0, auditHead: before.head)
            for session in try source.sessions.storage.sessions(limit: Int(Int32.max)).reversed() {
                let events = try source.sessions.storage.events(of: session.id)
                try target.sessions.storage.importSession(session, events: events)
                report.sessions += 1
                report.events += events.count
            }
            for token in try source.access.storage.tokens() {
                try target.access.storage.insertToken(token)
                report.tokens += 1
            }
            for (session, user) in try source.access.storage.owners() {
                try target.access.storage.setOwner(user, ofSession: session)
                report.owners += 1
            }
            let records = try source.audit.storage.records(sessionPrefix: nil)
            try target.audit.storage.importRecords(records)
            report.auditRecords = records.count
            let after = try target.audit.verify()
            guard after.intact, after.records == before.records, after.head == before.head else {
                throw DoerError.configuration("the copied audit trail does not match the source (\(after.firstBreak?.description ?? "\(after.records) records, head \(after.head)")); "
                    + "do not use \(target.description) until this is understood")
            }
            return report
        } catch let error as DoerError {
            throw error
        } catch {
            throw .configuration("copying to \(target.description): \(error)")
        }
    }
}
