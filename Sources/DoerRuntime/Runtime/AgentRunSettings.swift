public import DoerAgent
public import DoerCore

/// What one agent run asks for, beyond what the configuration says: every frontend fills
/// this in (from flags, an API body, an MCP call) and nothing else about the agent.
public struct AgentRunSettings: Sendable {
    public var candidates: Int
    public var maxIterations: Int
    public var approval: ApprovalPolicy
    public var tokenBudget: Int?
    public var planning: PlanningMode
    /// What the candidates' commands may reach, asked for under the approval policy.
    public var network: NetworkPolicy

    public init(candidates: Int = 1, maxIterations: Int = 6, approval: ApprovalPolicy = .onRequest, tokenBudget: Int? = nil,
                planning: PlanningMode = .auto, network: NetworkPolicy = .none) {
        self.candidates = candidates
        self.maxIterations = maxIterations
        self.approval = approval
        self.tokenBudget = tokenBudget
        self.planning = planning
        self.network = network
    }
}
