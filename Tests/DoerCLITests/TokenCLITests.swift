import DoerCore
import DoerStore
import Foundation
import Testing

@Suite("doer token")
struct TokenCLITests {
    @Test("create prints a token once, list shows ids and users but no token, revoke stops it")
    func lifecycle() throws {
        let dir = try TempDir()
        let created = try DoerCLI.run(["token", "create", "--user", "ada"], in: dir.url)
        #expect(created.status == 0, "\(created.stderr)")
        let token = created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(token.hasPrefix("doer_") && token.count == 69)
        let listed = try DoerCLI.run(["token", "list"], in: dir.url)
        #expect(listed.stdout.contains("ada"))
        #expect(listed.stdout.contains("active"))
        #expect(!listed.stdout.contains(token))
        let id = try #require(listed.stdout.split(separator: " ").first.map(String.init))

        // DoerCLI gives the command a DOER_HOME beside the folder it runs in.
        let home = dir.url.deletingLastPathComponent().appendingPathComponent(".doer-home").path
        let access = try AccessStore(path: DataDirectory(environment: ["DOER_HOME": home]).accessDatabase)
        #expect(try access.record(forToken: token)?.user == "ada")
        let revoked = try DoerCLI.run(["token", "revoke", id], in: dir.url)
        #expect(revoked.status == 0)
        #expect(try access.record(forToken: token) == nil)
        #expect(try DoerCLI.run(["token", "list"], in: dir.url).stdout.contains("revoked"))

        let unknown = try DoerCLI.run(["token", "revoke", "nope"], in: dir.url)
        #expect(unknown.status != 0)
        #expect(unknown.stderr.contains("doer token list"))
        let badUser = try DoerCLI.run(["token", "create", "--user", "a/b"], in: dir.url)
        #expect(badUser.status != 0)
        #expect(badUser.stderr.contains("user name"))
    }

    @Test("serve refuses a scripted model file it cannot read, with the reason")
    func serveBadScript() throws {
        let dir = try TempDir()
        let result = try DoerCLI.run(["serve", "--port", "0", "--scripted-model", dir.url.appendingPathComponent("missing.json").path], in: dir.url)
        #expect(result.status != 0)
        #expect(result.stderr.contains("scripted model"))
    }
}
