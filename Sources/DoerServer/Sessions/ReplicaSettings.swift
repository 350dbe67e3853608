public import DoerCore
import Foundation

/// How a `doer serve` shares a PostgreSQL store with other replicas (read from the
/// environment; SQLite ignores them):
///
/// - `DOER_RUN_LEASE_SECONDS` (default 30): how long a claimed run stays this replica's
///   without a renewal; it is renewed every third of that. A replica silent for longer has
///   its run marked failed by another.
/// - `DOER_REPLICA_POLL_SECONDS` (default 2): how often the queue and the followed sessions
///   are looked at even without a notification.
/// - `DOER_REPLICA_MAX_RUNS` (default 4): runs this replica executes at once; 0 makes a
///   replica that serves the API and its event streams but leaves every run to the others.
/// - `DOER_REPLICA_ID`: the name in `run_queue.claimed_by` (default: host, pid and a random part).
public struct ReplicaSettings: Sendable, Equatable {
    public var leaseSeconds: Double
    public var pollSeconds: Double
    public var maxRuns: Int
    public var replicaID: String

    public init(leaseSeconds: Double = 30, pollSeconds: Double = 2, maxRuns: Int = 4, replicaID: String? = nil) {
        self.leaseSeconds = leaseSeconds
        self.pollSeconds = pollSeconds
        self.maxRuns = maxRuns
        self.replicaID = replicaID ?? Self.defaultID()
    }

    public init(environment: [String: String]) throws(DoerError) {
        func number(_ name: String, _ fallback: Double) throws(DoerError) -> Double {
            guard let text = environment[name], !text.isEmpty else { return fallback }
            guard let value = Double(text), value > 0, value.isFinite else {
                throw .configuration("\(name) must be a positive number of seconds, not '\(text)'")
            }
            return value
        }
        let lease = try number("DOER_RUN_LEASE_SECONDS", 30)
        let poll = try number("DOER_REPLICA_POLL_SECONDS", 2)
        var maxRuns = 4
        if let text = environment["DOER_REPLICA_MAX_RUNS"], !text.isEmpty {
            guard let value = Int(text), value >= 0 else {
                throw .configuration("DOER_REPLICA_MAX_RUNS must be a whole number, 0 or more, not '\(text)'")
            }
            maxRuns = value
        }
        let id = environment["DOER_REPLICA_ID"].flatMap { $0.isEmpty ? nil : $0 }
        self.init(leaseSeconds: lease, pollSeconds: poll, maxRuns: maxRuns, replicaID: id)
    }

    /// How often the worker looks at the queue and renews its leases: often enough that a
    /// lease is renewed about three times before it would run out.
    var tickSeconds: Double { min(pollSeconds, leaseSeconds / 3) }

    static func defaultID() -> String {
        "\(ProcessInfo.processInfo.hostName)-\(getpid())-\(UUID().uuidString.prefix(8).lowercased())"
    }
}
