public import Foundation

/// A repository made hostile by hand, as a clone of someone else's project or a run that
/// reached `.git` could leave it: every hook, and every configuration key through which
/// git runs a program, names a script that leaves a marker file when it runs. A test runs
/// Doer on it and checks `fired` is empty.
///
/// Planting writes files only; it never runs git in the planted repository (which would
/// spring the traps itself).
public final class GitTrap: @unchecked Sendable {
    public let folder: URL
    public var markers: URL { folder.appendingPathComponent("markers") }
    public var programs: URL { folder.appendingPathComponent("programs") }
    /// A folder full of hooks, for `core.hooksPath`.
    public var hooks: URL { folder.appendingPathComponent("hooks") }
    /// Where the planted `core.worktree` points.
    public var elsewhere: URL { folder.appendingPathComponent("elsewhere") }

    /// Every hook git 2.39 knows (githooks(5)).
    public static let hookNames = [
        "applypatch-msg", "pre-applypatch", "post-applypatch", "pre-commit", "pre-merge-commit", "prepare-commit-msg",
        "commit-msg", "post-commit", "pre-rebase", "post-checkout", "post-merge", "pre-push", "pre-receive", "update",
        "proc-receive", "post-receive", "post-update", "reference-transaction", "push-to-checkout", "pre-auto-gc",
        "post-rewrite", "sendemail-validate", "fsmonitor-watchman", "p4-changelist", "p4-prepare-changelist",
        "p4-post-changelist", "p4-pre-submit", "post-index-change",
    ]

    public init(in parent: URL) throws {
        folder = parent.appendingPathComponent("trap-\(UUID().uuidString.prefix(6))")
        for sub in [markers, programs, hooks, elsewhere] {
            try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
        }
        try Data("not the work tree\n".utf8).write(to: elsewhere.appendingPathComponent("elsewhere.txt"))
        for name in Self.hookNames {
            try script(at: hooks.appendingPathComponent(name), marker: "hooks-path-\(name)", passThrough: false)
        }
    }

    /// The markers left so far: the programs that ran.
    public var fired: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: markers.path)) ?? []).sorted()
    }

    /// A program that leaves the marker `name`; a filter passes its input through.
    @discardableResult
    public func program(_ name: String, passThrough: Bool = false) throws -> String {
        let url = programs.appendingPathComponent(name)
        try script(at: url, marker: name, passThrough: passThrough)
        return url.path
    }

    private func script(at url: URL, marker: String, passThrough: Bool) throws {
        let body = "#!/bin/sh\ntouch '\(markers.appendingPathComponent(marker).path)'\n" + (passThrough ? "exec cat\n" : "exit 0\n")
        try Data(body.utf8).write(to: url)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.path)
    }

    /// Writes every hook into `gitDirectory/hooks`.
    public func plantHooks(in gitDirectory: URL) throws {
        let folder = gitDirectory.appendingPathComponent("hooks")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for name in Self.hookNames {
            try script(at: folder.appendingPathComponent(name), marker: "hook-\(name)", passThrough: false)
        }
    }

    /// Appends `text` to a configuration file.
    public func append(_ text: String, to file: URL) throws {
        let existing = (try? String(contentsOf: file, encoding: .utf8)) ?? ""
        try Data((existing + "\n" + text + "\n").utf8).write(to: file)
    }

    /// Makes the work tree's repository hostile: hooks in `.git/hooks` and in a folder
    /// `core.hooksPath` names, every program key, includes (one of them switched on only
    /// on the branches a deploy makes), a `core.worktree` elsewhere, and attributes that
    /// put every file through the planted filter and diff and merge drivers.
    public func plant(workTree: URL) throws {
        let git = workTree.appendingPathComponent(".git")
        try plantHooks(in: git)
        let included = folder.appendingPathComponent("included.config")
        try Data("""
            [filter "included"]
            \tclean = \(try program("included-clean", passThrough: true))
            \tsmudge = \(try program("included-smudge", passThrough: true))
            \trequired = true
            [diff]
            \texternal = \(try program("included-diff-external"))

            """.utf8).write(to: included)
        let onBranch = folder.appendingPathComponent("onbranch.config")
        try Data("""
            [core]
            \tfsmonitor = \(try program("onbranch-fsmonitor"))
            [filter "trap"]
            \tclean = \(try program("onbranch-clean", passThrough: true))
            [credential]
            \thelper = !\(try program("onbranch-credential"))

            """.utf8).write(to: onBranch)
        try append("""
            [core]
            \tfsmonitor = \(try program("fsmonitor"))
            \thooksPath = \(hooks.path)
            \tpager = \(try program("pager", passThrough: true))
            \teditor = \(try program("editor"))
            \taskPass = \(try program("askpass"))
            \tsshCommand = \(try program("ssh-command"))
            \tgitProxy = \(try program("git-proxy"))
            \talternateRefsCommand = \(try program("alternate-refs"))
            \tworktree = \(elsewhere.path)
            [sequence]
            \teditor = \(try program("sequence-editor"))
            [diff]
            \texternal = \(try program("diff-external"))
            [diff "trap"]
            \tcommand = \(try program("diff-command"))
            \ttextconv = \(try program("textconv", passThrough: true))
            [merge "trap"]
            \tdriver = \(try program("merge-driver"))
            [filter "trap"]
            \tclean = \(try program("clean", passThrough: true))
            \tsmudge = \(try program("smudge", passThrough: true))
            \trequired = true
            [filter "Odd=Name"]
            \tclean = \(try program("odd-clean", passThrough: true))
            \tprocess = \(try program("odd-process"))
            [credential]
            \thelper = !\(try program("credential-helper"))
            [credential "http://127.0.0.1"]
            \thelper = \(try program("credential-url-helper"))
            [gpg]
            \tprogram = \(try program("gpg"))
            [gpg "ssh"]
            \tprogram = \(try program("gpg-ssh"))
            \tdefaultKeyCommand = \(try program("gpg-ssh-default-key"))
            [gpg "x509"]
            \tprogram = \(try program("gpgsm"))
            [commit]
            \tgpgSign = true
            [tag]
            \tgpgSign = true
            [log]
            \tshowSignature = true
            [pager]
            \tstatus = \(try program("pager-status", passThrough: true))
            \tshow = \(try program("pager-show", passThrough: true))
            [interactive]
            \tdiffFilter = \(try program("diff-filter", passThrough: true))
            [protocol]
            \tallow = always
            [protocol "ext"]
            \tallow = always
            [uploadpack]
            \tpackObjectsHook = \(try program("pack-objects-hook"))
            [http]
            \tsaveCookies = true
            \tcookieFile = \(markers.appendingPathComponent("cookie-file").path)
            [lfs "customtransfer.trap"]
            \tpath = \(try program("lfs-transfer"))
            [trailer "trap"]
            \tcommand = \(try program("trailer"))
            [gc]
            \tauto = 1
            [maintenance]
            \tauto = true
            [submodule]
            \trecurse = true
            [include]
            \tpath = \(included.path)
            [includeIf "onbranch:doer/**"]
            \tpath = \(onBranch.path)
            """, to: git.appendingPathComponent("config"))
        try Data("* filter=trap diff=trap merge=trap\n*.odd filter=Odd=Name\n*.inc filter=included\n".utf8)
            .write(to: workTree.appendingPathComponent(".gitattributes"))
    }

    /// Makes a repository that receives pushes (or is cloned from) hostile: every hook, the
    /// programs receive-pack and upload-pack run, and an alternate so that the alternate
    /// refs command has something to list.
    public func plantRemote(gitDirectory: URL, alternate: URL) throws {
        try plantHooks(in: gitDirectory)
        let info = gitDirectory.appendingPathComponent("objects/info")
        try FileManager.default.createDirectory(at: info, withIntermediateDirectories: true)
        try Data((alternate.appendingPathComponent("objects").path + "\n").utf8).write(to: info.appendingPathComponent("alternates"))
        try append("""
            [core]
            \thooksPath = \(hooks.path)
            \tfsmonitor = \(try program("remote-fsmonitor"))
            \talternateRefsCommand = \(try program("remote-alternate-refs"))
            [uploadpack]
            \tpackObjectsHook = \(try program("remote-pack-objects-hook"))
            [receive]
            \tautogc = true
            [gc]
            \tauto = 1
            [filter "trap"]
            \tsmudge = \(try program("remote-smudge", passThrough: true))
            \tclean = \(try program("remote-clean", passThrough: true))
            """, to: gitDirectory.appendingPathComponent("config"))
    }
}
