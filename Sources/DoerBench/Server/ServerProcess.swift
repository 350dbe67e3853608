import DoerCore
import Foundation

/// `doer serve` as a child process on a free loopback port. Foundation `Process`, not
/// `ProcessRunner`: the server lives while the benchmark reads its first line, measures it
/// and stops it, and `ProcessRunner` runs a program to its end.
final class ServerProcess: @unchecked Sendable {
    let process: Process
    let baseURL: String

    private init(process: Process, baseURL: String) {
        self.process = process
        self.baseURL = baseURL
    }

    /// `environment` adds to (or replaces in) this process's own, e.g. `DOER_STORE_URL` for a replica.
    static func start(doer: URL, home: URL, arguments: [String], environment extra: [String: String] = [:]) throws -> ServerProcess {
        let process = Process()
        process.executableURL = doer
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["DOER_HOME"] = home.path
        environment.merge(extra) { _, new in new }
        process.environment = environment
        let out = Pipe()
        process.standardOutput = out
        // Its own log, not this process's stderr: a server left running by a benchmark that
        // died would otherwise hold the output of whoever ran the benchmark open for ever.
        let log = home.appendingPathComponent("serve-\(UUID().uuidString.prefix(8)).log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: log)
        try process.run()
        // The first line says where it listens.
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        let text = String(decoding: line, as: UTF8.self)
        guard let range = text.range(of: #"http://127\.0\.0\.1:\d+"#, options: .regularExpression) else {
            process.terminate()
            let errors = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            throw DoerError.invalidArgument("doer serve did not start: \(text)\(errors.isEmpty ? "" : "\n" + errors)")
        }
        return ServerProcess(process: process, baseURL: String(text[range]))
    }

    /// Resident memory now and at its peak, in bytes, from /proc.
    func memory() -> (rss: Int64, peak: Int64) {
        let status = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8)) ?? ""
        func field(_ name: String) -> Int64 {
            guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix(name + ":") }) else { return 0 }
            return (Int64(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) * 1024
        }
        return (field("VmRSS"), field("VmHWM"))
    }

    /// CPU seconds the server has used, with those of the children it has reaped (the
    /// sandboxes of its runs), from /proc: user and system time.
    func cpuSeconds() -> Double {
        let stat = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/stat", encoding: .utf8)) ?? ""
        // The command name, in parentheses, may hold spaces: the fields are counted after it.
        guard let close = stat.lastIndex(of: ")") else { return 0 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After the name: state is field 3, utime 14, stime 15, cutime 16, cstime 17.
        guard fields.count > 14 else { return 0 }
        let ticks = fields[11...14].compactMap { Double($0) }.reduce(0, +)
        return ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }
}
