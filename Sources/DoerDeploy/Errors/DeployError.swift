/// What can go wrong while shipping a result; each message says what to do about it.
public enum DeployError: Error, Sendable, Equatable, CustomStringConvertible {
    case notARepository(String)
    case gitFailed(command: String, status: String, output: String)
    case protectedBranch(String)
    case invalidBranch(String)
    case pushFailed(remote: String, branch: String, output: String)
    case nothingToDeploy(String)
    case approvalDenied(String)
    case configuration(String)
    case http(what: String, status: Int, body: String)
    case unreachable(what: String, reason: String)
    case unknownTarget(String, known: [String])
    /// A changed path that cannot be carried onto a checkout safely.
    case unsafePath(String)
    /// A repository whose configuration would make git run a program Doer cannot turn off.
    case unsafeRepository(path: String, setting: String, file: String, reason: String)

    public var description: String {
        switch self {
        case .notARepository(let path):
            return "\(path) is not a git repository; run `git init` there (and add a remote) or pass --workspace"
        case .gitFailed(let command, let status, let output):
            return "`\(command)` failed (\(status)): \(output)"
        case .protectedBranch(let branch):
            return "'\(branch)' is a protected branch; push to another branch (--branch), or set deploy.allow_protected = true in config.toml"
        case .invalidBranch(let message):
            return message
        case .pushFailed(let remote, let branch, let output):
            return "pushing '\(branch)' to \(remote) failed; the remote may be down or refusing the push. Nothing was recorded as pushed. git said: \(output)"
        case .nothingToDeploy(let message):
            return message
        case .approvalDenied(let reason):
            return "deploy not approved: \(reason)"
        case .configuration(let message):
            return "configuration: \(message)"
        case .http(let what, let status, let body):
            return "\(what) was refused with HTTP \(status): \(body.prefix(400))"
        case .unreachable(let what, let reason):
            return "\(what): cannot connect (\(reason)); check the URL and that the service is up"
        case .unknownTarget(let name, let known):
            return "no CI target named '\(name)'; known: \(known.joined(separator: ", "))"
        case .unsafePath(let message):
            return message
        case .unsafeRepository(let path, let setting, let file, let reason):
            return "\(path): the repository's configuration (\(file)) sets \(setting): \(reason). Doer runs no program "
                + "a repository's configuration names; remove the setting (git config --file '\(file)' --unset-all '\(setting)') "
                + "or, if it is yours, set it in your own ~/.gitconfig instead"
        }
    }
}
