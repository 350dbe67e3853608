import DoerCore

/// How many tokens a prompt may take: the model's context window less the reply it may
/// write and a margin for the estimate's error. Each turn's files get what is left after
/// everything else the turn says, so a prompt never exceeds the window.
struct ContextBudget: Sendable, Hashable {
    /// The window assumed when neither the provider nor the configuration gives one:
    /// hosted models have far larger windows, but every token is paid for.
    static let fallbackWindow = 16_384

    /// The whole window, prompt and reply.
    var window: Int
    /// Tokens the reply may use (`maxTokensPerTurn`).
    var reply: Int

    init(window: Int?, reply: Int) {
        self.window = max(window ?? Self.fallbackWindow, 1_024)
        // A reply allowance larger than half the window would leave no room to show code.
        self.reply = min(reply, self.window / 2)
    }

    /// Tokens the prompt may take: the window less the reply and a 5% margin.
    var prompt: Int { window - reply - max(64, window / 20) }

    /// What the first turn's files may take besides `fixed` (the system prompt, the task,
    /// the plan, the tools): half of what is left, since a repair turn repeats the first
    /// turn and shows the files again after it.
    func openingFiles(besides fixed: Int) -> Int {
        max(0, (prompt - fixed) / 2)
    }

    /// What a turn's files may take when `used` tokens are already spoken for.
    func remaining(after used: Int) -> Int { max(0, prompt - used - 16) }
}
