import DoerConfig
import DoerCore
import DoerStore
import Foundation
import Testing

@Suite("store configuration")
struct StoreConfigurationTests {
    @Test("[store] synchronous_commit is on unless set off, in config.toml or DOER_STORE_SYNCHRONOUS_COMMIT")
    func synchronousCommit() throws {
        var configuration = DoerConfiguration()
        #expect(configuration.store.synchronousCommit)
        try configuration.apply(toml: "[store]\nurl = \"postgres://doer@/doer\"\nsynchronous_commit = \"off\"\n", source: "/x/config.toml")
        #expect(configuration.store.url == "postgres://doer@/doer")
        #expect(!configuration.store.synchronousCommit)
        try configuration.apply(environment: ["DOER_STORE_SYNCHRONOUS_COMMIT": "on"])
        #expect(configuration.store.synchronousCommit)
        try configuration.apply(environment: ["DOER_STORE_SYNCHRONOUS_COMMIT": "off"])
        #expect(!configuration.store.synchronousCommit)
        try configuration.apply(toml: "[store]\nsynchronous_commit = \"on\"\n", source: "/x/config.toml")
        #expect(configuration.store.synchronousCommit)
    }

    @Test("a bad synchronous_commit is an error that names the setting and the values it takes", arguments: [
        "[store]\nsynchronous_commit = \"maybe\"\n", "[store]\nsynchronous_commit = false\n", "[store]\nsynchronous_commit = \"OFF\"\n",
    ])
    func badValue(toml: String) {
        var configuration = DoerConfiguration()
        do {
            try configuration.apply(toml: toml, source: "/x/config.toml")
            Issue.record("expected an error for \(toml)")
        } catch {
            #expect(error.description.contains("/x/config.toml: store.synchronous_commit"), "\(error.description)")
            #expect(error.description.contains("\"on\"") && error.description.contains("\"off\""), "\(error.description)")
        }
    }

    @Test("a bad DOER_STORE_SYNCHRONOUS_COMMIT names the variable; an unknown [store] key lists the known ones")
    func badEnvironmentAndKey() {
        var configuration = DoerConfiguration()
        #expect {
            try configuration.apply(environment: ["DOER_STORE_SYNCHRONOUS_COMMIT": "fast"])
        } throws: { error in
            "\(error)".contains("DOER_STORE_SYNCHRONOUS_COMMIT") && "\(error)".contains("\"fast\"")
        }
        #expect {
            try configuration.apply(toml: "[store]\nsynchronous = \"off\"\n", source: "/x/config.toml")
        } throws: { error in
            "\(error)".contains("store.synchronous") && "\(error)".contains("synchronous_commit")
        }
    }
}
