import DoerCore
import Foundation

/// Shows a result to a person (output passed through, notes on stderr) or as JSON.
enum ResultPrinter {
    static func show(_ result: ExecutionResult, json: Bool) {
        if json {
            FileHandle.standardOutput.write(Self.json(result) + Data("\n".utf8))
            return
        }
        FileHandle.standardOutput.write(result.stdout.data)
        FileHandle.standardError.write(result.stderr.data)
        var notes: [String] = []
        if case .failedToStart(let why) = result.termination { notes.append(why) }
        if case .signaled(let signal) = result.termination { notes.append("killed by signal \(signal)") }
        if result.stdout.truncated { notes.append("stdout: \(result.stdout.omittedBytes) bytes cut from the middle") }
        if result.stderr.truncated { notes.append("stderr: \(result.stderr.omittedBytes) bytes cut from the middle") }
        notes += result.warnings
        for decision in result.networkDecisions where decision.verdict != .allowed {
            let target = decision.host.isEmpty ? "a request" : "\(decision.method) \(decision.host):\(decision.port)"
            notes.append("network: \(decision.verdict.rawValue) \(target): \(decision.detail)")
        }
        if !result.changedFiles.isEmpty {
            let verb = result.changesApplied ? "changed" : "would change (not applied)"
            notes.append("\(verb): " + result.changedFiles.map { "\($0.kind.rawValue) \(ShownText.escape($0.path))" }.joined(separator: ", "))
        }
        for note in notes { FileHandle.standardError.write(Data("doer: \(note)\n".utf8)) }
    }

    static func json(_ result: ExecutionResult) -> Data {
        var object: [String: Any] = [
            "exit_code": Int(result.termination.shellExitCode),
            "timed_out": result.timedOut,
            "memory_killed": result.memoryKilled,
            "disk_limit_exceeded": result.diskLimitExceeded,
            "duration_ms": (result.durationMs * 1000).rounded() / 1000,
            "stdout": result.stdout.text,
            "stderr": result.stderr.text,
            "stdout_truncated": result.stdout.truncated,
            "stderr_truncated": result.stderr.truncated,
            "stdout_bytes": result.stdout.totalBytes,
            "stderr_bytes": result.stderr.totalBytes,
            "backend": result.backend.rawValue,
            "changed_files": result.changedFiles.map { ["path": $0.path, "change": $0.kind.rawValue] },
            "changes_applied": result.changesApplied,
            "warnings": result.warnings,
            "network": result.networkDecisions.map { decision -> [String: Any] in
                var entry: [String: Any] = [
                    "host": decision.host, "port": decision.port, "method": decision.method,
                    "verdict": decision.verdict.rawValue, "reason": decision.reason.rawValue, "detail": decision.detail,
                    "bytes_sent": decision.bytesSent, "bytes_received": decision.bytesReceived,
                ]
                if let address = decision.address { entry["address"] = address }
                return entry
            },
        ]
        switch result.termination {
        case .exited(let code): object["exit_status"] = Int(code)
        case .signaled(let signal): object["signal"] = Int(signal)
        case .failedToStart(let why): object["error"] = why
        }
        if let peak = result.peakMemoryBytes { object["peak_memory_bytes"] = peak }
        if let failure = result.applyFailure { object["apply_error"] = failure }
        if let user = result.cpuUserMs { object["cpu_user_ms"] = user }
        if let system = result.cpuSystemMs { object["cpu_system_ms"] = system }
        return (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
    }
}

extension ExecutionResult {
    /// The exit status a command of Doer's gives for this run: the command's own, or 1 when
    /// the command succeeded but its changes could not be applied (a script must not read
    /// an unchanged workspace as done).
    var commandExitCode: Int32 {
        let code = termination.shellExitCode
        return code == 0 && applyFailure != nil ? 1 : code
    }
}

/// Prints a Doer error the same way everywhere and exits with status 2.
func fail(_ error: DoerError) -> Never {
    FileHandle.standardError.write(Data("doer: error: \(error.description)\n".utf8))
    exit(2)
}
