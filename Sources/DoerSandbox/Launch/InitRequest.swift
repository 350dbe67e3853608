import CDoerSandbox
import DoerCore
import Foundation

/// The run request doer-sandbox-init waits for on descriptor 3 (see DoerInitProtocol.h).
struct InitRequest: Sendable {
    var command: [String]
    var environment: [String]
    var workingDirectory: String
    var wallClockMs: Int64
    var limits: ResourceLimits
    var allowNetwork: Bool
    /// Start the bridge to the egress proxy before the command (needs `allowNetwork`).
    var proxyBridge: Bool = false
    var seccomp: Bool
    var ownPidNamespace: Bool
    /// Serve later requests after this one (`DOER_INIT_FLAG_REUSABLE`): after the status,
    /// init resets the sandbox and sends one byte saying whether that worked.
    var reusable: Bool = false

    func encoded() -> Data {
        var body = Data()
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { body.append(contentsOf: $0) } }
        func i64(_ v: Int64) { withUnsafeBytes(of: v.littleEndian) { body.append(contentsOf: $0) } }
        func string(_ s: String) {
            let bytes = Array(s.utf8)
            u32(UInt32(bytes.count))
            body.append(contentsOf: bytes)
        }
        u32(DOER_INIT_MAGIC)
        u32((allowNetwork ? DOER_INIT_FLAG_ALLOW_NETWORK : 0) | (seccomp ? 0 : DOER_INIT_FLAG_NO_SECCOMP)
            | (ownPidNamespace ? DOER_INIT_FLAG_OWN_PID_NAMESPACE : 0) | (proxyBridge ? DOER_INIT_FLAG_PROXY_BRIDGE : 0)
            | (reusable ? DOER_INIT_FLAG_REUSABLE : 0))
        i64(wallClockMs)
        i64(Int64(limits.cpuSeconds ?? 0))
        i64(Int64(limits.processes ?? 0))
        i64(Int64(limits.openFiles ?? 0))
        i64(limits.fileSizeBytes ?? 0)
        string(workingDirectory)
        u32(UInt32(command.count))
        command.forEach(string)
        u32(UInt32(environment.count))
        environment.forEach(string)
        var framed = Data()
        withUnsafeBytes(of: UInt32(body.count).littleEndian) { framed.append(contentsOf: $0) }
        return framed + body
    }
}

/// What doer-sandbox-init reports when the command has ended.
struct InitStatus: Sendable {
    var termination: Termination
    var timedOut: Bool
    var maxRSSBytes: Int64
    var userMs: Double
    var systemMs: Double

    static let wireSize = MemoryLayout<doer_init_status>.size

    init?(_ data: Data) {
        guard data.count == Self.wireSize else { return nil }
        let raw = Data(data).withUnsafeBytes { $0.loadUnaligned(as: doer_init_status.self) }
        switch UInt32(raw.outcome) {
        case DOER_INIT_EXITED.rawValue: termination = .exited(raw.value)
        case DOER_INIT_SIGNALED.rawValue: termination = .signaled(raw.value)
        case DOER_INIT_EXEC_FAILED.rawValue:
            termination = .failedToStart("cannot execute the command: \(String(cString: strerror(raw.value)))")
        default:
            termination = .failedToStart("the sandbox could not start the command: \(String(cString: strerror(raw.value)))")
        }
        timedOut = raw.timed_out != 0
        maxRSSBytes = raw.max_rss_kb * 1024
        userMs = Double(raw.user_us) / 1000
        systemMs = Double(raw.system_us) / 1000
    }
}
