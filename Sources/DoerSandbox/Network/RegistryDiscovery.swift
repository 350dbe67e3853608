import DoerCore
import Foundation

/// Finds the package registries this host's own package clients are configured to use,
/// from their configuration files and environment, each time a run asks for them — so
/// the `registries` policy follows the machine's configuration and no registry is named
/// in Doer itself.
///
/// - pip: `index-url`, `extra-index-url` and `find-links` (URLs only) from the files pip
///   reads (PIP_CONFIG_FILE, the XDG and /etc system files, the user files) and from
///   PIP_INDEX_URL / PIP_EXTRA_INDEX_URL / PIP_FIND_LINKS; without an index-url, pip's own
///   built-in default index and its file host, read from the pip the sandbox runs.
/// - apt: the http(s) URIs of /etc/apt/sources.list, sources.list.d/*.list and the deb822
///   sources.list.d/*.sources (entries with `Enabled: no` skipped).
public struct RegistryDiscovery: Sendable {
    /// A registry host and where it was found (for `doer sandbox registries` and logs).
    public struct Registry: Sendable, Hashable {
        public var host: String
        public var source: String
    }

    public struct Result: Sendable, Hashable {
        public var registries: [Registry]
        /// What pip inside the sandbox must be told so it uses the same indexes as the host.
        public var pipEnvironment: [String: String]

        public var hosts: [String] {
            var seen = Set<String>()
            return registries.map(\.host).filter { seen.insert($0).inserted }
        }
    }

    /// Prefixed to every absolute path read, so tests can describe a whole machine in a folder.
    public var root: String
    public var environment: [String: String]
    public var home: String?

    public init(root: String = "", environment: [String: String] = ProcessInfo.processInfo.environment,
                home: String? = nil) {
        self.root = root
        self.environment = environment
        self.home = home ?? environment["HOME"]
    }

    public func discover() -> Result {
        var registries: [Registry] = []
        var pip: [String: String] = [:]
        let settings = pipSettings()
        if let index = settings.indexURL {
            pip["PIP_INDEX_URL"] = index.value
            if let host = Self.host(of: index.value) { registries.append(Registry(host: host, source: index.source)) }
        } else if let builtIn = pipBuiltInIndex() {
            for host in builtIn.hosts { registries.append(Registry(host: host, source: builtIn.source)) }
        }
        if !settings.extraIndexURLs.isEmpty {
            pip["PIP_EXTRA_INDEX_URL"] = settings.extraIndexURLs.map(\.value).joined(separator: " ")
        }
        for url in settings.extraIndexURLs {
            if let host = Self.host(of: url.value) { registries.append(Registry(host: host, source: url.source)) }
        }
        let remoteLinks = settings.findLinks.filter { Self.host(of: $0.value) != nil }
        if !remoteLinks.isEmpty { pip["PIP_FIND_LINKS"] = remoteLinks.map(\.value).joined(separator: " ") }
        for link in remoteLinks { registries.append(Registry(host: Self.host(of: link.value)!, source: link.source)) }
        registries += aptRegistries()
        return Result(registries: registries, pipEnvironment: pip)
    }

    // MARK: pip

    struct Setting { var value: String; var source: String }

    struct PipSettings {
        var indexURL: Setting?
        var extraIndexURLs: [Setting] = []
        var findLinks: [Setting] = []
    }

    /// Later files override earlier ones key by key, and the environment overrides files,
    /// as pip itself does.
    func pipSettings() -> PipSettings {
        var settings = PipSettings()
        for file in pipConfigFiles() {
            guard let text = read(file) else { continue }
            let values = Self.parsePipConfig(text)
            if let index = values["index-url"]?.first { settings.indexURL = Setting(value: index, source: file) }
            if let extra = values["extra-index-url"] { settings.extraIndexURLs = extra.map { Setting(value: $0, source: file) } }
            if let links = values["find-links"] { settings.findLinks = links.map { Setting(value: $0, source: file) } }
        }
        if let index = environment["PIP_INDEX_URL"], !index.isEmpty {
            settings.indexURL = Setting(value: index, source: "PIP_INDEX_URL")
        }
        if let extra = environment["PIP_EXTRA_INDEX_URL"] {
            settings.extraIndexURLs = Self.words(extra).map { Setting(value: $0, source: "PIP_EXTRA_INDEX_URL") }
        }
        if let links = environment["PIP_FIND_LINKS"] {
            settings.findLinks = Self.words(links).map { Setting(value: $0, source: "PIP_FIND_LINKS") }
        }
        return settings
    }

    /// The files pip reads, in the order it reads them.
    func pipConfigFiles() -> [String] {
        if let file = environment["PIP_CONFIG_FILE"], file == "/dev/null" || file == "os.devnull" {
            return []
        }
        var files: [String] = []
        let xdgDirs = (environment["XDG_CONFIG_DIRS"].flatMap { $0.isEmpty ? nil : $0 } ?? "/etc/xdg")
            .split(separator: ":").map(String.init)
        files += xdgDirs.map { $0 + "/pip/pip.conf" }
        files.append("/etc/pip.conf")
        if let home {
            files.append(home + "/.pip/pip.conf")
            let configHome = environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? home + "/.config"
            files.append(configHome + "/pip/pip.conf")
        }
        if let file = environment["PIP_CONFIG_FILE"], !file.isEmpty { files.append(file) }
        return files
    }

    /// The `[global]`, `[install]` and `[download]` keys of a pip.conf (INI with
    /// continuation lines); each value split on whitespace.
    static func parsePipConfig(_ text: String) -> [String: [String]] {
        var values: [String: [String]] = [:]
        var section = ""
        var currentKey: String?
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = String(raw)
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") || trimmed.hasPrefix(";") { continue }
            if trimmed.hasPrefix("[") && trimmed.hasSuffix("]") {
                section = String(trimmed.dropFirst().dropLast()).lowercased()
                currentKey = nil
                continue
            }
            let relevant = ["global", "install", "download"].contains(section)
            if line.first == " " || line.first == "\t", let key = currentKey {
                if relevant { values[key, default: []] += words(trimmed) }
                continue
            }
            guard let separator = trimmed.firstIndex(where: { $0 == "=" || $0 == ":" }) else { continue }
            let key = trimmed[..<separator].trimmingCharacters(in: .whitespaces).lowercased().replacingOccurrences(of: "_", with: "-")
            let value = trimmed[trimmed.index(after: separator)...].trimmingCharacters(in: .whitespaces)
            currentKey = key
            if relevant { values[key] = words(value) }
        }
        return values
    }

    /// pip's built-in default index, from the pip the sandbox runs (its `PyPI =
    /// PackageIndex("URL", file_storage_domain="HOST")` line): the index and the host
    /// its files are served from.
    func pipBuiltInIndex() -> (hosts: [String], source: String)? {
        for file in pipModelFiles() {
            guard let text = read(file) else { continue }
            let pattern = #"PyPI\s*=\s*PackageIndex\(\s*["']([^"']+)["']\s*,\s*file_storage_domain\s*=\s*["']([^"']+)["']"#
            guard let regex = try? NSRegularExpression(pattern: pattern),
                  let match = regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)),
                  let urlRange = Range(match.range(at: 1), in: text), let fileRange = Range(match.range(at: 2), in: text),
                  let indexHost = Self.host(of: String(text[urlRange]))
            else { continue }
            let fileHost = String(text[fileRange]).lowercased()
            return ([indexHost] + (HostPattern.isValidName(fileHost) ? [fileHost] : []), file + " (pip's default index)")
        }
        return nil
    }

    /// Where the sandbox's python3 keeps pip: Debian's dist-packages, then /usr/local.
    func pipModelFiles() -> [String] {
        var files = ["/usr/lib/python3/dist-packages/pip/_internal/models/index.py"]
        for base in ["/usr/local/lib", "/usr/lib"] {
            let versions = (try? FileManager.default.contentsOfDirectory(atPath: root + base))?
                .filter { $0.hasPrefix("python3") }.sorted() ?? []
            for version in versions {
                for site in ["dist-packages", "site-packages"] {
                    files.append("\(base)/\(version)/\(site)/pip/_internal/models/index.py")
                }
            }
        }
        return files
    }

    // MARK: apt

    func aptRegistries() -> [Registry] {
        var found: [Registry] = []
        let listDir = "/etc/apt/sources.list.d"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root + listDir))?.sorted() ?? []
        let oneLineFiles = ["/etc/apt/sources.list"] + names.filter { $0.hasSuffix(".list") }.map { listDir + "/" + $0 }
        for file in oneLineFiles {
            guard let text = read(file) else { continue }
            for uri in Self.parseOneLineSources(text) {
                if let host = Self.host(of: uri) { found.append(Registry(host: host, source: file)) }
            }
        }
        for file in names.filter({ $0.hasSuffix(".sources") }).map({ listDir + "/" + $0 }) {
            guard let text = read(file) else { continue }
            for uri in Self.parseDeb822Sources(text) {
                if let host = Self.host(of: uri) { found.append(Registry(host: host, source: file)) }
            }
        }
        return found
    }

    /// `deb [options] URI suite components` lines; `deb-src` too.
    static func parseOneLineSources(_ text: String) -> [String] {
        var uris: [String] = []
        for raw in text.split(separator: "\n") {
            var line = raw.trimmingCharacters(in: .whitespaces)
            if let hash = line.firstIndex(of: "#") { line = String(line[..<hash]) }
            var fields = words(line)
            guard let type = fields.first, type == "deb" || type == "deb-src" else { continue }
            fields.removeFirst()
            if fields.first?.hasPrefix("[") == true {
                while let field = fields.first {
                    fields.removeFirst()
                    if field.hasSuffix("]") { break }
                }
            }
            if let uri = fields.first { uris.append(uri) }
        }
        return uris
    }

    /// deb822 stanzas: the `URIs:` field of each stanza not marked `Enabled: no`.
    static func parseDeb822Sources(_ text: String) -> [String] {
        var uris: [String] = []
        for stanza in text.components(separatedBy: "\n\n") {
            var stanzaURIs: [String] = []
            var enabled = true
            var lastKey = ""
            for raw in stanza.split(separator: "\n") {
                let line = String(raw)
                if line.hasPrefix("#") { continue }
                if line.first == " " || line.first == "\t" {
                    if lastKey == "uris" { stanzaURIs += words(line) }
                    continue
                }
                guard let colon = line.firstIndex(of: ":") else { continue }
                lastKey = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
                let value = String(line[line.index(after: colon)...])
                if lastKey == "uris" { stanzaURIs += words(value) }
                if lastKey == "enabled" { enabled = value.trimmingCharacters(in: .whitespaces).lowercased() != "no" }
            }
            if enabled { uris += stanzaURIs }
        }
        return uris
    }

    // MARK: helpers

    /// The host of an http(s) URL, lowercased; nil for anything else (local paths, file:).
    static func host(of url: String) -> String? {
        guard let components = URLComponents(string: url),
              let scheme = components.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = components.host, !host.isEmpty
        else { return nil }
        return HostPattern.normalize(host)
    }

    static func words(_ text: String) -> [String] {
        text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).map(String.init)
    }

    private func read(_ path: String) -> String? {
        try? String(contentsOfFile: root + path, encoding: .utf8)
    }
}
