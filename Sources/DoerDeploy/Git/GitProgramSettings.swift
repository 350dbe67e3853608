/// The git settings through which configuration makes git run a program (or write a file
/// the configuration names), and what Doer puts in their place.
///
/// A repository's configuration (`.git/config`, `config.worktree`, and every file they
/// include, under any condition) is written by whoever wrote the repository — a clone, a
/// tool, a sandboxed run — so none of the programs it names may run on this machine. The
/// host's own configuration (system, global, and the command line's) is the user's and
/// stays in force: where a repository sets one of these keys, Doer resets the key and
/// then repeats the host's own values for it, so the result is what the host alone says.
///
/// Found by reading git 2.39's sources for every place that starts a program
/// (`use_shell`, hooks, helpers) and the keys that feed it; each is tried by a test that
/// plants it in a repository and checks that nothing ran.
enum GitProgramSettings {
    enum Policy: Equatable {
        /// Reset the key to `neutral` (git's behaviour when unset, or nothing at all),
        /// then repeat the host's values. Every key with the same `resetKey` is reset by it.
        case host(neutral: String, resetKey: String?)
        /// git keeps the first value it reads for these, and the repository's file is read
        /// before the command line: no override can win, so Doer refuses the repository.
        case refuse(String)
    }

    /// Every hook event git knows, for git versions that also run hooks named in
    /// configuration (`hook.<name>.command`, from git 2.54): turning each event off is the
    /// only switch that reaches those. Older versions ignore the keys.
    static let hookEvents = [
        "applypatch-msg", "pre-applypatch", "post-applypatch", "pre-commit", "pre-merge-commit", "prepare-commit-msg",
        "commit-msg", "post-commit", "pre-rebase", "post-checkout", "post-merge", "pre-push", "pre-receive", "update",
        "proc-receive", "post-receive", "post-update", "reference-transaction", "push-to-checkout", "pre-auto-gc",
        "post-rewrite", "sendemail-validate", "fsmonitor-watchman", "p4-changelist", "p4-prepare-changelist",
        "p4-post-changelist", "p4-pre-submit", "post-index-change",
    ]

    /// Set on every git Doer runs, after everything else, whatever any configuration says.
    static func fixed(sshCommand: String) -> [(key: String, value: String)] {
        var settings: [(key: String, value: String)] = [
            // Hooks: a path that is not a folder holds no hook.
            ("core.hooksPath", "/dev/null"),
            ("core.fsmonitor", "false"),
            // ":" and "cat" are the values git itself treats as "no editor" and "no pager".
            ("core.editor", ":"),
            ("sequence.editor", ":"),
            ("core.pager", "cat"),
            ("core.askPass", ""),
            ("core.sshCommand", sshCommand),
            // The ext:: transport runs the command written in the URL.
            ("protocol.ext.allow", "never"),
            // Automatic gc and maintenance start further git processes (and prefetches
            // from every remote); a deploy needs neither.
            ("gc.auto", "0"),
            ("maintenance.auto", "false"),
            // Submodules are other repositories with configuration of their own: never
            // entered, never pushed, never shown as "dirty" (which runs git inside them).
            ("submodule.recurse", "false"),
            ("push.recurseSubmodules", "no"),
            ("fetch.recurseSubmodules", "false"),
            ("diff.ignoreSubmodules", "all"),
            ("status.submoduleSummary", "false"),
        ]
        settings += hookEvents.map { ("hook.\($0).enabled", "false") }
        return settings
    }

    /// Whether `entry` names a file git reads in the commands a deploy runs (status, add,
    /// commit, show, push over HTTPS): such a file must not be a pipe (`GitCommand.checkReadFiles`).
    static func namesReadFile(_ entry: GitConfigEntry) -> Bool {
        switch (entry.section, entry.variable) {
        case ("core", "excludesfile"), ("core", "attributesfile"), ("commit", "template"), ("diff", "orderfile"),
             ("mailmap", "file"), ("blame", "ignorerevsfile"), ("gpg", "allowedsignersfile"), ("gpg", "revocationfile"),
             ("http", "sslcainfo"), ("http", "sslcert"), ("http", "sslkey"), ("http", "proxysslcert"),
             ("http", "proxysslkey"), ("http", "proxysslcainfo"), ("http", "cookiefile"):
            return true
        default:
            return false
        }
    }

    /// What to do about `entry` when a repository's configuration sets it; nil when it
    /// names no program.
    static func policy(for entry: GitConfigEntry) -> Policy? {
        let section = entry.section, variable = entry.variable, sub = entry.subsection
        func host(_ neutral: String, resetKey: String? = nil) -> Policy { .host(neutral: neutral, resetKey: resetKey) }
        switch (section, variable) {
        case ("core", "hookspath"), ("core", "fsmonitor"), ("core", "editor"), ("core", "pager"), ("core", "askpass"),
             ("core", "sshcommand"), ("sequence", "editor"):
            return sub == nil ? host("") : nil // overridden by `fixed` anyway; reset so no stale value shows
        case ("core", "alternaterefscommand"):
            // Run with the alternate's path; `true` answers "no refs", as an alternate without any would.
            return sub == nil ? host("true") : nil
        case ("diff", "external"), ("interactive", "difffilter"), ("imap", "tunnel"), ("web", "browser"):
            return sub == nil ? host("") : nil
        case ("diff", "command"), ("diff", "textconv"), ("merge", "driver"),
             ("filter", "clean"), ("filter", "smudge"), ("filter", "process"),
             ("difftool", "cmd"), ("difftool", "path"), ("mergetool", "cmd"), ("mergetool", "path"),
             ("guitool", "cmd"), ("browser", "cmd"), ("browser", "path"), ("man", "cmd"), ("man", "path"),
             ("trailer", "command"), ("trailer", "cmd"), ("hook", "command"):
            // An empty command is no command: git skips an empty filter, and fails rather
            // than runs an empty diff driver (Doer never asks for external diffs or textconv).
            return sub != nil ? host("") : nil
        case ("filter", "required"):
            return sub != nil ? host("false") : nil
        case ("submodule", "update"):
            // "!command" runs on `git submodule update`.
            return sub != nil ? host("none") : nil
        case ("credential", "helper"):
            // Helpers form one list across every URL-scoped key; an empty value empties it.
            return host("", resetKey: "credential.helper")
        case ("gpg", "program"):
            if sub == nil { return host("gpg") }
            switch sub?.lowercased() {
            case "openpgp": return host("gpg")
            case "x509": return host("gpgsm")
            case "ssh": return host("ssh-keygen")
            default: return host("")
            }
        case ("gpg", "defaultkeycommand"):
            return sub?.lowercased() == "ssh" ? host("") : nil
        case ("commit", "gpgsign"), ("tag", "gpgsign"), ("tag", "forcesignannotated"), ("log", "showsignature"),
             ("push", "gpgsign"):
            // Whether to sign is the host's choice: a repository could otherwise make
            // git start the signing program for every commit.
            return sub == nil ? host("false") : nil
        case ("pager", _):
            // pager.<command> may be a program.
            return sub == nil ? host("false") : nil
        case ("http", "savecookies"):
            // With a cookie file of the repository's choosing, git writes what a server
            // sends into any file the user can write (a shell's start-up file).
            return host("false")
        case ("http", "cookiefile"):
            return host("")
        case ("lfs", "standalonetransferagent"):
            return sub == nil ? host("") : nil
        case ("lfs", "path"), ("lfs", "args"), ("lfs", "clean"), ("lfs", "smudge"):
            // lfs.customtransfer.<name>.path, lfs.extension.<name>.clean: git-lfs runs them,
            // reading git's configuration (these overrides included) to find them.
            guard let sub, sub.lowercased().hasPrefix("customtransfer.") || sub.lowercased().hasPrefix("extension.") else {
                return nil
            }
            return host("")
        case ("remote", "uploadpack"), ("remote", "receivepack"):
            guard sub != nil else { return nil }
            return .refuse("it names the program git runs for that remote, and for a remote on this machine "
                + "(or a partial clone's missing objects) git runs it here; git takes the first value it reads, "
                + "so the setting cannot be overridden")
        case ("remote", "vcs"):
            // git-remote-<vcs> is looked up as a path when the name holds a slash.
            guard sub != nil, let value = entry.value,
                  !value.isEmpty, value.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "+.-".contains($0)) })
            else {
                return sub != nil ? .refuse("its value is not the plain name of a remote helper, and git runs "
                    + "git-remote-<value> from wherever that path leads") : nil
            }
            return nil
        default:
            return nil
        }
    }
}
