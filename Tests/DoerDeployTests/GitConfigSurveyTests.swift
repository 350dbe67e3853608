@testable import DoerDeploy
import DoerProcess
import Foundation
import Testing

@Suite("Reading a repository's git configuration and neutralising its programs")
struct GitConfigSurveyTests {
    @Test("`git config --list -z` is split into keys, values and scopes, whatever the subsection holds")
    func parsing() {
        let output = "local\0filter.Odd=Name.x.clean\nprog --a=b\0local\0core.bare\0global\0user.name\ntwo\nlines\0"
        let entries = GitConfigEntry.parse(output, withScope: true)
        #expect(entries.count == 3)
        #expect(entries[0].section == "filter" && entries[0].subsection == "Odd=Name.x" && entries[0].variable == "clean")
        #expect(entries[0].value == "prog --a=b" && entries[0].origin == "local")
        #expect(entries[1].key == "core.bare" && entries[1].value == nil && entries[1].subsection == nil)
        #expect(entries[2].value == "two\nlines" && entries[2].origin == "global")
        let plain = GitConfigEntry.parse("core.pager\nless\0", withScope: false, origin: "/x/config")
        #expect(plain.map(\.key) == ["core.pager"] && plain[0].origin == "/x/config")
    }

    @Test("each program key has a policy; keys that name no program have none")
    func policies() {
        func policy(_ key: String, _ value: String? = "x") -> GitProgramSettings.Policy? {
            GitProgramSettings.policy(for: GitConfigEntry(key: key, value: value, origin: "local"))
        }
        for key in ["core.fsmonitor", "core.hookspath", "core.pager", "core.editor", "core.askpass", "core.sshcommand",
                    "sequence.editor", "diff.external", "diff.Trap.command", "diff.trap.textconv", "merge.m.driver",
                    "filter.a=b.clean", "filter.x.smudge", "filter.x.process", "gpg.ssh.defaultkeycommand",
                    "trailer.t.command", "lfs.customtransfer.t.path", "lfs.extension.e.clean", "pager.status",
                    "interactive.difffilter", "http.https://example.com/.cookiefile", "core.alternaterefscommand"] {
            guard case .host? = policy(key) else { Issue.record("\(key) has no policy"); continue }
        }
        #expect(policy("credential.https://example.com.helper") == .host(neutral: "", resetKey: "credential.helper"))
        #expect(policy("credential.helper") == .host(neutral: "", resetKey: "credential.helper"))
        #expect(policy("gpg.x509.program") == .host(neutral: "gpgsm", resetKey: nil))
        #expect(policy("commit.gpgsign") == .host(neutral: "false", resetKey: nil))
        #expect(policy("http.savecookies") == .host(neutral: "false", resetKey: nil))
        for key in ["remote.origin.uploadpack", "remote.a.b.receivepack"] {
            guard case .refuse? = policy(key) else { Issue.record("\(key) is not refused"); continue }
        }
        guard case .refuse? = policy("remote.origin.vcs", "../../x") else { Issue.record("a helper path is not refused"); return }
        #expect(policy("remote.origin.vcs", "hg") == nil)
        for key in ["core.bare", "user.email", "remote.origin.url", "lfs.url", "diff.renames", "filter.x.other", "include.path"] {
            #expect(policy(key) == nil, "\(key)")
        }
    }

    @Test("overrides reset what the repository sets, repeat the host's own values in order, and end with the fixed settings")
    func overrideOrder() {
        let survey = GitConfigSurvey(
            repository: [GitConfigEntry(key: "filter.lfs.clean", value: "evil", origin: "local"),
                         GitConfigEntry(key: "credential.https://x.helper", value: "!evil", origin: "local"),
                         GitConfigEntry(key: "user.name", value: "Someone", origin: "local")],
            host: [GitConfigEntry(key: "credential.helper", value: "cache", origin: "system"),
                   GitConfigEntry(key: "filter.lfs.clean", value: "git-lfs clean -- %f", origin: "global"),
                   GitConfigEntry(key: "credential.https://y.helper", value: "store", origin: "global"),
                   GitConfigEntry(key: "core.pager", value: "less", origin: "global")])
        let overrides = survey.overrides(fixed: GitProgramSettings.fixed(sshCommand: "ssh"))
        let head = overrides.prefix(5).map { "\($0.key)=\($0.value)" }
        #expect(head == ["filter.lfs.clean=", "credential.helper=", "credential.helper=cache", "filter.lfs.clean=git-lfs clean -- %f",
                         "credential.https://y.helper=store"])
        #expect(!overrides.contains { $0.key == "user.name" }, "settings that name no program are left alone")
        #expect(overrides.last { $0.key == "core.pager" }?.value == "cat", "the fixed settings come last and win")
        #expect(overrides.contains { $0.key == "core.hooksPath" && $0.value == "/dev/null" })
        #expect(survey.refusal == nil)
    }

    @Test("git itself, reading the overrides, sees the host's credential helpers and filters, not the repository's")
    func effectiveValues() async throws {
        let scratch = try Scratch()
        let global = scratch.path("global.config")
        try Data("[credential]\n\thelper = store --file=/nonexistent\n[filter \"lfs\"]\n\tclean = git-lfs clean -- %f\n".utf8).write(to: global)
        try sh("git init -q repo && git -C repo config credential.helper '!evil' && git -C repo config filter.lfs.clean evil "
            + "&& git -C repo config filter.mine.smudge evil && git -C repo config core.fsmonitor evil", in: scratch.url)
        let git = scratch.path("repo/.git").path
        var host = GitCommand.runner(overrides: [])
        host.environment = host.environment.setting("GIT_CONFIG_GLOBAL", to: global.path)
        let survey = try await GitConfigSurvey.read(gitDirectory: git, commonDirectory: git, runner: host)
        var hardened = GitCommand.runner(overrides: survey.overrides(fixed: GitProgramSettings.fixed(sshCommand: "ssh")))
        hardened.environment = hardened.environment.setting("GIT_CONFIG_GLOBAL", to: global.path)
        func all(_ key: String) async throws -> [String] {
            let output = try await hardened.run("git", ["--git-dir=\(git)", "config", "--get-all", key])
            return output.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).dropLast()
        }
        // A helper list restarts at each empty value: what follows the last one is in force.
        let helpers = try await all("credential.helper")
        #expect(Array(helpers.split(separator: "", omittingEmptySubsequences: false).last ?? []) == ["store --file=/nonexistent"])
        #expect(try await all("filter.lfs.clean").last == "git-lfs clean -- %f")
        #expect(try await all("filter.mine.smudge").last == "")
        #expect(try await all("core.fsmonitor").last == "false")
    }

    @Test("for every program key a repository can set, git reading the overrides no longer sees the repository's program")
    func everyProgramKeyNeutralised() async throws {
        let keys = ["core.pager", "core.editor", "sequence.editor", "core.askPass", "core.sshCommand", "core.alternateRefsCommand",
                    "core.fsmonitor", "core.hooksPath", "diff.external", "diff.Trap.command", "diff.trap.textconv", "merge.trap.driver",
                    "filter.trap.clean", "filter.trap.smudge", "filter.trap.process", "filter.a=b.clean", "gpg.program",
                    "gpg.openpgp.program", "gpg.ssh.program", "gpg.x509.program", "gpg.ssh.defaultKeyCommand", "pager.log",
                    "interactive.diffFilter", "difftool.t.cmd", "mergetool.t.cmd", "mergetool.t.path", "guitool.t.cmd",
                    "browser.t.cmd", "man.t.cmd", "web.browser", "imap.tunnel", "trailer.t.command", "trailer.t.cmd",
                    "lfs.customtransfer.t.path", "lfs.standalonetransferagent", "lfs.extension.t.clean", "submodule.s.update",
                    "http.cookieFile", "hook.mine.command"]
        let scratch = try Scratch()
        try sh("git init -q repo", in: scratch.url)
        var text = ""
        for key in keys {
            let parts = key.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            let header = parts.count == 2 ? "[\(parts[0])]" : "[\(parts[0]) \"\(parts[1..<(parts.count - 1)].joined(separator: "."))\"]"
            text += "\(header)\n\t\(parts.last!) = !evil-\(key)\n"
        }
        text += "[http \"https://h/\"]\n\tcookieFile = /evil\n\tsaveCookies = true\n[commit]\n\tgpgSign = true\n"
        let config = scratch.path("repo/.git/config")
        try Data(((try String(contentsOf: config, encoding: .utf8)) + text).utf8).write(to: config)
        let git = scratch.path("repo/.git").path
        let survey = try await GitConfigSurvey.read(gitDirectory: git, commonDirectory: git, runner: GitCommand.runner(overrides: []))
        let hardened = GitCommand.runner(overrides: survey.overrides(fixed: GitProgramSettings.fixed(sshCommand: "ssh")))
        for key in keys {
            let value = try await hardened.run("git", ["--git-dir=\(git)", "config", "--get-all", key]).stdout
                .split(separator: "\n", omittingEmptySubsequences: false).dropLast().last.map(String.init)
            #expect(value?.hasPrefix("!evil") == false, "\(key) is still \(value ?? "unset")")
        }
        for (key, url) in [("http.cookiefile", "https://h/x"), ("http.savecookies", "https://h/x")] {
            let value = try await hardened.run("git", ["--git-dir=\(git)", "config", "--get-urlmatch", key, url]).stdout
            #expect(value != "/evil\n" && value != "true\n", "\(key) for \(url) is \(value)")
        }
        let signing = try await hardened.run("git", ["--git-dir=\(git)", "config", "--bool", "commit.gpgSign"]).stdout
        #expect(signing == "false\n")
    }

    @Test("include paths resolve the way git resolves them")
    func includes() {
        let home = ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory()
        #expect(GitConfigSurvey.resolveInclude("~/x.config", from: "/r/.git") == home + "/x.config")
        #expect(GitConfigSurvey.resolveInclude("extra.config", from: "/r/.git") == "/r/.git/extra.config")
        #expect(GitConfigSurvey.resolveInclude("../up.config", from: "/r/.git") == "/r/.git/../up.config")
        #expect(GitConfigSurvey.resolveInclude("/abs.config", from: "/r/.git") == "/abs.config")
        #expect(GitConfigSurvey.resolveInclude("%(prefix)/etc/x", from: "/r/.git") == nil)
    }

    @Test("another user's home folder and git's prefix in an include path are expanded by git, so the survey reads that file too")
    func interpolatedIncludes() async throws {
        let runner = GitCommand.runner(overrides: [])
        #expect(try await GitConfigSurvey.interpolated("~root/evil.config", runner: runner) == "/root/evil.config")
        let prefixed = try await GitConfigSurvey.interpolated("%(prefix)/etc/evil.config", runner: runner)
        #expect(prefixed?.hasPrefix("/") == true && prefixed?.hasSuffix("/etc/evil.config") == true, "\(String(describing: prefixed))")
    }

    @Test("remote URLs: which lead to a repository on this machine, and where a push is rewritten to")
    func remoteURLs() {
        #expect(GitRemoteURL.localPath("file:///tmp/a%20b.git", relativeTo: "/w") == "/tmp/a b.git")
        #expect(GitRemoteURL.localPath("/srv/r.git", relativeTo: "/w") == "/srv/r.git")
        #expect(GitRemoteURL.localPath("../r.git", relativeTo: "/w") == "/w/../r.git")
        #expect(GitRemoteURL.localPath("./a:b", relativeTo: "/w") == "/w/./a:b")
        for remote in ["host:path.git", "git@host:x/y.git", "ssh://host/x", "git://host/x", "https://host/x", "ext::sh -c x",
                       "hg::https://x"] {
            #expect(GitRemoteURL.localPath(remote, relativeTo: "/w") == nil, "\(remote)")
        }
        let rules = [GitConfigEntry(key: "url./local/.insteadof", value: "git://h/", origin: "local"),
                     GitConfigEntry(key: "url./longer/.pushinsteadof", value: "git://h/deep/", origin: "local"),
                     GitConfigEntry(key: "url./short/.pushinsteadof", value: "git://h/", origin: "local")]
        #expect(GitRemoteURL.pushURL("git://h/deep/r.git", configuration: rules) == "/longer/r.git")
        #expect(GitRemoteURL.pushURL("git://h/r.git", configuration: rules) == "/short/r.git")
        #expect(GitRemoteURL.pushURL("git://other/r.git", configuration: rules) == "git://other/r.git")
    }
}
