import ArgumentParser
import DoerConfig
import DoerCore
import DoerDeploy
import DoerModels
import DoerStore
import Foundation

struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Show Doer's effective configuration.",
        subcommands: [Show.self],
        defaultSubcommand: Show.self
    )
}

extension ConfigCommand {
    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show",
            abstract: "Print the effective configuration (defaults < config.toml < environment), secrets masked."
        )

        @Option(help: "Apply the [profiles.NAME] table of config.toml.") var profile: String?

        func run() async throws {
            let directories = DataDirectory()
            let configuration: DoerConfiguration
            do {
                configuration = try DoerConfiguration.load(directories: directories, profile: profile)
            } catch {
                fail(error)
            }
            print(Self.render(configuration, directories: directories))
        }

        /// TOML that could be pasted back into config.toml, with the API key masked.
        static func render(_ configuration: DoerConfiguration, directories: DataDirectory) -> String {
            let model = configuration.model.masked
            let limits = configuration.limits
            let deploy = configuration.deploy
            func quoted(_ s: String?) -> String { s.map { "\"\($0)\"" } ?? "(unset)" }
            func optional<T>(_ v: T?) -> String { v.map { "\($0)" } ?? "(none)" }
            var lines = [
                "# config file: \(directories.configFile.path)" + (FileManager.default.fileExists(atPath: directories.configFile.path) ? "" : " (absent)"),
                "# data: \(directories.data.path)",
            ]
            if let profile = configuration.profile { lines.append("# profile: \(profile)") }
            lines += [
                "", "[sandbox]",
                "backend = \(quoted(configuration.sandboxBackend.rawValue))",
                "warm_pool = \(configuration.warmPoolSize)",
                "runs_per_sandbox = \(configuration.runsPerSandbox)",
                "uid = \(configuration.unprivilegedUID)",
                "gid = \(configuration.unprivilegedGID)",
                "staging_dir = \(quoted(configuration.stagingDirectory))",
                "", "[limits]",
                "timeout = \(limits.wallClockSeconds)",
                "cpu = \(optional(limits.cpuSeconds))",
                "memory = \(quoted(limits.memoryBytes.map(ByteSize.format)))",
                "processes = \(optional(limits.processes))",
                "open_files = \(optional(limits.openFiles))",
                "file_size = \(quoted(limits.fileSizeBytes.map(ByteSize.format)))",
                "disk = \(quoted(limits.diskBytes.map(ByteSize.format)))",
                "tmp_size = \(quoted(ByteSize.format(limits.tmpSizeBytes)))",
                "output = \(quoted(ByteSize.format(Int64(limits.outputBytes))))",
                "", "[model]",
                "provider = \(quoted(model.provider.rawValue))",
                "name = \(quoted(model.model))",
                "base_url = \(quoted(model.baseURL))",
                "api_key = \(quoted(model.apiKey))",
                "temperature = \(optional(model.temperature))",
                "max_tokens = \(optional(model.maxTokens))",
                "timeout = \(model.requestTimeoutSeconds)",
                "retries = \(model.maxRetries)",
                "local_size = \(quoted(model.localSize))",
                "parallel = \(model.localParallel)",
                "context = \(model.localContextPerSlot)",
                "threads = \(optional(model.localThreads))",
                "", "[audit]",
                "hmac_key_file = \(quoted(configuration.audit.hmacKeyFile))" + (configuration.audit.hmacKey != nil ? "  # DOER_AUDIT_KEY is set and used instead" : ""),
                "user = \(quoted(configuration.audit.user))",
                "", "[deploy]",
                "remote = \(quoted(deploy.remote))",
                "protected_branches = [\(deploy.protectedBranches.map { "\"\($0)\"" }.joined(separator: ", "))]",
                "allow_protected = \(deploy.allowProtected)",
                "base_branch = \(quoted(deploy.baseBranch))",
                "github_api_url = \(quoted(deploy.githubAPIURL))",
                "github_repository = \(quoted(deploy.githubRepository))",
                "github_token_env = \(quoted(deploy.githubTokenEnv))",
                "github_workflow = \(quoted(deploy.githubWorkflow))",
                "gitlab_api_url = \(quoted(deploy.gitlabAPIURL))",
                "gitlab_project = \(quoted(deploy.gitlabProject))",
                "gitlab_token_env = \(quoted(deploy.gitlabTokenEnv))",
                "webhook_url = \(quoted(deploy.webhookURL))",
                "webhook_secret_env = \(quoted(deploy.webhookSecretEnv))",
                "webhook_secret = \(quoted(deploy.webhookSecret.map { _ in "********" }))",
                "approval_timeout = \(deploy.approvalTimeoutSeconds)",
                "ci_wait = \(deploy.ciWaitSeconds)",
            ]
            return lines.joined(separator: "\n")
        }
    }
}
