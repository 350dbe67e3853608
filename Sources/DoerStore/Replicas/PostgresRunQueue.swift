import Foundation
import PostgresNIO

/// A run waiting in the queue, or claimed by a replica: what it needs to start anywhere.
public struct QueuedRun: Sendable, Hashable {
    public var id: String
    public var sessionID: String
    /// The whole task the agent is given (with what the session's earlier runs did).
    public var task: String
    public var workspace: String
    /// Who the run's audit records name.
    public var actor: String
}

/// A run whose replica stopped renewing its lease, now marked failed.
public struct ExpiredRun: Sendable, Hashable {
    public var id: String
    public var sessionID: String
    public var claimedBy: String
    public var reason: String
}

/// What renewing a lease found.
public enum LeaseRenewal: Sendable, Hashable {
    /// Still this replica's; `cancelRequested` when someone asked (on any replica) to stop it.
    case held(cancelRequested: Bool)
    /// No longer this replica's: it ran out and another replica marked the run failed.
    case lost
}

/// What asking to cancel a session's run did.
public enum RunCancellation: Sendable, Hashable {
    /// It was still waiting: it is cancelled and will never start.
    case dequeued(runID: String)
    /// A replica runs it; that replica stops it when it next renews its lease.
    case requested(runID: String, claimedBy: String)
    case notRunning
}

/// The queue of session runs shared by every `doer serve` on one PostgreSQL database.
///
/// A run is claimed with `SELECT … FOR UPDATE SKIP LOCKED`, by exactly one replica, under a
/// lease that replica renews while it runs. A run leaves `queued` once and never comes
/// back: a replica that dies mid-run has its run marked failed by another once the lease
/// has run out, never started a second time (the agent may have half-applied a change or
/// spent its budget; a person decides whether to run it again). Approvals are rows here,
/// so a person may answer on any replica; the first answer wins.
///
/// ```swift
/// let queue = postgres.runQueue
/// let id = try queue.enqueue(sessionID: s, task: t, workspace: w, actor: "ada", by: "replica-a")
/// if let run = try queue.claim(by: "replica-b", leaseSeconds: 30) { … }
/// ```
public final class PostgresRunQueue: Sendable {
    private let pool: PostgresConnectionPool

    init(pool: PostgresConnectionPool) {
        self.pool = pool
    }

    /// Queues a run; nil when the session already has one queued or running (on any replica).
    public func enqueue(sessionID: String, task: String, workspace: String, actor: String, by replica: String) throws -> String? {
        let id = UUID().uuidString.lowercased()
        do {
            try pool.withConnection { link in
                try link.transaction {
                    try link.query("""
                        INSERT INTO run_queue (id, session_id, task, workspace, actor, state, queued_by)
                        VALUES ($1, $2, $3, $4, $5, 'queued', $6)
                        """, [.text(id), .text(sessionID), .text(task), .text(workspace), .text(actor), .text(replica)])
                    try link.query("SELECT pg_notify($1, $2)", [.text(PostgresSchema.runsChannel), .text("queued \(id)")])
                }
            }
        } catch let failure as PostgresFailure where failure.sqlState == PostgresFailure.uniqueViolation {
            return nil
        }
        return id
    }

    /// Takes the oldest waiting run for `replica`, with a lease of `leaseSeconds`; nil when
    /// none waits. Replicas claiming at once skip each other's locked rows, so each run
    /// goes to one of them.
    public func claim(by replica: String, leaseSeconds: Double) throws -> QueuedRun? {
        try pool.withConnection { link in
            try link.query("""
                UPDATE run_queue SET state = 'running', claimed_by = $1, claimed_at = clock_timestamp(),
                    lease_expires_at = clock_timestamp() + make_interval(secs => $2)
                WHERE id = (SELECT id FROM run_queue WHERE state = 'queued' ORDER BY queued_at LIMIT 1 FOR UPDATE SKIP LOCKED)
                RETURNING id, session_id, task, workspace, actor
                """, [.text(replica), .double(leaseSeconds)]).first.map { row in
                QueuedRun(id: try row[0].text() ?? "", sessionID: try row[1].text() ?? "", task: try row[2].text() ?? "",
                          workspace: try row[3].text() ?? "", actor: try row[4].text() ?? "")
            }
        }
    }

    /// Extends the lease of a run `replica` holds.
    public func renew(runID: String, by replica: String, leaseSeconds: Double) throws -> LeaseRenewal {
        try pool.withConnection { (link: PostgresLink) throws -> LeaseRenewal in
            let rows = try link.query("""
                UPDATE run_queue SET lease_expires_at = clock_timestamp() + make_interval(secs => $3)
                WHERE id = $1 AND claimed_by = $2 AND state = 'running'
                RETURNING cancel_requested::TEXT
                """, [.text(runID), .text(replica), .double(leaseSeconds)])
            guard let row = rows.first else { return .lost }
            return .held(cancelRequested: try row[0].text() == "true")
        }
    }

    /// Records how a run `replica` held ended (`finished` or `cancelled`); its approvals
    /// still open are closed as a no. False when the run was no longer this replica's.
    @discardableResult
    public func finish(runID: String, by replica: String, cancelled: Bool) throws -> Bool {
        try pool.withConnection { (link: PostgresLink) throws -> Bool in
            try link.transaction { () throws -> Bool in
                let rows = try link.query("""
                    UPDATE run_queue SET state = $3, finished_at = clock_timestamp(), lease_expires_at = NULL
                    WHERE id = $1 AND claimed_by = $2 AND state = 'running' RETURNING id
                    """, [.text(runID), .text(replica), .text(cancelled ? "cancelled" : "finished")])
                try Self.closeApprovals(ofRun: runID, link)
                return !rows.isEmpty
            }
        }
    }

    /// Marks failed every running run whose lease has run out, and returns them; each is
    /// returned to one caller only, however many replicas look at once.
    public func failExpired() throws -> [ExpiredRun] {
        try pool.withConnection { (link: PostgresLink) throws -> [ExpiredRun] in
            try link.transaction { () throws -> [ExpiredRun] in
                let rows = try link.query("""
                    UPDATE run_queue SET state = 'failed', finished_at = clock_timestamp(),
                        failure = 'the replica running it (' || claimed_by || ') stopped renewing its lease, which ran out at '
                            || to_char(lease_expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
                            || '; it was not run again'
                    WHERE id IN (SELECT id FROM run_queue WHERE state = 'running' AND lease_expires_at < clock_timestamp()
                                 FOR UPDATE SKIP LOCKED)
                    RETURNING id, session_id, claimed_by, failure
                    """)
                let expired = try rows.map { row in
                    ExpiredRun(id: try row[0].text() ?? "", sessionID: try row[1].text() ?? "",
                               claimedBy: try row[2].text() ?? "", reason: try row[3].text() ?? "")
                }
                for run in expired { try Self.closeApprovals(ofRun: run.id, link) }
                return expired
            }
        }
    }

    /// The runs `actor` has queued or running, on every replica.
    public func activeRuns(actor: String) throws -> Int {
        try pool.withConnection { link in
            let rows = try link.query("SELECT count(*) FROM run_queue WHERE actor = $1 AND state IN ('queued', 'running')", [.text(actor)])
            return Int(try rows.first?[0].int() ?? 0)
        }
    }

    /// True while the session has a run queued or running on any replica.
    public func isActive(sessionID: String) throws -> Bool {
        try pool.withConnection { link in
            try !link.query("SELECT 1 FROM run_queue WHERE session_id = $1 AND state IN ('queued', 'running')",
                            [.text(sessionID)]).isEmpty
        }
    }

    /// Cancels the session's waiting run, or asks the replica running it to stop.
    public func cancel(sessionID: String) throws -> RunCancellation {
        try pool.withConnection { (link: PostgresLink) throws -> RunCancellation in
            try link.transaction { () throws -> RunCancellation in
                if let row = try link.query("""
                    UPDATE run_queue SET state = 'cancelled', finished_at = clock_timestamp()
                    WHERE session_id = $1 AND state = 'queued' RETURNING id
                    """, [.text(sessionID)]).first {
                    return .dequeued(runID: try row[0].text() ?? "")
                }
                guard let row = try link.query("""
                    UPDATE run_queue SET cancel_requested = TRUE WHERE session_id = $1 AND state = 'running'
                    RETURNING id, claimed_by
                    """, [.text(sessionID)]).first else { return .notRunning }
                let runID = try row[0].text() ?? ""
                try link.query("SELECT pg_notify($1, $2)", [.text(PostgresSchema.runsChannel), .text("cancel \(runID)")])
                return .requested(runID: runID, claimedBy: try row[1].text() ?? "")
            }
        }
    }

    // MARK: approvals

    /// Records that the run waits for a person's answer to `approvalID`; `request` is the
    /// request's JSON, as the API shows it.
    public func ask(runID: String, sessionID: String, approvalID: String, request: String) throws {
        try pool.withConnection { link in
            try link.query("""
                INSERT INTO run_approval (run_id, approval_id, session_id, request) VALUES ($1, $2, $3, $4)
                ON CONFLICT (run_id, approval_id) DO NOTHING
                """, [.text(runID), .text(approvalID), .text(sessionID), .text(request)])
        }
    }

    /// The JSON of the session's approvals waiting for an answer, oldest first.
    public func openApprovals(sessionID: String) throws -> [String] {
        try pool.withConnection { link in
            try link.query("""
                SELECT a.request FROM run_approval a JOIN run_queue r ON r.id = a.run_id
                WHERE a.session_id = $1 AND a.answered_at IS NULL AND r.state = 'running' ORDER BY a.asked_at
                """, [.text(sessionID)]).map { try $0[0].text() ?? "" }
        }
    }

    /// Answers an open approval of the session's running run (`approvedBy` nil: a no), and
    /// tells the replicas. False when there is none open by that id (answered already,
    /// timed out, or its run ended).
    public func answer(sessionID: String, approvalID: String, approvedBy: String?) throws -> Bool {
        try pool.withConnection { (link: PostgresLink) throws -> Bool in
            try link.transaction { () throws -> Bool in
                let rows = try link.query("""
                    UPDATE run_approval SET answered_at = clock_timestamp(), approved_by = $3
                    WHERE session_id = $1 AND approval_id = $2 AND answered_at IS NULL
                      AND run_id IN (SELECT id FROM run_queue WHERE session_id = $1 AND state = 'running')
                    RETURNING run_id
                    """, [.text(sessionID), .text(approvalID), .text(approvedBy)])
                guard let row = rows.first else { return false }
                try link.query("SELECT pg_notify($1, $2)",
                               [.text(PostgresSchema.runsChannel), .text("answered \(try row[0].text() ?? "") \(approvalID)")])
                return true
            }
        }
    }

    /// The answer to an approval of `runID`, once there is one: `.some(nil)` is a no.
    public func answerOf(runID: String, approvalID: String) throws -> String?? {
        try pool.withConnection { (link: PostgresLink) throws -> String?? in
            guard let row = try link.query("""
                SELECT approved_by FROM run_approval WHERE run_id = $1 AND approval_id = $2 AND answered_at IS NOT NULL
                """, [.text(runID), .text(approvalID)]).first else { return .none }
            return .some(try row[0].text())
        }
    }

    /// Closes an approval nobody answered (a timeout, a cancelled run) as a no, unless an
    /// answer got there first: returns the answer that counts.
    public func close(runID: String, approvalID: String) throws -> String? {
        try pool.withConnection { (link: PostgresLink) throws -> String? in
            let closed = try link.query("""
                UPDATE run_approval SET answered_at = clock_timestamp(), approved_by = NULL
                WHERE run_id = $1 AND approval_id = $2 AND answered_at IS NULL RETURNING approval_id
                """, [.text(runID), .text(approvalID)])
            guard closed.isEmpty else { return nil }
            return try link.query("SELECT approved_by FROM run_approval WHERE run_id = $1 AND approval_id = $2",
                                  [.text(runID), .text(approvalID)]).first?[0].text()
        }
    }

    /// Wakes every replica's queue worker (a run queued, an answer given).
    public func notifyReplicas(_ payload: String) throws {
        try pool.withConnection { link in
            try link.query("SELECT pg_notify($1, $2)", [.text(PostgresSchema.runsChannel), .text(payload)])
        }
    }

    private static func closeApprovals(ofRun runID: String, _ link: PostgresLink) throws {
        try link.query("UPDATE run_approval SET answered_at = clock_timestamp() WHERE run_id = $1 AND answered_at IS NULL",
                       [.text(runID)])
    }
}

extension PostgresStore {
    /// The run queue on this store's database (`doer serve` replicas).
    public var runQueue: PostgresRunQueue { PostgresRunQueue(pool: pool) }
}
