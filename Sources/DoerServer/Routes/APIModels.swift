import DoerCore
import DoerStore
import Foundation
import Hummingbird

/// A session as the API shows it.
struct SessionView: ResponseEncodable, Sendable {
    var id: String
    var title: String
    var createdAt: Date
    var outcome: String?
    var message: String?
    var eventCount: Int
    var running: Bool
    var pendingApprovals: [ApprovalView]

    enum CodingKeys: String, CodingKey {
        case id, title, outcome, message, running
        case createdAt = "created_at"
        case eventCount = "event_count"
        case pendingApprovals = "pending_approvals"
    }

    init(_ record: SessionRecord, running: Bool, pending: [ApprovalRequest]) {
        id = record.id
        title = record.task
        createdAt = record.createdAt
        outcome = record.outcome
        message = record.message
        eventCount = record.eventCount
        self.running = running
        pendingApprovals = pending.map(ApprovalView.init)
    }
}

struct ApprovalView: Codable, Sendable {
    var id: String
    var summary: String
    var diff: String
    var files: [FileChange]

    init(_ request: ApprovalRequest) {
        id = request.id
        summary = request.summary
        diff = request.diff
        files = request.files
    }
}

struct SessionList: ResponseEncodable, Sendable {
    var sessions: [SessionView]
}

/// A session's runs take the server's limits, network and iterations; a body that asks for
/// any of them (or anything else) is refused, not ignored (`BodyFields`).
struct CreateSessionBody: Decodable, Sendable {
    var title: String?
    var message: String?
    var files: [String: String]?

    enum CodingKeys: String, CodingKey, CaseIterable { case title, message, files }

    init(from decoder: any Decoder) throws {
        try BodyFields.check(decoder, taken: CodingKeys.allCases.map(\.rawValue), route: "POST /v1/sessions")
        let container = try decoder.container(keyedBy: CodingKeys.self)
        title = try container.decodeIfPresent(String.self, forKey: .title)
        message = try container.decodeIfPresent(String.self, forKey: .message)
        files = try container.decodeIfPresent([String: String].self, forKey: .files)
    }
}

struct MessageBody: Decodable, Sendable {
    var text: String

    enum CodingKeys: String, CodingKey, CaseIterable { case text }

    init(from decoder: any Decoder) throws {
        try BodyFields.check(decoder, taken: CodingKeys.allCases.map(\.rawValue), route: "POST /v1/sessions/{id}/messages")
        text = try decoder.container(keyedBy: CodingKeys.self).decode(String.self, forKey: .text)
    }
}

struct ApprovalAnswerBody: Decodable, Sendable {
    var approve: Bool
}

struct ApprovalAnswerView: ResponseEncodable, Sendable {
    var id: String
    var approved: Bool
    var by: String
}

struct DiffView: ResponseEncodable, Sendable {
    var diff: String
    var files: [FileChange]
    var applied: Bool
}

struct FileEntry: Codable, Sendable {
    var path: String
    var size: Int
}

struct FileList: ResponseEncodable, Sendable {
    var files: [FileEntry]
}

struct RunAccepted: ResponseEncodable, Sendable {
    var session: SessionView
}

struct Identity: ResponseEncodable, Sendable {
    var user: String
}

struct LanguageView: Codable, Sendable {
    var name: String
    var extensions: [String]
}

struct LanguageList: ResponseEncodable, Sendable {
    var languages: [LanguageView]
}

extension ExecutionOutput: ResponseEncodable {}
