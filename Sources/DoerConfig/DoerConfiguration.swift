public import DoerCore
public import DoerDeploy
public import DoerModels
public import DoerSandbox
public import DoerStore
import Foundation
import TOMLKit

/// The effective configuration: built-in defaults < `config.toml` < environment < flags
/// (flags are applied by the command line on top of what this returns).
public struct DoerConfiguration: Sendable, Equatable {
    public var sandboxBackend: SandboxBackendKind = .bubblewrap
    public var warmPoolSize = 0
    /// `[sandbox] runs_per_sandbox`: runs one sandbox serves, reset between them (1: none reused).
    public var runsPerSandbox = SandboxConfiguration.defaultRunsPerSandbox
    public var unprivilegedUID: UInt32 = 65534
    public var unprivilegedGID: UInt32 = 65534
    public var stagingDirectory: String?
    /// `[sandbox.kubernetes]`: where the `kubernetes` backend starts its pods.
    public var kubernetes = KubernetesSettings()
    public var limits = ResourceLimits()
    public var model = ModelSettings()
    /// `[network] allow`: the hosts of the `allowlist` policy (also added by `--allow`).
    public var networkAllow: [String] = []
    /// `[network] registries`: hosts added to the registries found in this host's own
    /// package client configuration, for the `registries` policy.
    public var networkRegistries: [String] = []
    public var audit = AuditSettings()
    public var deploy = DeploySettings()
    public var telemetry = TelemetrySettings()
    /// `[store]` / `DOER_STORE_URL`, `DOER_STORE_SYNCHRONOUS_COMMIT`: SQLite (the default) or a PostgreSQL URL and its durability.
    public var store = StoreSettings()
    /// The profile applied on top of the file's top-level settings, if any.
    public var profile: String?

    public init() {}

    /// Reads `config.toml` from the data directory (absent is fine) and the environment.
    /// `profile` (or `DOER_PROFILE`) selects a `[profiles.NAME]` table whose settings
    /// override the top-level ones.
    public static func load(
        directories: DataDirectory = DataDirectory(),
        environment: [String: String] = ProcessInfo.processInfo.environment,
        profile: String? = nil
    ) throws(DoerError) -> DoerConfiguration {
        var configuration = DoerConfiguration()
        let file = directories.configFile
        let chosen = profile ?? environment["DOER_PROFILE"]
        if let text = try? String(contentsOf: file, encoding: .utf8) {
            try configuration.apply(toml: text, source: file.path, profile: chosen)
        } else if let chosen {
            throw .configuration("profile '\(chosen)' asked for, but \(file.path) does not exist")
        }
        try configuration.apply(environment: environment)
        return configuration
    }

    /// `[sandbox]`, `[limits]`, `[model]` and `[profiles.NAME]` tables. Unknown keys are
    /// errors, so typos do not pass silently.
    public mutating func apply(toml text: String, source: String, profile: String? = nil) throws(DoerError) {
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch {
            throw .configuration("\(source): \(error)")
        }
        try apply(table: table, source: source, allowProfiles: true)
        if let profile {
            guard let profiles = table["profiles"]?.table, let selected = profiles[profile]?.table else {
                throw .configuration("\(source): no [profiles.\(profile)] table")
            }
            try apply(table: selected, source: "\(source) [profiles.\(profile)]", allowProfiles: false)
            self.profile = profile
        }
        try limits.validate()
    }

    private mutating func apply(table: TOMLTable, source: String, allowProfiles: Bool) throws(DoerError) {
        let known = allowProfiles ? ["sandbox", "limits", "model", "network", "audit", "deploy", "telemetry", "store", "profiles"]
            : ["sandbox", "limits", "model", "network", "audit", "deploy", "telemetry", "store"]
        for key in table.keys where !known.contains(key) {
            throw .configuration("\(source): unknown table or key '\(key)'")
        }
        if let modelTable = table["model"]?.table {
            try applyModel(modelTable, source: source)
        }
        if let auditTable = table["audit"]?.table {
            try applyAudit(auditTable, source: source)
        }
        if let deployTable = table["deploy"]?.table {
            try applyDeploy(deployTable, source: source)
        }
        if let telemetryTable = table["telemetry"]?.table {
            try telemetry.apply(telemetryTable, source: source)
        }
        if let storeTable = table["store"]?.table {
            for (key, value) in storeTable {
                switch key {
                case "url":
                    guard let url = value.string, !url.isEmpty else { throw .configuration("\(source): store.url must be a postgres:// URL") }
                    store.url = url
                    try store.validate(source: source)
                case "synchronous_commit":
                    guard let text = value.string else {
                        throw .configuration("\(source): store.synchronous_commit must be the string \"on\" or \"off\"")
                    }
                    store.synchronousCommit = try StoreSettings.synchronousCommit(text, source: "\(source): store.synchronous_commit")
                default:
                    throw .configuration("\(source): unknown key store.\(key) (known: url, synchronous_commit)")
                }
            }
        }
        if let sandbox = table["sandbox"]?.table {
            for (key, value) in sandbox {
                switch key {
                case "backend":
                    guard let name = value.string, let kind = SandboxBackendKind(rawValue: name) else {
                        throw .configuration("\(source): sandbox.backend must be one of \(SandboxBackendKind.allCases.map(\.rawValue).joined(separator: ", "))")
                    }
                    sandboxBackend = kind
                case "warm_pool":
                    guard let size = value.int, (0...64).contains(size) else {
                        throw .configuration("\(source): sandbox.warm_pool must be a number from 0 to 64")
                    }
                    warmPoolSize = size
                case "runs_per_sandbox":
                    guard let runs = value.int, (1...1000).contains(runs) else {
                        throw .configuration("\(source): sandbox.runs_per_sandbox must be a number from 1 to 1000 (1 starts a sandbox for every run)")
                    }
                    runsPerSandbox = runs
                case "uid", "gid":
                    guard let id = value.int, id > 0, id < Int(UInt32.max) else {
                        throw .configuration("\(source): sandbox.\(key) must be a positive number")
                    }
                    if key == "uid" { unprivilegedUID = UInt32(id) } else { unprivilegedGID = UInt32(id) }
                case "staging_dir":
                    guard let path = value.string, path.hasPrefix("/") else {
                        throw .configuration("\(source): sandbox.staging_dir must be an absolute path")
                    }
                    stagingDirectory = path
                case "kubernetes":
                    guard let kubernetesTable = value.table else {
                        throw .configuration("\(source): sandbox.kubernetes must be a table ([sandbox.kubernetes])")
                    }
                    try applyKubernetes(kubernetesTable, source: source)
                default:
                    throw .configuration("\(source): unknown key sandbox.\(key)")
                }
            }
        }
        if let network = table["network"]?.table {
            for (key, value) in network {
                guard key == "allow" || key == "registries" else {
                    throw .configuration("\(source): unknown key network.\(key) (known: allow, registries)")
                }
                guard let array = value.array else {
                    throw .configuration("\(source): network.\(key) must be a list of host names, e.g. [\"example.org\", \"*.example.org\"]")
                }
                var hosts: [String] = []
                for item in array {
                    guard let host = item.string, !host.trimmingCharacters(in: .whitespaces).isEmpty else {
                        throw .configuration("\(source): network.\(key) must hold host names as strings")
                    }
                    hosts.append(host)
                }
                if key == "allow" { networkAllow = hosts } else { networkRegistries = hosts }
            }
        }
        if let limitsTable = table["limits"]?.table {
            for (key, value) in limitsTable {
                let text = value.string ?? value.int.map(String.init) ?? value.double.map { String($0) }
                guard let text else { throw .configuration("\(source): limits.\(key) must be a number or a size") }
                try setLimit(key, text, source: "\(source): limits.\(key)")
            }
        }
    }

    private mutating func applyModel(_ table: TOMLTable, source: String) throws(DoerError) {
        for (key, value) in table {
            let where_ = "\(source): model.\(key)"
            switch key {
            case "provider":
                guard let name = value.string, let kind = ModelSettings.ProviderKind(rawValue: name) else {
                    throw .configuration("\(where_) must be one of \(ModelSettings.ProviderKind.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                model.provider = kind
            case "name":
                guard let name = value.string, !name.isEmpty else { throw .configuration("\(where_) must be a model name") }
                model.model = name
            case "base_url":
                guard let url = value.string, url.hasPrefix("http://") || url.hasPrefix("https://") else {
                    throw .configuration("\(where_) must be an http:// or https:// URL")
                }
                model.baseURL = url
            case "api_key":
                guard let key = value.string else { throw .configuration("\(where_) must be a string") }
                model.apiKey = key
            case "temperature":
                guard let t = value.double ?? value.int.map(Double.init), (0...2).contains(t) else {
                    throw .configuration("\(where_) must be a number from 0 to 2")
                }
                model.temperature = t
            case "max_tokens":
                guard let n = value.int, n > 0 else { throw .configuration("\(where_) must be a positive number") }
                model.maxTokens = n
            case "timeout":
                guard let t = value.double ?? value.int.map(Double.init), t > 0 else {
                    throw .configuration("\(where_) must be a positive number of seconds")
                }
                model.requestTimeoutSeconds = t
            case "retries":
                guard let n = value.int, (0...10).contains(n) else { throw .configuration("\(where_) must be 0 to 10") }
                model.maxRetries = n
            case "local_size":
                guard let size = value.string, ["0.5b", "1.5b"].contains(size) else {
                    throw .configuration("\(where_) must be \"0.5b\" or \"1.5b\"")
                }
                model.localSize = size
            case "parallel":
                guard let n = value.int, (1...32).contains(n) else { throw .configuration("\(where_) must be 1 to 32") }
                model.localParallel = n
            case "context":
                guard let n = value.int, n >= 512 else { throw .configuration("\(where_) must be at least 512 tokens") }
                model.localContextPerSlot = n
            case "threads":
                guard let n = value.int, n > 0 else { throw .configuration("\(where_) must be positive") }
                model.localThreads = n
            default:
                throw .configuration("\(source): unknown key model.\(key)")
            }
        }
    }

    private mutating func applyKubernetes(_ table: TOMLTable, source: String) throws(DoerError) {
        for (key, value) in table {
            let where_ = "\(source): sandbox.kubernetes.\(key)"
            func text() throws(DoerError) -> String {
                guard let text = value.string, !text.isEmpty else { throw .configuration("\(where_) must be a non-empty string") }
                return text
            }
            func path() throws(DoerError) -> String {
                let path = try text()
                guard path.hasPrefix("/") else { throw .configuration("\(where_) must be an absolute path") }
                return path
            }
            // Namespaces and labels are DNS labels: lower-case letters, digits and '-'.
            func dnsLabel() throws(DoerError) -> String {
                let name = try text()
                guard name.count <= 63, name.first?.isLetter == true, name.last != "-",
                      name.allSatisfy({ ($0.isASCII && ($0.isLowercase || $0.isNumber)) || $0 == "-" }) else {
                    throw .configuration("\(where_) must be a lower-case DNS label (letters, digits, '-'), got '\(name)'")
                }
                return name
            }
            switch key {
            case "api_server":
                let url = try text()
                guard url.hasPrefix("https://") || url.hasPrefix("http://") else {
                    throw .configuration("\(where_) must be an https:// URL")
                }
                kubernetes.apiServer = url
            case "namespace": kubernetes.namespace = try dnsLabel()
            case "runtime_class": kubernetes.runtimeClass = try dnsLabel()
            case "image": kubernetes.image = try text()
            case "token_file": kubernetes.tokenFile = try path()
            case "ca_file": kubernetes.caFile = try path()
            case "runner_port":
                guard let port = value.int, (1...65535).contains(port) else { throw .configuration("\(where_) must be a port, 1 to 65535") }
                kubernetes.runnerPort = port
            case "start_timeout":
                guard let seconds = value.double ?? value.int.map(Double.init), seconds > 0 else {
                    throw .configuration("\(where_) must be a positive number of seconds")
                }
                kubernetes.startTimeoutSeconds = seconds
            case "server_namespace": kubernetes.serverNamespace = try dnsLabel()
            case "server_name": kubernetes.serverName = try dnsLabel()
            case "provisioning":
                let word = try text()
                guard let provisioning = SandboxProvisioning(rawValue: word) else {
                    throw .configuration("\(where_) must be one of \(SandboxProvisioning.allCases.map(\.rawValue).joined(separator: ", ")), got '\(word)'")
                }
                kubernetes.provisioning = provisioning
            case "sandbox_template": kubernetes.sandboxTemplate = try dnsLabel()
            default:
                throw .configuration("\(source): unknown key sandbox.kubernetes.\(key) (known: api_server, namespace, runtime_class, "
                    + "image, token_file, ca_file, runner_port, start_timeout, server_namespace, server_name, provisioning, sandbox_template)")
            }
        }
    }

    private mutating func applyAudit(_ table: TOMLTable, source: String) throws(DoerError) {
        for (key, value) in table {
            let where_ = "\(source): audit.\(key)"
            switch key {
            case "hmac_key_file":
                guard let path = value.string, path.hasPrefix("/") else { throw .configuration("\(where_) must be an absolute path") }
                audit.hmacKeyFile = path
            case "user":
                guard let name = value.string, !name.isEmpty else { throw .configuration("\(where_) must be a name") }
                audit.user = name
            default:
                throw .configuration("\(source): unknown key audit.\(key)")
            }
        }
    }

    private mutating func applyDeploy(_ table: TOMLTable, source: String) throws(DoerError) {
        for (key, value) in table {
            let where_ = "\(source): deploy.\(key)"
            func text() throws(DoerError) -> String {
                guard let text = value.string, !text.isEmpty else { throw .configuration("\(where_) must be a non-empty string") }
                return text
            }
            func seconds() throws(DoerError) -> Double {
                guard let t = value.double ?? value.int.map(Double.init), t > 0 else {
                    throw .configuration("\(where_) must be a positive number of seconds")
                }
                return t
            }
            switch key {
            case "remote": deploy.remote = try text()
            case "protected_branches":
                guard let array = value.array else { throw .configuration("\(where_) must be a list of branch names") }
                var names: [String] = []
                for item in array {
                    guard let name = item.string, !name.isEmpty else { throw .configuration("\(where_) must be a list of branch names") }
                    names.append(name)
                }
                deploy.protectedBranches = names
            case "allow_protected":
                guard let flag = value.bool else { throw .configuration("\(where_) must be true or false") }
                deploy.allowProtected = flag
            case "base_branch": deploy.baseBranch = try text()
            case "github_api_url":
                let url = try text()
                guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
                    throw .configuration("\(where_) must be an http:// or https:// URL")
                }
                deploy.githubAPIURL = url
            case "github_repository":
                let repository = try text()
                guard repository.split(separator: "/").count == 2 else { throw .configuration("\(where_) must look like owner/name") }
                deploy.githubRepository = repository
            case "github_token_env": deploy.githubTokenEnv = try text()
            case "github_workflow": deploy.githubWorkflow = try text()
            case "gitlab_api_url":
                let url = try text()
                guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
                    throw .configuration("\(where_) must be an http:// or https:// URL")
                }
                deploy.gitlabAPIURL = url
            case "gitlab_project": deploy.gitlabProject = try text()
            case "gitlab_token_env": deploy.gitlabTokenEnv = try text()
            case "webhook_url":
                let url = try text()
                guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
                    throw .configuration("\(where_) must be an http:// or https:// URL")
                }
                deploy.webhookURL = url
            case "webhook_secret_env": deploy.webhookSecretEnv = try text()
            case "webhook_secret": deploy.webhookSecret = try text()
            case "approval_timeout": deploy.approvalTimeoutSeconds = try seconds()
            case "ci_wait": deploy.ciWaitSeconds = try seconds()
            default:
                throw .configuration("\(source): unknown key deploy.\(key)")
            }
        }
    }

    /// `DOER_SANDBOX_BACKEND`, `DOER_WARM_POOL`, `DOER_TIMEOUT`, `DOER_MEMORY`, `DOER_MODEL_PROVIDER`,
    /// `DOER_MODEL`, `DOER_STORE_URL`, `DOER_STORE_SYNCHRONOUS_COMMIT`, and the providers' own `OPENAI_BASE_URL`, `OPENAI_API_KEY`, `ANTHROPIC_API_KEY`.
    public mutating func apply(environment: [String: String]) throws(DoerError) {
        if let provider = environment["DOER_MODEL_PROVIDER"] {
            guard let kind = ModelSettings.ProviderKind(rawValue: provider) else {
                throw .configuration("DOER_MODEL_PROVIDER=\(provider) is not one of local, openai, anthropic")
            }
            model.provider = kind
        }
        if let name = environment["DOER_MODEL"], !name.isEmpty { model.model = name }
        switch model.provider {
        case .openai:
            if let url = environment["OPENAI_BASE_URL"], !url.isEmpty { model.baseURL = url }
            if let key = environment["OPENAI_API_KEY"], !key.isEmpty { model.apiKey = key }
        case .anthropic:
            if let url = environment["ANTHROPIC_BASE_URL"], !url.isEmpty { model.baseURL = url }
            if let key = environment["ANTHROPIC_API_KEY"], !key.isEmpty { model.apiKey = key }
        case .local:
            break
        }
        if let backend = environment["DOER_SANDBOX_BACKEND"] {
            guard let kind = SandboxBackendKind(rawValue: backend) else {
                throw .configuration("DOER_SANDBOX_BACKEND=\(backend) is not a backend")
            }
            sandboxBackend = kind
        }
        if let pool = environment["DOER_WARM_POOL"] {
            guard let size = Int(pool), (0...64).contains(size) else {
                throw .configuration("DOER_WARM_POOL must be a number from 0 to 64")
            }
            warmPoolSize = size
        }
        if let key = environment["DOER_AUDIT_KEY"], !key.isEmpty { audit.hmacKey = key }
        if let url = environment["DOER_STORE_URL"], !url.isEmpty {
            store.url = url
            try store.validate(source: "DOER_STORE_URL")
        }
        if let text = environment["DOER_STORE_SYNCHRONOUS_COMMIT"], !text.isEmpty {
            store.synchronousCommit = try StoreSettings.synchronousCommit(text, source: "DOER_STORE_SYNCHRONOUS_COMMIT")
        }
        if let timeout = environment["DOER_TIMEOUT"] { try setLimit("timeout", timeout, source: "DOER_TIMEOUT") }
        if let memory = environment["DOER_MEMORY"] { try setLimit("memory", memory, source: "DOER_MEMORY") }
        if let disk = environment["DOER_DISK"] { try setLimit("disk", disk, source: "DOER_DISK") }
        try limits.validate()
    }

    private mutating func setLimit(_ key: String, _ text: String, source: String) throws(DoerError) {
        func number() throws(DoerError) -> Int {
            guard let value = Int(text) else { throw .configuration("\(source): '\(text)' is not a whole number") }
            return value
        }
        func size() throws(DoerError) -> Int64 {
            do {
                return try ByteSize.parse(text)
            } catch {
                throw .configuration("\(source): '\(text)' is not a size; write it like 512m, 2g or 65536")
            }
        }
        switch key {
        case "timeout":
            guard let seconds = Double(text) else { throw .configuration("\(source): '\(text)' is not a number of seconds") }
            limits.wallClockSeconds = seconds
        case "cpu": limits.cpuSeconds = try number()
        case "memory": limits.memoryBytes = try size()
        case "processes": limits.processes = try number()
        case "open_files": limits.openFiles = try number()
        case "file_size": limits.fileSizeBytes = try size()
        case "disk": limits.diskBytes = try size()
        case "tmp_size": limits.tmpSizeBytes = try size()
        case "output": limits.outputBytes = Int(try size())
        default: throw .configuration("\(source): unknown limit")
        }
    }
}
