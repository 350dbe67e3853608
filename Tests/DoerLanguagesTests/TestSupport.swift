import DoerCore
import DoerLanguages
import DoerSandbox
import Foundation

enum LanguageTestSupport {
    /// Each test process gets its own staging folder for workspace views.
    static let configuration = SandboxConfiguration(
        stagingRoot: URL(fileURLWithPath: "/tmp/doer-languages-staging-\(getpid())", isDirectory: true))

    /// Language caches and sample projects live at stable paths, so a second run of the suite
    /// finds warm caches (a cold SwiftPM or cargo build dominates the suite otherwise).
    static let cache: LanguageCache = {
        let identity = configuration.runIdentity
        return LanguageCache(root: URL(fileURLWithPath: "/tmp/doer-languages-tests/cache", isDirectory: true),
                             owner: identity.switches ? (identity.uid, identity.gid) : nil)
    }()

    static func sandbox() throws -> any Sandbox {
        try SandboxFactory(configuration: configuration).make(.bubblewrap)
    }

    static func runner() throws -> ProjectTestRunner {
        ProjectTestRunner(sandbox: try sandbox(), cache: cache)
    }

    /// A project folder at a stable path named `name`, holding exactly `files`.
    static func project(_ name: String, _ files: [String: String]) throws -> URL {
        let url = URL(fileURLWithPath: "/tmp/doer-languages-tests/projects/\(name)", isDirectory: true)
        try? FileManager.default.removeItem(at: url)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        try SampleFiles.write(files, to: url)
        return url
    }
}
