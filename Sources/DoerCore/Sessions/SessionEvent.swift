import Foundation

/// Everything a recorded session holds, in order: what its agent runs reported, and what
/// happened to the session besides (an undo, a deploy). The store, the audit trail and every
/// frontend (terminal, JSONL, SSE, MCP) read this one stream.
///
/// The agent never emits the session-level cases, so they are not `AgentEvent`s. On the wire
/// a session event is the JSON of the event it carries, unwrapped — `{"plan": …}`,
/// `{"undone": {"paths": […]}}`, `{"deploy": {"_0": …}}` — the same one-key objects stored
/// sessions and the web app have always used.
public enum SessionEvent: Sendable, Hashable {
    case agent(AgentEvent)
    /// `doer undo` (or the API's undo) put these paths back as they were before the changes.
    case undone(paths: [String])
    /// A deploy of the session's applied change, started over the HTTP API, moved on.
    case deploy(DeployProgress)

    /// The agent event, when this is one.
    public var agentEvent: AgentEvent? {
        if case .agent(let event) = self { return event }
        return nil
    }
}

extension SessionEvent: Codable {
    private enum Key: String, CodingKey {
        case undone, deploy
    }

    private enum UndoneKey: String, CodingKey {
        case paths
    }

    private enum DeployKey: String, CodingKey {
        case progress = "_0"
    }

    /// Any key, to count them all: an object with a session-level key and others is no event.
    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        let keyCount = try decoder.container(keyedBy: AnyKey.self).allKeys.count
        if keyCount == 1, let key = container.allKeys.first {
            switch key {
            case .undone:
                let fields = try container.nestedContainer(keyedBy: UndoneKey.self, forKey: .undone)
                self = .undone(paths: try fields.decode([String].self, forKey: .paths))
                return
            case .deploy:
                let fields = try container.nestedContainer(keyedBy: DeployKey.self, forKey: .deploy)
                self = .deploy(try fields.decode(DeployProgress.self, forKey: .progress))
                return
            }
        }
        self = .agent(try AgentEvent(from: decoder))
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .agent(let event):
            try event.encode(to: encoder)
        case .undone(let paths):
            var container = encoder.container(keyedBy: Key.self)
            var fields = container.nestedContainer(keyedBy: UndoneKey.self, forKey: .undone)
            try fields.encode(paths, forKey: .paths)
        case .deploy(let progress):
            var container = encoder.container(keyedBy: Key.self)
            var fields = container.nestedContainer(keyedBy: DeployKey.self, forKey: .deploy)
            try fields.encode(progress, forKey: .progress)
        }
    }
}
