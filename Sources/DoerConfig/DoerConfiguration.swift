public import DoerCore
import Foundation
import TOMLKit

/// The effective configuration: built-in defaults < `config.toml` < environment < flags
/// (flags are applied by the command line on top of what this returns).
public struct DoerConfiguration: Sendable, Equatable {
    public var sandboxBackend: SandboxBackendKind = .bubblewrap
    public var warmPoolSize = 0
    public var unprivilegedUID: UInt32 = 65534
    public var unprivilegedGID: UInt32 = 65534
    public var stagingDirectory: String?
    public var limits = ResourceLimits()

    public init() {}

    /// Reads `config.toml` from the data directory (absent is fine) and the environment.
    public static func load(
        directories: DataDirectory = DataDirectory(),
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(DoerError) -> DoerConfiguration {
        var configuration = DoerConfiguration()
        let file = directories.configFile
        if let text = try? String(contentsOf: file, encoding: .utf8) {
            try configuration.apply(toml: text, source: file.path)
        }
        try configuration.apply(environment: environment)
        return configuration
    }

    /// `[sandbox]` and `[limits]` tables. Unknown keys are errors, so typos do not pass silently.
    public mutating func apply(toml text: String, source: String) throws(DoerError) {
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch {
            throw .configuration("\(source): \(error)")
        }
        for key in table.keys where !["sandbox", "limits"].contains(key) {
            throw .configuration("\(source): unknown table or key '\(key)'")
        }
        if let sandbox = table["sandbox"]?.table {
            for (key, value) in sandbox {
                switch key {
                case "backend":
                    guard let name = value.string, let kind = SandboxBackendKind(rawValue: name) else {
                        throw .configuration("\(source): sandbox.backend must be one of \(SandboxBackendKind.allCases.map(\.rawValue).joined(separator: ", "))")
                    }
                    sandboxBackend = kind
                case "warm_pool":
                    guard let size = value.int, (0...64).contains(size) else {
                        throw .configuration("\(source): sandbox.warm_pool must be a number from 0 to 64")
                    }
                    warmPoolSize = size
                case "uid", "gid":
                    guard let id = value.int, id > 0, id < Int(UInt32.max) else {
                        throw .configuration("\(source): sandbox.\(key) must be a positive number")
                    }
                    if key == "uid" { unprivilegedUID = UInt32(id) } else { unprivilegedGID = UInt32(id) }
                case "staging_dir":
                    guard let path = value.string, path.hasPrefix("/") else {
                        throw .configuration("\(source): sandbox.staging_dir must be an absolute path")
                    }
                    stagingDirectory = path
                default:
                    throw .configuration("\(source): unknown key sandbox.\(key)")
                }
            }
        }
        if let limitsTable = table["limits"]?.table {
            for (key, value) in limitsTable {
                let text = value.string ?? value.int.map(String.init) ?? value.double.map { String($0) }
                guard let text else { throw .configuration("\(source): limits.\(key) must be a number or a size") }
                try setLimit(key, text, source: "\(source): limits.\(key)")
            }
        }
        try limits.validate()
    }

    /// `DOER_SANDBOX_BACKEND`, `DOER_WARM_POOL`, `DOER_TIMEOUT`, `DOER_MEMORY`.
    public mutating func apply(environment: [String: String]) throws(DoerError) {
        if let backend = environment["DOER_SANDBOX_BACKEND"] {
            guard let kind = SandboxBackendKind(rawValue: backend) else {
                throw .configuration("DOER_SANDBOX_BACKEND=\(backend) is not a backend")
            }
            sandboxBackend = kind
        }
        if let pool = environment["DOER_WARM_POOL"] {
            guard let size = Int(pool), (0...64).contains(size) else {
                throw .configuration("DOER_WARM_POOL must be a number from 0 to 64")
            }
            warmPoolSize = size
        }
        if let timeout = environment["DOER_TIMEOUT"] { try setLimit("timeout", timeout, source: "DOER_TIMEOUT") }
        if let memory = environment["DOER_MEMORY"] { try setLimit("memory", memory, source: "DOER_MEMORY") }
        try limits.validate()
    }

    private mutating func setLimit(_ key: String, _ text: String, source: String) throws(DoerError) {
        func number() throws(DoerError) -> Int {
            guard let value = Int(text) else { throw .configuration("\(source): '\(text)' is not a whole number") }
            return value
        }
        func size() throws(DoerError) -> Int64 {
            do {
                return try ByteSize.parse(text)
            } catch {
                throw .configuration("\(source): '\(text)' is not a size; write it like 512m, 2g or 65536")
            }
        }
        switch key {
        case "timeout":
            guard let seconds = Double(text) else { throw .configuration("\(source): '\(text)' is not a number of seconds") }
            limits.wallClockSeconds = seconds
        case "cpu": limits.cpuSeconds = try number()
        case "memory": limits.memoryBytes = try size()
        case "processes": limits.processes = try number()
        case "open_files": limits.openFiles = try number()
        case "file_size": limits.fileSizeBytes = try size()
        case "tmp_size": limits.tmpSizeBytes = try size()
        case "output": limits.outputBytes = Int(try size())
        default: throw .configuration("\(source): unknown limit")
        }
    }
}
