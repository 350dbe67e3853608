import DoerCore
import DoerProcess
import Foundation

/// The python3 (or `$DOER_PYTHON`) that installs and unpacks the local model.
enum PythonHelper {
    /// Runs it with `arguments`; `showOutput` passes pip's progress through to Doer's stderr.
    /// A python that cannot be run at all is a `ModelError` naming what to install or set.
    static func run(_ arguments: [String], environment: [String: String] = ProcessInfo.processInfo.environment,
                    showOutput: Bool = false) async throws -> ProcessOutput {
        let python = program(in: environment)
        do {
            return try await ProcessRunner(environment: .exactly(environment), showOutput: showOutput).run(python, arguments)
        } catch {
            throw ModelError.localModelUnavailable("cannot run \(python) (\(error)); install python3 or set DOER_PYTHON to a python")
        }
    }

    static func program(in environment: [String: String]) -> String {
        environment["DOER_PYTHON"].flatMap { $0.isEmpty ? nil : $0 } ?? "python3"
    }
}
