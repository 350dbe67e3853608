/// Why a program could not be run at all. A program that ran and failed is not an error:
/// its `ProcessOutput` says how it ended.
public enum ProcessError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No executable of that name in the PATH the program would have had, or no such file.
    case notFound(program: String, searched: String)
    /// It exists but could not be started (permissions, a bad interpreter line, no memory).
    case couldNotStart(program: String, reason: String)
    /// It started, but reading its output or waiting for it failed.
    case failed(program: String, reason: String)

    public var description: String {
        switch self {
        case .notFound(let program, let searched):
            program.contains("/") ? "\(program): no such executable file"
                : "\(program): not found in PATH (\(searched.isEmpty ? "PATH is empty" : searched))"
        case .couldNotStart(let program, let reason): "\(program) could not be started: \(reason)"
        case .failed(let program, let reason): "running \(program) failed: \(reason)"
        }
    }
}
