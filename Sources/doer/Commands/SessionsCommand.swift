import ArgumentParser
import DoerAgent
import DoerConfig
import DoerCore
import DoerRuntime
import DoerModels
import DoerSandbox
import DoerStore
import Foundation

struct SessionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sessions",
        abstract: "List agent sessions, newest first, or show one's events."
    )

    @Argument(help: "A session id (or its start) to show its events.") var id: String?
    @Option(help: "How many sessions to list.") var limit = 20
    @Flag(help: "Print as JSON lines.") var json = false

    func run() async throws {
        do {
            try show()
        } catch {
            fail(error)
        }
    }

    private func show() throws(DoerError) {
        let store = try StoreSupport.open().sessions
        if let id {
            let session = try store.session(id)
            let events = try store.events(of: session.id)
            let printer = EventPrinter(json: json)
            events.forEach(printer.show)
            return
        }
        let formatter = ISO8601DateFormatter()
        for session in try store.sessions(limit: limit) {
            let task = session.task.split(separator: "\n").first.map(String.init) ?? ""
            let outcome = (session.outcome ?? "unfinished").padding(toLength: 16, withPad: " ", startingAt: 0)
            print("\(session.id.prefix(8))  \(formatter.string(from: session.createdAt))  \(outcome) \(session.eventCount) events  \(task.prefix(60))")
        }
    }
}

struct ResumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Continue a session that was interrupted, did not pass, or was not applied: same task, workspace and session.",
        discussion: "The candidates start from the files the session's last run wrote and see its last failure; when those files already pass, only the approval is asked again. Earlier events stay; the new run's events follow them."
    )

    @Argument(help: "The session id (or its start).") var id: String
    @Option(help: "Candidates generated at once.") var candidates = 1
    @Option(help: "Model turns per candidate.") var maxIterations = 6
    @Option(help: "never: apply without asking; on-request (default): ask.") var approval: ApprovalPolicy = .onRequest
    @Option(help: "Model provider: local (default), openai, anthropic.") var provider: ModelSettings.ProviderKind?
    @Flag(help: "Print the event stream as JSON lines.") var json = false

    func run() async throws {
        let session: SessionRecord
        let point: ResumePoint
        do {
            let store = try StoreSupport.open().sessions
            session = try store.session(id)
            point = try SessionHistory(of: session.id, in: store).resumePoint
        } catch {
            fail(error)
        }
        if point.applied {
            print("session \(session.id) already passed and its changes were applied; nothing to resume")
            return
        }
        let settings = AgentFlags(candidates: candidates, maxIterations: maxIterations, approval: approval,
                                        provider: provider, profile: nil, tokenBudget: nil)
        try await runAgent(settings: settings, task: session.task, workspace: URL(fileURLWithPath: session.workspace, isDirectory: true),
                           resuming: session, json: json)
    }
}

struct UndoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "undo",
        abstract: "Put the workspace back as it was before a session's changes were applied.",
        discussion: "Without an id, undoes the most recent session whose changes were applied and not yet undone."
    )

    @Argument(help: "The session id (or its start).") var id: String?

    func run() async throws {
        do {
            try undo()
        } catch {
            fail(error)
        }
    }

    private func undo() throws(DoerError) {
        let directories = DataDirectory()
        let configuration = try DoerConfiguration.load(directories: directories)
        let undo = SessionUndo(store: try Runtime.openStores(configuration, directories: directories).sessions,
                               audit: try AuditSupport.log(configuration, directories: directories), defaultActor: configuration.audit.actor())
        let undone = try undo.undoLatest(among: id.map { [$0] })
        print("undid session \(undone.session.id.prefix(8)) in \(undone.workspace): " + undone.paths.joined(separator: ", "))
    }
}
