import Foundation

/// The `[deploy]` table: where results are pushed and which CI is started.
public struct DeploySettings: Sendable, Equatable {
    /// The git remote pushed to: a remote's name or any URL git accepts (ssh, https, file, git).
    public var remote = "origin"
    /// Branches Doer never pushes to unless `allowProtected` is set.
    public var protectedBranches = ["main", "master"]
    public var allowProtected = false
    /// The base branch pull requests target.
    public var baseBranch = "main"
    /// GitHub: API root (tests point it at a local server), repository "owner/name", the
    /// environment variable holding the token, and the workflow file `--ci github` dispatches.
    public var githubAPIURL = "https://api.github.com"
    public var githubRepository: String?
    public var githubTokenEnv = "GITHUB_TOKEN"
    public var githubWorkflow: String?
    /// GitLab: API root (e.g. https://gitlab.com/api/v4), the project ("group/name" or its
    /// numeric id) and the environment variable holding a token with `api` scope.
    public var gitlabAPIURL = "https://gitlab.com/api/v4"
    public var gitlabProject: String?
    public var gitlabTokenEnv = "GITLAB_TOKEN"
    /// A generic webhook: a JSON POST signed with `X-Doer-Signature: sha256=<HMAC of the body>`.
    public var webhookURL: String?
    /// The environment variable holding the webhook secret (preferred), or the secret itself.
    public var webhookSecretEnv = "DOER_WEBHOOK_SECRET"
    public var webhookSecret: String?
    /// Seconds the approval prompt waits before it counts as a refusal.
    public var approvalTimeoutSeconds: Double = 120
    /// Seconds `doer deploy` watches a CI run before it leaves it running.
    public var ciWaitSeconds: Double = 600

    public init() {}

    public func githubToken(environment: [String: String]) -> String? {
        environment[githubTokenEnv].flatMap { $0.isEmpty ? nil : $0 }
    }

    public func gitlabToken(environment: [String: String]) -> String? {
        environment[gitlabTokenEnv].flatMap { $0.isEmpty ? nil : $0 }
    }

    public func resolvedWebhookSecret(environment: [String: String]) -> String? {
        environment[webhookSecretEnv].flatMap { $0.isEmpty ? nil : $0 } ?? webhookSecret
    }

    public func isProtected(_ branch: String) -> Bool {
        protectedBranches.contains(branch)
    }
}
