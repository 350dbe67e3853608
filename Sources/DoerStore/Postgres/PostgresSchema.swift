/// The PostgreSQL schema as numbered migrations. A migration, once released, never
/// changes: a new one is appended. `PostgresStore` applies the missing ones at start, under
/// an advisory lock so that replicas starting together apply each once, and refuses a
/// database whose version is past the last one here.
enum PostgresSchema {
    /// Advisory lock keys (the single 64-bit key space), fixed for good: every version of
    /// Doer on one database must agree on them.
    static let migrationLock: Int64 = 0x646F_6572_736368   // "doersch"
    static let auditChainLock: Int64 = 0x646F_6572_617564   // "doeraud"
    /// The first half of the two-key lock on one session's event numbering.
    static let sessionEventsLock: Int32 = 0x646F_6572         // "doer"
    /// NOTIFY channels. PostgreSQL delivers a notification only within its database, so
    /// each deployment (one database) has channels of its own.
    static let eventsChannel = "doer_events"
    static let runsChannel = "doer_runs"

    static var latest: Int { migrations.count }

    static let migrations: [String] = [
        // 1: sessions and events, tokens and owners, the audit chain.
        """
        CREATE TABLE session (
            id TEXT PRIMARY KEY,
            task TEXT NOT NULL,
            workspace TEXT NOT NULL,
            created_at DOUBLE PRECISION NOT NULL,
            outcome TEXT,
            message TEXT
        );
        CREATE INDEX session_created ON session (created_at DESC);
        CREATE TABLE event (
            session_id TEXT NOT NULL REFERENCES session (id) ON DELETE CASCADE,
            seq BIGINT NOT NULL,
            type TEXT NOT NULL,
            json TEXT NOT NULL,
            created_at DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (session_id, seq)
        );
        CREATE TABLE token (
            id TEXT PRIMARY KEY,
            user_name TEXT NOT NULL,
            sha256 TEXT NOT NULL UNIQUE,
            created_at DOUBLE PRECISION NOT NULL,
            revoked_at DOUBLE PRECISION
        );
        CREATE TABLE session_owner (
            session_id TEXT PRIMARY KEY,
            user_name TEXT NOT NULL
        );
        CREATE INDEX session_owner_user ON session_owner (user_name);
        -- Appends are serialized by an advisory lock; these constraints are the safety net:
        -- two records can never claim the same place or the same predecessor (a fork).
        CREATE TABLE audit (
            seq BIGINT NOT NULL CHECK (seq > 0),
            time TEXT NOT NULL,
            session_id TEXT,
            kind TEXT NOT NULL,
            actor TEXT NOT NULL,
            details TEXT NOT NULL,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL,
            hmac TEXT,
            CONSTRAINT audit_seq_unique UNIQUE (seq),
            CONSTRAINT audit_prev_hash_unique UNIQUE (prev_hash)
        );
        CREATE INDEX audit_session ON audit (session_id);
        CREATE FUNCTION doer_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'audit records are append-only';
        END $$;
        CREATE TRIGGER audit_no_update BEFORE UPDATE OR DELETE ON audit
            FOR EACH ROW EXECUTE FUNCTION doer_audit_append_only();
        CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
            FOR EACH STATEMENT EXECUTE FUNCTION doer_audit_append_only();
        """,
        // 2: replicas. Runs wait in a queue that any `doer serve` claims (FOR UPDATE SKIP
        // LOCKED) under a lease it renews; a run is claimed once and never put back, so a
        // replica that dies mid-run has it marked failed, not run again. Approvals are kept
        // here so that a person may answer on any replica. Times are the server's clock, so
        // replicas on hosts whose clocks differ agree on when a lease ran out.
        """
        CREATE TABLE run_queue (
            id TEXT PRIMARY KEY,
            session_id TEXT NOT NULL REFERENCES session (id) ON DELETE CASCADE,
            task TEXT NOT NULL,
            workspace TEXT NOT NULL,
            actor TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'finished', 'failed', 'cancelled')),
            queued_by TEXT NOT NULL,
            queued_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
            claimed_by TEXT,
            claimed_at TIMESTAMPTZ,
            lease_expires_at TIMESTAMPTZ,
            finished_at TIMESTAMPTZ,
            failure TEXT,
            cancel_requested BOOLEAN NOT NULL DEFAULT FALSE,
            CONSTRAINT run_queue_claimed CHECK (state IN ('queued', 'cancelled') OR claimed_by IS NOT NULL)
        );
        -- One run at a time per session, across every replica.
        CREATE UNIQUE INDEX run_queue_one_active ON run_queue (session_id) WHERE state IN ('queued', 'running');
        CREATE INDEX run_queue_queued ON run_queue (queued_at) WHERE state = 'queued';
        CREATE INDEX run_queue_leases ON run_queue (lease_expires_at) WHERE state = 'running';
        CREATE TABLE run_approval (
            run_id TEXT NOT NULL REFERENCES run_queue (id) ON DELETE CASCADE,
            approval_id TEXT NOT NULL,
            session_id TEXT NOT NULL,
            request TEXT NOT NULL,
            asked_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
            answered_at TIMESTAMPTZ,
            -- NULL with answered_at set: a no (a person's, a timeout's, or the run ending).
            approved_by TEXT,
            PRIMARY KEY (run_id, approval_id)
        );
        CREATE INDEX run_approval_open ON run_approval (session_id) WHERE answered_at IS NULL;
        """,
        // 3: an audit append in one statement. The writer builds the record from the head it
        // last saw; the function takes the chain's lock, reads the head afresh (a volatile
        // function's every query has its own snapshot at READ COMMITTED, so it sees what the
        // previous holder committed) and inserts only if the record follows that head. It
        // answers the true head either way, so a writer that lost a race rebuilds from it.
        // The lock is the statement's transaction's, released at its commit.
        """
        CREATE FUNCTION doer_audit_append(
            expected_seq BIGINT, expected_hash TEXT,
            new_seq BIGINT, new_time TEXT, new_session_id TEXT, new_kind TEXT, new_actor TEXT,
            new_details TEXT, new_prev_hash TEXT, new_hash TEXT, new_hmac TEXT)
        RETURNS TABLE (appended BOOLEAN, head_seq BIGINT, head_hash TEXT)
        LANGUAGE plpgsql VOLATILE AS $$
        DECLARE
            current_seq BIGINT;
            current_hash TEXT;
        BEGIN
            PERFORM pg_advisory_xact_lock(\(auditChainLock));
            SELECT a.seq, a.hash INTO current_seq, current_hash FROM audit a ORDER BY a.seq DESC LIMIT 1;
            IF COALESCE(current_seq, 0) = expected_seq AND current_hash IS NOT DISTINCT FROM expected_hash THEN
                INSERT INTO audit (seq, time, session_id, kind, actor, details, prev_hash, hash, hmac)
                VALUES (new_seq, new_time, new_session_id, new_kind, new_actor, new_details, new_prev_hash, new_hash, new_hmac);
                RETURN QUERY SELECT TRUE, new_seq, new_hash;
            ELSE
                RETURN QUERY SELECT FALSE, current_seq, current_hash;
            END IF;
        END $$;
        """,
    ]
}
