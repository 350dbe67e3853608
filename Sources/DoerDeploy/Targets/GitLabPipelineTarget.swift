import DoerCore
/// GitLab CI: a new pipeline on the pushed branch, then its status.
public struct GitLabPipelineTarget: DeployTarget {
    public let name = "gitlab"
    let client: GitLabClient

    public init(client: GitLabClient) {
        self.client = client
    }

    public func trigger(_ context: DeployContext) async throws(DeployError) -> CIRun {
        var variables: [String: String] = [:]
        if let session = context.session { variables["DOER_SESSION"] = session }
        return try await client.createPipeline(ref: context.branch, variables: variables)
    }

    public func status(of run: CIRun) async throws(DeployError) -> CIRun {
        guard let id = run.id else { return run }
        return try await client.pipeline(id: id)
    }
}
