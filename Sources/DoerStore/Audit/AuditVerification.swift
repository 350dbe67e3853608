/// The result of walking the chain from the first record to the last.
public struct AuditVerification: Sendable, Hashable {
    public struct Break: Sendable, Hashable, CustomStringConvertible {
        /// The first record that does not fit (for a deleted record: the one after the gap).
        public var seq: Int64
        public var reason: String
        public var description: String { "record \(seq): \(reason)" }
    }

    public var records: Int
    /// The last record's hash: keep a copy elsewhere to detect records cut off the end.
    public var head: String
    public var signed: Bool
    public var firstBreak: Break?
    public var intact: Bool { firstBreak == nil }
}
