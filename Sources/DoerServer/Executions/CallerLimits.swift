public import DoerCore

/// The limits a caller asks for on one run, by their names on the wire (`memory_bytes`, …).
///
/// A caller may only lower the server's limits, never raise them: the server's limits are
/// what its operator allows any token holder, and a request above one is refused (400)
/// naming the limit and its maximum. Where the server has no limit of a kind, a caller may
/// still set one. A limit left out (or `null`) keeps the server's.
///
/// ```swift
/// let limits = try CallerLimits(["memory_bytes": 64 << 20]).lowering(serverLimits)
/// ```
public struct CallerLimits: Sendable, Hashable {
    /// Requested values by wire name; only names of `fields` are ever read.
    public var values: [String: Double]

    public init(_ values: [String: Double] = [:]) {
        self.values = values
    }

    /// Every limit a caller may set. A new limit in `ResourceLimits` is one line here.
    static var fields: [Field] {
        [
            .init("timeout_seconds", \.wallClockSeconds),
            .init("cpu_seconds", \.cpuSeconds),
            .init("memory_bytes", \.memoryBytes, bytes: true),
            .init("processes", \.processes),
            .init("open_files", \.openFiles),
            .init("file_size_bytes", \.fileSizeBytes, bytes: true),
            .init("disk_bytes", \.diskBytes, bytes: true),
            .init("tmp_size_bytes", \.tmpSizeBytes, bytes: true),
            .init("output_bytes", \.outputBytes, bytes: true),
        ]
    }

    /// The wire names, for schemas and messages.
    public static var names: [String] { fields.map(\.name) }

    /// `server` with each requested limit applied; 400 for one above the server's, one that
    /// is not a positive number, or one that makes no sense to the sandbox.
    public func lowering(_ server: ResourceLimits) throws(ServerError) -> ResourceLimits {
        var limits = server
        for field in Self.fields {
            guard let value = values[field.name] else { continue }
            guard value.isFinite, value > 0 else {
                throw .badRequest("\(field.name) must be a positive number, got \(Self.shown(value))")
            }
            if let maximum = field.read(server), value > maximum {
                throw .badRequest("\(field.name) \(field.shown(value)) is above this server's limit of \(field.shown(maximum)); "
                    + "a request may only lower the server's limits")
            }
            guard field.write(&limits, value) else {
                throw .badRequest("\(field.name) must be a whole number, got \(Self.shown(value))")
            }
        }
        do { try limits.validate() } catch { throw .badRequest(error.description) }
        return limits
    }

    static func shown(_ value: Double) -> String {
        value.rounded() == value && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }

    /// One limit of `ResourceLimits` a caller may set: how to read the server's value
    /// (`nil`: no limit) and write the caller's.
    struct Field {
        let name: String
        let bytes: Bool
        let read: (ResourceLimits) -> Double?
        /// False when the value does not fit the limit's type (a fraction, or too large).
        let write: (inout ResourceLimits, Double) -> Bool

        init(_ name: String, _ path: WritableKeyPath<ResourceLimits, Double>) {
            self.name = name
            bytes = false
            read = { $0[keyPath: path] }
            write = { limits, value in
                limits[keyPath: path] = value
                return true
            }
        }

        init<Value: FixedWidthInteger>(_ name: String, _ path: WritableKeyPath<ResourceLimits, Value>, bytes: Bool = false) {
            self.name = name
            self.bytes = bytes
            read = { Double($0[keyPath: path]) }
            write = { limits, value in
                guard let whole = Value(exactly: value) else { return false }
                limits[keyPath: path] = whole
                return true
            }
        }

        init<Value: FixedWidthInteger>(_ name: String, _ path: WritableKeyPath<ResourceLimits, Value?>, bytes: Bool = false) {
            self.name = name
            self.bytes = bytes
            read = { limits in limits[keyPath: path].map { Double($0) } }
            write = { limits, value in
                guard let whole = Value(exactly: value) else { return false }
                limits[keyPath: path] = whole
                return true
            }
        }

        func shown(_ value: Double) -> String {
            let number = CallerLimits.shown(value)
            guard bytes, let whole = Int64(exactly: value) else { return number }
            return "\(number) (\(ByteSize.format(whole)))"
        }
    }
}

extension CallerLimits: Decodable {
    /// Reads the fields' names from the body it is part of; other keys are left to the body.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Name.self)
        var values: [String: Double] = [:]
        for field in Self.fields {
            if let value = try container.decodeIfPresent(Double.self, forKey: Name(field.name)) { values[field.name] = value }
        }
        self.init(values)
    }

    struct Name: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ name: String) { stringValue = name }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}
