public import DoerCore

/// Every CI target Doer knows, by the name `--ci` takes.
public enum DeployTargetRegistry {
    public static let names = ["github", "gitlab", "webhook"]

    /// `remoteURL` names the GitHub repository when `deploy.github_repository` does not.
    public static func make(_ name: String, settings: DeploySettings, environment: [String: String],
                            remoteURL: String? = nil) throws(DeployError) -> any DeployTarget {
        switch name {
        case "github", "github-actions":
            return try GitHubActionsTarget(client: GitHubClient(settings: settings, environment: environment, remoteURL: remoteURL),
                                        workflow: settings.githubWorkflow)
        case "gitlab":
            return GitLabPipelineTarget(client: try GitLabClient(settings: settings, environment: environment))
        case "webhook":
            return try WebhookTarget(settings: settings, environment: environment)
        default:
            throw .unknownTarget(name, known: names)
        }
    }
}
