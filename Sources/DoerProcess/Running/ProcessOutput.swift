import Foundation

/// What a program that ran to completion left: how it ended and the tails of its output.
public struct ProcessOutput: Sendable, Equatable {
    /// The exit code, or 128 + the signal's number when a signal ended it (as a shell reports it).
    public var status: Int32
    /// Set when the program was killed by a signal.
    public var signal: Int32?
    public var stdout: String
    public var stderr: String
    /// Set when the program outlived its timeout and was killed.
    public var timedOut: Bool
    /// Set when a stream printed more than the runner keeps; `stdout`/`stderr` then hold its last bytes.
    public var truncated: Bool

    public init(status: Int32, signal: Int32? = nil, stdout: String, stderr: String, timedOut: Bool = false, truncated: Bool = false) {
        self.status = status
        self.signal = signal
        self.stdout = stdout
        self.stderr = stderr
        self.timedOut = timedOut
        self.truncated = truncated
    }

    public var succeeded: Bool { status == 0 && signal == nil && !timedOut }

    public var statusDescription: String {
        let ending = signal.map { "killed by signal \($0)" } ?? "exit code \(status)"
        return timedOut ? "timed out, \(ending)" : ending
    }

    /// The last lines of stderr (or stdout when stderr is empty), for error messages.
    public func tail(lines: Int = 8) -> String {
        let text = stderr.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? stdout : stderr
        return text.split(separator: "\n", omittingEmptySubsequences: true).suffix(lines).joined(separator: "\n")
    }
}
