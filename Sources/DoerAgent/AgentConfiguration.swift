public import DoerCore
public import DoerLanguages
public import DoerSandbox
public import Foundation

/// How an agent run may spend its effort.
public struct AgentConfiguration: Sendable {
    /// Model turns per candidate (each followed by a test run).
    public var maxIterations: Int
    /// Speculative candidates generated at once; the first to pass wins.
    public var candidates: Int
    /// Stop when the candidates together used this many tokens.
    public var tokenBudget: Int?
    /// Stop after this much wall-clock time.
    public var timeBudgetSeconds: Double?
    /// Temperature of candidate 0; later candidates get warmer for variety.
    public var baseTemperature: Double
    /// When set, repair turns (every turn after a candidate's first) are sampled at least
    /// this warm: each repair is then a new sample rather than the same answer again, and a
    /// repeated failure no longer ends the candidate (the best attempt is kept anyway).
    public var repairTemperature: Double?
    /// When set, a failed attempt that passed no more tests than the candidate's best so far
    /// is followed by a fresh draw (the first turn's request again, sampled at the repair
    /// temperature, on the files as that request showed them) instead of a repair: a small
    /// model shown its own wrong code tends to keep it. An attempt that made progress is still
    /// repaired. Needs a repair temperature, since a greedy draw would only repeat the first answer.
    public var redrawsWithoutProgress: Bool
    public var seed: Int
    public var maxTokensPerTurn: Int
    /// Limits for every command and test run in the sandbox.
    public var limits: ResourceLimits
    /// Whether the winner's changes are applied without asking.
    public var approval: ApprovalPolicy
    /// Where candidates' workspace copies live.
    public var stagingRoot: URL
    /// Offer the actions as native tools (providers with reliable tool calls); otherwise
    /// the model answers in the text action protocol. Both give the same actions.
    public var nativeTools: Bool
    /// Whether the model writes the plan (`auto`: for larger tasks only).
    public var planning: PlanningMode
    /// Build caches for the languages whose tests go through the catalogue; it must match
    /// the sandbox's staging root and identity.
    public var languageCache: LanguageCache
    /// What the candidates' commands may reach (tests always run without network). Anything
    /// but `none` is asked for under the approval policy before the first command.
    public var network: NetworkPolicy
    /// The model's context window in tokens, prompt and reply together; nil asks the
    /// provider (the local server knows its slot size) and assumes `ContextBudget`'s
    /// fallback when it does not say.
    public var contextWindow: Int?

    public init(maxIterations: Int = 6, candidates: Int = 1, tokenBudget: Int? = nil, timeBudgetSeconds: Double? = nil,
                baseTemperature: Double = 0.2, repairTemperature: Double? = nil, redrawsWithoutProgress: Bool = false,
                seed: Int = 1, maxTokensPerTurn: Int = 1536,
                limits: ResourceLimits = ResourceLimits(wallClockSeconds: 30), approval: ApprovalPolicy = .onRequest,
                stagingRoot: URL = URL(fileURLWithPath: "/tmp/doer-agent-\(getuid())", isDirectory: true),
                nativeTools: Bool = false, planning: PlanningMode = .auto,
                languageCache: LanguageCache = LanguageCache(configuration: SandboxConfiguration()),
                network: NetworkPolicy = .none, contextWindow: Int? = nil) {
        self.maxIterations = maxIterations
        self.candidates = candidates
        self.tokenBudget = tokenBudget
        self.timeBudgetSeconds = timeBudgetSeconds
        self.baseTemperature = baseTemperature
        self.repairTemperature = repairTemperature
        self.redrawsWithoutProgress = redrawsWithoutProgress
        self.seed = seed
        self.maxTokensPerTurn = maxTokensPerTurn
        self.limits = limits
        self.approval = approval
        self.stagingRoot = stagingRoot
        self.nativeTools = nativeTools
        self.planning = planning
        self.languageCache = languageCache
        self.network = network
        self.contextWindow = contextWindow
    }

    public func validate() throws(DoerError) {
        guard (1...50).contains(maxIterations) else { throw .invalidArgument("--max-iterations must be 1 to 50, got \(maxIterations)") }
        if let repairTemperature, !(0...2).contains(repairTemperature) {
            throw .invalidArgument("the repair temperature must be 0 to 2, got \(repairTemperature)")
        }
        if redrawsWithoutProgress && repairTemperature == nil {
            throw .invalidArgument("fresh draws need a repair temperature: a greedy draw repeats the first answer")
        }
        guard (1...16).contains(candidates) else { throw .invalidArgument("--candidates must be 1 to 16, got \(candidates)") }
        try limits.validate()
    }

    func temperature(forCandidate index: Int, iteration: Int = 1) -> Double {
        let first = min(baseTemperature + 0.25 * Double(index), 1.2)
        guard iteration > 1, let repairTemperature else { return first }
        return max(first, repairTemperature)
    }
}
