public import DoerCore
import DoerModels

/// A task's first model turn as the loop makes it in an empty workspace: the same messages
/// and the same reading of the reply. For a caller that compares one generation with the
/// whole loop (HumanEval's single mode), so the two differ only in what follows that turn.
public enum FirstTurn {
    /// The system prompt and task message of the first turn.
    public static func messages(for task: String) -> [ChatMessage] {
        let strategy = TestStrategy.choose(files: [], task: task)
        return [.system(PromptBuilder.system(projectInstructions: nil)),
                .user(PromptBuilder.task(task, files: "", strategy: strategy))]
    }

    /// The actions the loop reads from a reply to that turn.
    public static func actions(in reply: String, task: String) -> [Action] {
        ActionParser(targetFile: Planner.targetFile(of: task)).parse(reply).actions
    }
}
