import DoerConfig
import DoerCore
import Testing

@Suite("configuration: the per-run disk limit")
struct DiskLimitConfigurationTests {
    @Test("[limits] disk sets it, DOER_DISK overrides it, and the default is 1 GiB")
    func layering() throws {
        var configuration = DoerConfiguration()
        #expect(configuration.limits.diskBytes == 1 << 30)
        try configuration.apply(toml: "[limits]\ndisk = \"64m\"\n", source: "/x/config.toml")
        #expect(configuration.limits.diskBytes == 64 << 20)
        try configuration.apply(toml: "[limits]\ndisk = 8388608\n", source: "/x/config.toml")
        #expect(configuration.limits.diskBytes == 8 << 20)
        try configuration.apply(environment: ["DOER_DISK": "2g"])
        #expect(configuration.limits.diskBytes == 2 << 30)
    }

    @Test("a bad disk size is an error that says what is wrong", arguments: [
        ("[limits]\ndisk = \"lots\"", "limits.disk"),
        ("[limits]\ndisk = \"0\"", "limits.disk"),
        ("[limits]\ndisk = -5", "limits.disk"),
        ("[limits]\ndisk = \"-1g\"", "limits.disk"),
        ("[limits]\ndisk = \"512k\"", "disk limit must be at least 1m"),
        ("[limits]\ndisk = 1000", "disk limit must be at least 1m"),
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

    @Test("a bad DOER_DISK is an error, not ignored")
    func badEnvironment() {
        var configuration = DoerConfiguration()
        #expect(throws: DoerError.self) { try configuration.apply(environment: ["DOER_DISK": "big"]) }
        #expect(throws: DoerError.self) { try configuration.apply(environment: ["DOER_DISK": "100k"]) }
    }
}
