import Foundation

/// A program built and installed beside the `doer` executable (`doer-sandbox-init`,
/// `doer-mcp`), found the same way wherever doer runs from: a path given in the
/// configuration, then an environment variable, then beside the running executable (through
/// symbolic links: /proc/self/exe is the real file) and one folder up, where test bundles
/// run on some toolchains.
public enum CompanionExecutable {
    /// The paths looked at for `name`, in order.
    public static func candidates(_ name: String, configured: String? = nil, environmentVariable: String) -> [String] {
        var candidates: [String] = []
        if let configured { candidates.append(configured) }
        if let fromEnvironment = ProcessInfo.processInfo.environment[environmentVariable] { candidates.append(fromEnvironment) }
        if let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            let folder = URL(fileURLWithPath: executable).deletingLastPathComponent()
            candidates.append(folder.appendingPathComponent(name).path)
            candidates.append(folder.deletingLastPathComponent().appendingPathComponent(name).path)
        }
        return candidates
    }

    /// The first candidate that is an executable file, or nil.
    public static func locate(_ name: String, configured: String? = nil, environmentVariable: String) -> String? {
        candidates(name, configured: configured, environmentVariable: environmentVariable).first { access($0, X_OK) == 0 }
    }
}
