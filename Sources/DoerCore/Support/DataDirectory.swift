import Foundation

/// Where all of Doer's own state lives: `$DOER_HOME` when set (one folder for
/// everything, which is how tests isolate themselves), the XDG locations otherwise.
public struct DataDirectory: Sendable, Hashable {
    public var config: URL
    public var data: URL
    public var cache: URL
    public var runtime: URL

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        if let home = environment["DOER_HOME"], !home.isEmpty {
            let root = URL(fileURLWithPath: home, isDirectory: true)
            config = root.appendingPathComponent("config", isDirectory: true)
            data = root.appendingPathComponent("data", isDirectory: true)
            cache = root.appendingPathComponent("cache", isDirectory: true)
            runtime = root.appendingPathComponent("run", isDirectory: true)
            return
        }
        let userHome = environment["HOME"].map { URL(fileURLWithPath: $0, isDirectory: true) }
            ?? FileManager.default.homeDirectoryForCurrentUser
        func xdg(_ key: String, _ fallback: String) -> URL {
            if let value = environment[key], value.hasPrefix("/") {
                return URL(fileURLWithPath: value, isDirectory: true).appendingPathComponent("doer", isDirectory: true)
            }
            return userHome.appendingPathComponent(fallback, isDirectory: true).appendingPathComponent("doer", isDirectory: true)
        }
        config = xdg("XDG_CONFIG_HOME", ".config")
        data = xdg("XDG_DATA_HOME", ".local/share")
        cache = xdg("XDG_CACHE_HOME", ".cache")
        if let runtimeDir = environment["XDG_RUNTIME_DIR"], runtimeDir.hasPrefix("/") {
            runtime = URL(fileURLWithPath: runtimeDir, isDirectory: true).appendingPathComponent("doer", isDirectory: true)
        } else {
            runtime = cache.appendingPathComponent("run", isDirectory: true)
        }
    }

    public var configFile: URL { config.appendingPathComponent("config.toml") }
    /// Sessions, their events and the audit trail.
    public var sessionDatabase: URL { data.appendingPathComponent("doer.sqlite") }
}
