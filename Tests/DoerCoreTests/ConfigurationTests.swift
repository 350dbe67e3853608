import DoerConfig
import DoerCore
import DoerSandbox
import Foundation
import Testing

@Suite("configuration")
struct ConfigurationTests {
    @Test("config.toml sets the sandbox and limits; the environment overrides it")
    func layering() throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("doer-config-\(UUID())")
        defer { try? FileManager.default.removeItem(at: home) }
        let dirs = DataDirectory(environment: ["DOER_HOME": home.path])
        try FileManager.default.createDirectory(at: dirs.config, withIntermediateDirectories: true)
        try """
        [sandbox]
        backend = "gvisor"
        warm_pool = 3
        runs_per_sandbox = 5

        [limits]
        timeout = 12
        memory = "256m"
        processes = 32
        """.write(to: dirs.configFile, atomically: true, encoding: .utf8)

        let fromFile = try DoerConfiguration.load(directories: dirs, environment: [:])
        #expect(fromFile.sandboxBackend == .gvisor)
        #expect(fromFile.warmPoolSize == 3)
        #expect(fromFile.runsPerSandbox == 5 && fromFile.sandboxConfiguration().runsPerSandbox == 5)
        #expect(DoerConfiguration().sandboxConfiguration().runsPerSandbox == 32, "sandboxes serve several runs by default")
        #expect(fromFile.limits.wallClockSeconds == 12)
        #expect(fromFile.limits.memoryBytes == 256 << 20)
        #expect(fromFile.limits.processes == 32)

        let overridden = try DoerConfiguration.load(
            directories: dirs, environment: ["DOER_SANDBOX_BACKEND": "bubblewrap", "DOER_MEMORY": "1g"])
        #expect(overridden.sandboxBackend == .bubblewrap)
        #expect(overridden.limits.memoryBytes == 1 << 30)
        #expect(overridden.limits.wallClockSeconds == 12)
    }

    @Test("no config file means the defaults")
    func defaults() throws {
        let dirs = DataDirectory(environment: ["DOER_HOME": "/nonexistent/doer-\(UUID())"])
        #expect(try DoerConfiguration.load(directories: dirs, environment: [:]) == DoerConfiguration())
    }

    @Test("mistakes are errors that name the file and the key", arguments: [
        ("[sandbox]\nbackend = \"docker\"", "sandbox.backend"),
        ("[sandbox]\nwarm_pool = 1000", "warm_pool"),
        ("[sandbox]\nruns_per_sandbox = 0", "sandbox.runs_per_sandbox must be a number from 1 to 1000"),
        ("[sandbox]\nruns_per_sandbox = \"many\"", "sandbox.runs_per_sandbox"),
        ("[sandbox]\nbakend = \"gvisor\"", "sandbox.bakend"),
        ("[limits]\nmemory = \"lots\"", "limits.memory"),
        ("[limits]\ntimeout = -3", "timeout"),
        ("[limitz]\n", "limitz"),
        ("[network]\nallow = \"example.org\"\n", "network.allow must be a list"),
        ("[network]\nallow = [1]\n", "network.allow must hold host names"),
        ("[network]\npolicy = \"full\"\n", "unknown key network.policy"),
        ("this is not toml", "config.toml"),
    ])
    func errors(toml: String, mention: String) {
        var configuration = DoerConfiguration()
        do {
            try configuration.apply(toml: toml, source: "/x/config.toml")
            Issue.record("expected an error for \(toml)")
        } catch {
            #expect(error.description.contains(mention), "\(error.description)")
        }
    }

    @Test("a bad environment value is an error, not ignored")
    func badEnvironment() {
        var configuration = DoerConfiguration()
        #expect(throws: DoerError.self) { try configuration.apply(environment: ["DOER_SANDBOX_BACKEND": "vm"]) }
        #expect(throws: DoerError.self) { try configuration.apply(environment: ["DOER_TIMEOUT": "soon"]) }
    }

    @Test("[network] allow and registries are read as host lists")
    func network() throws {
        var configuration = DoerConfiguration()
        try configuration.apply(toml: """
        [network]
        allow = ["example.org", "*.example.net"]
        registries = ["mirror.example.com"]
        """, source: "/x/config.toml")
        #expect(configuration.networkAllow == ["example.org", "*.example.net"])
        #expect(configuration.networkRegistries == ["mirror.example.com"])
    }
}
