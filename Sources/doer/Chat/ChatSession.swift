import DoerAgent
import DoerCore
import DoerModels
import DoerRuntime
import DoerStore
import Foundation
import NIOConcurrencyHelpers

/// The conversation: reads lines, runs each message as an agent task on the workspace,
/// and answers the slash commands. Each message is its own recorded session, so
/// `doer sessions`, `doer resume` and `doer undo` work on chat messages too.
final class ChatSession: @unchecked Sendable {
    // @unchecked: the loop drives everything from one task; only `running` is touched by
    // the Ctrl-C handler, and it is behind a lock.
    private var runtime: AgentRuntime
    private let workspace: URL
    private let style = TerminalStyle()
    private let progress = ProgressIndicator()
    private let view: ChatView
    private var turns: [(message: String, session: SessionRecord, summary: RunSummary?)] = []
    // A box, not a `Mutex`: the signal handler shares it without holding the session.
    private let running = NIOLockedValueBox<Task<RunSummary?, any Error>?>(nil)
    private var interrupts: (any DispatchSourceSignal)?

    init(runtime: AgentRuntime, workspace: URL) {
        self.runtime = runtime
        self.workspace = workspace
        view = ChatView(progress: progress)
    }

    func loop() async {
        installInterruptHandler()
        say(style.bold("doer chat") + style.dim(" — \(workspace.path), model \(runtime.modelDescription), "
            + "\(runtime.flags.candidates) candidate(s). /help for commands."))
        while true {
            write(style.bold("› "))
            guard let line = readLine() else { write("\n"); break }
            switch ChatInput.parse(line) {
            case .nothing: continue
            case .quit: return
            case .help: say(ChatInput.helpText)
            case .invalid(let message): say(style.red(message))
            case .plan: showPlan()
            case .diff: showDiff()
            case .undo: undo()
            case .sessions: showSessions()
            case .candidates(let count): setCandidates(count)
            case .model(let name): switchModel(name)
            case .message(let text): await run(text)
            }
        }
    }

    private func run(_ message: String) async {
        let task = ConversationContext.task(for: message, after: turns.map { ConversationContext.Turn(message: $0.message, summary: $0.summary) })
        let session: SessionRecord
        do {
            session = try runtime.store.createSession(task: task, workspace: workspace.path)
        } catch {
            say(style.red(error.description))
            return
        }
        let runtime = runtime, workspace = workspace, view = view
        let work = Task { () async throws -> RunSummary? in
            try await runtime.run(task: task, workspace: workspace, session: session, resume: nil,
                                  approvals: TerminalApprovals(enabled: true), show: { view.show($0) })
        }
        running.withLockedValue { $0 = work }
        let summary: RunSummary?
        do {
            summary = try await work.value
        } catch {
            summary = nil
            say(style.red("\(error)"))
        }
        running.withLockedValue { $0 = nil }
        progress.stop()
        turns.append((message, session, summary))
    }

    private func showPlan() {
        guard let list = view.checklist else { return say(style.dim("no plan yet: send a message first")) }
        list.lines.forEach { say("  " + $0) }
    }

    private func showDiff() {
        guard let turn = turns.last, let summary = turn.summary else { return say(style.dim("no finished run yet")) }
        guard [.passed, .unverified].contains(summary.outcome) else {
            return say(style.dim("the last run ended with \(summary.outcome.rawValue); its candidates' files were not kept in the "
                + "workspace (`doer resume \(turn.session.id.prefix(8))` continues from them)"))
        }
        guard !summary.diff.isEmpty else { return say(style.dim("the last run passed without changing any file")) }
        say(style.diff(summary.diff))
        say(style.dim(summary.applied ? "(applied)" : "(not applied)"))
    }

    private func undo() {
        do {
            let undone = try SessionUndo(runtime: runtime.runtime).undoLatest(among: turns.map(\.session.id))
            say("undid \"\(undone.session.task.split(separator: "\n").first ?? "")\": " + undone.paths.joined(separator: ", "))
        } catch {
            say(style.red(error.description))
        }
    }

    private func showSessions() {
        guard !turns.isEmpty else { return say(style.dim("no sessions in this chat yet")) }
        for turn in turns {
            let outcome = turn.summary?.outcome.rawValue ?? "interrupted"
            say("\(turn.session.id.prefix(8))  \(outcome.padding(toLength: 16, withPad: " ", startingAt: 0)) \(turn.message.prefix(60))")
        }
    }

    private func setCandidates(_ count: Int?) {
        if let count { runtime.flags.candidates = count }
        say("\(runtime.flags.candidates) candidate(s) per message")
    }

    private func switchModel(_ name: String?) {
        guard let name else { return say("model \(runtime.modelDescription)") }
        guard let kind = ModelSettings.ProviderKind(rawValue: name.lowercased()) else {
            return say(style.red("unknown provider '\(name)'; choose local, openai or anthropic"))
        }
        var settings = runtime.flags
        settings.provider = kind
        do {
            runtime = try AgentRuntime(flags: settings)
            say("model \(runtime.modelDescription)")
        } catch {
            say(style.red(error.description))
        }
    }

    /// Ctrl-C stops the running task (its model streams and sandboxed runs) and returns to
    /// the prompt; at the prompt it leaves.
    private func installInterruptHandler() {
        signal(SIGINT, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: DispatchQueue(label: "doer.chat.interrupt"))
        let running = running
        source.setEventHandler {
            let stopped = running.withLockedValue { task -> Bool in
                guard let task else { return false }
                task.cancel()
                return true
            }
            if stopped {
                FileHandle.standardError.write(Data("\nstopping…\n".utf8))
            } else {
                FileHandle.standardOutput.write(Data("\n".utf8))
                exit(130)
            }
        }
        source.resume()
        interrupts = source
    }

    private func say(_ line: String) { write(line + "\n") }

    private func write(_ text: String) { FileHandle.standardOutput.write(Data(text.utf8)) }
}
