import Foundation
import Subprocess

/// Runs a program to completion with its output captured. Built on swift-subprocess, whose
/// spawn does not share Foundation `Process`'s descriptor handling (which races with the
/// sandbox's own spawning when both run in one process).
public struct CommandRunner: Sendable {
    public struct Output: Sendable {
        public var status: Int32
        /// Set when the program was killed by a signal.
        public var signal: Int32?
        public var stdout: String
        public var stderr: String
        public var succeeded: Bool { status == 0 && signal == nil }

        public var statusDescription: String {
            signal.map { "killed by signal \($0)" } ?? "exit code \(status)"
        }

        /// The last lines of stderr (or stdout when stderr is empty), for error messages.
        public func tail(lines: Int = 8) -> String {
            let text = stderr.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? stdout : stderr
            return text.split(separator: "\n", omittingEmptySubsequences: true).suffix(lines).joined(separator: "\n")
        }
    }

    /// Extra environment on top of the inherited one.
    public var environment: [String: String]
    /// Inherited variables the program must not see.
    public var unset: Set<String>
    public var outputLimit: Int

    public init(environment: [String: String] = [:], unset: Set<String> = [], outputLimit: Int = 8 << 20) {
        self.environment = environment
        self.unset = unset
        self.outputLimit = outputLimit
    }

    /// Runs `program` (looked up in PATH) with `arguments`.
    public func run(_ program: String, _ arguments: [String]) async throws -> Output {
        var updates: [Environment.Key: String?] = [:]
        for name in unset { updates[Environment.Key(stringLiteral: name)] = .some(nil) }
        for (name, value) in environment { updates[Environment.Key(stringLiteral: name)] = value }
        let result = try await Subprocess.run(
            .name(program), arguments: Arguments(arguments), environment: .inherit.updating(updates),
            input: .none, output: .string(limit: outputLimit), error: .string(limit: outputLimit))
        var status: Int32 = 0
        var signal: Int32?
        switch result.terminationStatus {
        case .exited(let code): status = Int32(code)
        case .signaled(let number):
            status = 128 + Int32(number)
            signal = Int32(number)
        }
        return Output(status: status, signal: signal, stdout: result.standardOutput, stderr: result.standardError)
    }
}
