import Foundation

/// The lines of a deploy's approval that list what will be committed.
///
/// A long list is cut, but never so that a file a person must see is hidden among the rest:
/// every file whose name says it may hold a secret (`.env`, keys, credentials) and every
/// change to what git ignores, and every file that makes something run — a CI workflow the
/// push itself starts with the repository's secrets, a hook or `.envrc` a developer's machine
/// runs — comes first, marked, whatever the count. A run that un-ignored `.env`, or added
/// `.github/workflows/x.yml` posting `${{ toJSON(secrets) }}`, in a change of forty files
/// would otherwise reach the push as "… and 20 more".
struct PendingChangesSummary {
    /// `git status --porcelain=v1` lines.
    var lines: [String]
    /// The other lines shown before the rest is counted.
    var shown = 20

    var rendered: [String] {
        let flagged = lines.compactMap { line in Self.warning(forPath: Self.path(of: line)).map { (line, $0) } }
        let others = lines.filter { Self.warning(forPath: Self.path(of: $0)) == nil }
        var out = flagged.map { "\($0.0)    ⚠ \($0.1)" }
        out += others.prefix(shown)
        if others.count > shown { out.append("… and \(others.count - shown) more") }
        return out
    }

    /// The path a porcelain line is about: the new name of a rename, unquoted as git quotes it.
    static func path(of line: String) -> String {
        var path = line.count > 3 ? String(line.dropFirst(3)) : line
        if let arrow = path.range(of: " -> ") { path = String(path[arrow.upperBound...]) }
        if path.hasPrefix("\""), path.hasSuffix("\""), path.count >= 2 { path = String(path.dropFirst().dropLast()) }
        return path
    }

    /// Why a person should look at this file before it is pushed, if they should.
    static func warning(forPath path: String) -> String? {
        let name = (path.split(separator: "/").last.map(String.init) ?? path).lowercased()
        if name == ".gitignore" || path.lowercased().hasSuffix(".git/info/exclude") {
            return "changes what git ignores"
        }
        if let runs = runsSomething(path) { return runs }
        let exact: Set<String> = [
            ".env", ".netrc", ".npmrc", ".pypirc", ".git-credentials", ".htpasswd", ".dockercfg", "credentials",
            "credentials.json", "kubeconfig", "id_rsa", "id_dsa", "id_ecdsa", "id_ed25519",
        ]
        let suffixes = [".pem", ".key", ".p12", ".pfx", ".jks", ".keystore", ".tfvars", ".tfstate", ".kdbx", ".asc", ".gpg"]
        if exact.contains(name) || name.hasPrefix(".env.") || name.hasPrefix("id_rsa") || name.hasPrefix("id_ed25519")
            || suffixes.contains(where: name.hasSuffix) || name.contains("secret") || name.hasPrefix("service-account")
            || path.lowercased().hasSuffix(".docker/config.json") || path.lowercased().hasSuffix(".aws/credentials") {
            return "may hold a secret"
        }
        return nil
    }

    /// Files that make a CI service or a developer's tools run commands: pushed, they run.
    static func runsSomething(_ path: String) -> String? {
        let lower = path.lowercased()
        let name = lower.split(separator: "/").last.map(String.init) ?? lower
        let ciFolders = [".github/workflows/", ".github/actions/", ".gitea/workflows/", ".forgejo/workflows/", ".circleci/",
                         ".buildkite/", ".woodpecker/", ".gitlab/ci/", ".azure-pipelines/", ".tekton/", ".semaphore/"]
        let ciFiles: Set<String> = [".gitlab-ci.yml", ".gitlab-ci.yaml", ".travis.yml", "azure-pipelines.yml", "azure-pipelines.yaml",
                                    "jenkinsfile", ".drone.yml", ".drone.yaml", "bitbucket-pipelines.yml", ".woodpecker.yml",
                                    ".woodpecker.yaml", "cloudbuild.yaml", "cloudbuild.yml", "appveyor.yml", ".appveyor.yml",
                                    ".cirrus.yml", "codemagic.yaml", "buildspec.yml"]
        // Only at the top: a service reads its definition from the repository's root.
        if ciFolders.contains(where: lower.hasPrefix) || ciFiles.contains(lower) {
            return "a CI definition: pushing it runs it, with the repository's secrets"
        }
        let toolFiles: Set<String> = [".envrc", ".pre-commit-config.yaml", ".gitmodules", ".gitattributes", ".lfsconfig"]
        if toolFiles.contains(name) || [".husky/", ".githooks/", ".devcontainer/", ".vscode/"].contains(where: lower.hasPrefix) {
            return "runs or fetches things on the machines that check it out"
        }
        return nil
    }
}
