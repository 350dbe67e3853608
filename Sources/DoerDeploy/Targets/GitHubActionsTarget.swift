import DoerCore
import Foundation

/// GitHub Actions: `workflow_dispatch` of the configured workflow on the pushed branch,
/// then the run GitHub lists for it.
public struct GitHubActionsTarget: DeployTarget {
    public let name = "github"
    let client: GitHubClient
    let workflow: String

    public init(client: GitHubClient, workflow: String?) throws(DeployError) {
        guard let workflow else {
            throw .configuration("no workflow to dispatch: set deploy.github_workflow = \"ci.yml\" (a workflow with `on: workflow_dispatch`)")
        }
        self.client = client
        self.workflow = workflow
    }

    public func trigger(_ context: DeployContext) async throws(DeployError) -> CIRun {
        var inputs: [String: String] = [:]
        if let session = context.session { inputs["doer_session"] = session }
        try await client.dispatchWorkflow(workflow, ref: context.branch, inputs: inputs)
        // GitHub answers 204 without the run; it is listed a moment later.
        for attempt in 0..<5 {
            if let run = try await client.latestRun(workflow: workflow, branch: context.branch) { return run }
            try? await Task.sleep(for: .seconds(attempt + 1))
        }
        return CIRun(target: name, id: nil, url: nil, status: "queued", conclusion: nil)
    }

    public func status(of run: CIRun) async throws(DeployError) -> CIRun {
        guard let id = run.id else { return run }
        return try await client.run(id: id)
    }
}
