import Dispatch
import Foundation

/// Runs a short helper program (python3, pip) to completion off the Swift concurrency
/// pool, which must not be blocked by a download that can take minutes.
struct HelperProcess: Sendable {
    struct Output: Sendable {
        var status: Int32
        var stdout: String
        var stderr: String

        /// The last lines of stderr (or stdout when stderr is empty), for error messages.
        func tail(lines: Int = 8) -> String {
            let text = stderr.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? stdout : stderr
            return text.split(separator: "\n", omittingEmptySubsequences: true).suffix(lines).joined(separator: "\n")
        }
    }

    /// The program's arguments; the first is looked up in PATH.
    var arguments: [String]
    var environment: [String: String] = ProcessInfo.processInfo.environment
    /// Pass the program's output through to Doer's stderr (for long installs a person
    /// watches) instead of capturing it.
    var showOutput = false

    func run() async throws -> Output {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try runBlocking() })
            }
        }
    }

    /// `python3`, or `$DOER_PYTHON` when set.
    static func python(_ arguments: [String], environment: [String: String] = ProcessInfo.processInfo.environment,
                       showOutput: Bool = false) -> HelperProcess {
        let python = environment["DOER_PYTHON"].flatMap { $0.isEmpty ? nil : $0 } ?? "python3"
        return HelperProcess(arguments: [python] + arguments, environment: environment, showOutput: showOutput)
    }

    private func runBlocking() throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        if showOutput {
            process.standardOutput = FileHandle.standardError
            process.standardError = FileHandle.standardError
            try process.run()
            process.waitUntilExit()
            return Output(status: process.terminationStatus, stdout: "", stderr: "")
        }
        let stdoutPipe = Pipe()
        let stderrPipe = Pipe()
        process.standardOutput = stdoutPipe
        process.standardError = stderrPipe
        try process.run()
        // Both pipes are drained at once so that neither can fill up and stall the child.
        let stderrData = LockedData()
        let group = DispatchGroup()
        DispatchQueue.global().async(group: group) {
            stderrData.set(stderrPipe.fileHandleForReading.readDataToEndOfFile())
        }
        let stdoutData = stdoutPipe.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        try? stdoutPipe.fileHandleForReading.close()
        try? stderrPipe.fileHandleForReading.close()
        return Output(status: process.terminationStatus,
                      stdout: String(decoding: stdoutData, as: UTF8.self),
                      stderr: String(decoding: stderrData.get(), as: UTF8.self))
    }
}

/// Data handed from one thread to another.
private final class LockedData: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()

    func set(_ value: Data) { lock.withLock { data = value } }
    func get() -> Data { lock.withLock { data } }
}
