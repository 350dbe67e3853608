import DoerAgent
import DoerCore
import DoerStore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import DoerRuntime

/// /v1/sessions: a session is an agent working on a workspace of its user's own.
struct SessionRoutes: Sendable {
    let store: SessionStore
    let access: AccessStore
    let hub: SessionHub
    let workspacesRoot: URL

    func register(on group: RouterGroup<ServerRequestContext>) {
        group.post("sessions") { request, context in try await create(request, context) }
        group.get("sessions") { _, context in try await list(context) }
        group.get("sessions/:id") { _, context in try await show(context) }
        group.post("sessions/:id/messages") { request, context in try await message(request, context) }
        group.post("sessions/:id/cancel") { _, context in try await cancel(context) }
        group.post("sessions/:id/undo") { _, context in try await undo(context) }
        group.get("sessions/:id/events") { request, context in try await events(request, context) }
        group.get("sessions/:id/approvals") { _, context in
            let record = try owned(context)
            return ApprovalList(approvals: await hub.pendingApprovals(record.id).map(ApprovalView.init))
        }
        group.post("sessions/:id/approvals/:approval") { request, context in try await answer(request, context) }
        group.get("sessions/:id/diff") { _, context in try diff(context) }
        group.get("sessions/:id/files") { _, context in
            let record = try owned(context)
            let root = URL(fileURLWithPath: record.workspace, isDirectory: true)
            return FileList(files: WorkspaceFiles.list(root).map { FileEntry(path: $0.path, size: $0.size) })
        }
        group.get("sessions/:id/files/**") { _, context in try file(context) }
        group.get("sessions/:id/audit") { _, context in
            let record = try owned(context)
            return AuditList(records: try hub.runtime.audit.records(session: record.id).map(\.exported))
        }
    }

    struct ApprovalList: ResponseEncodable, Sendable {
        var approvals: [ApprovalView]
    }

    struct AuditList: ResponseEncodable, Sendable {
        var records: [AuditValue]
    }

    struct UndoneView: ResponseEncodable, Sendable {
        var session: String
        var restored: [String]
    }

    /// The session `:id` if the caller owns it; 404 otherwise, so other users' sessions
    /// cannot even be told to exist.
    private func owned(_ context: ServerRequestContext) throws -> SessionRecord {
        try SessionOwnership(store: store, access: access).owned(context)
    }

    private func view(_ record: SessionRecord) async -> SessionView {
        SessionView(record, running: await hub.isRunning(record.id), pending: await hub.pendingApprovals(record.id))
    }

    private func create(_ request: Request, _ context: ServerRequestContext) async throws -> EditedResponse<SessionView> {
        let user = try context.requireUser()
        let body = try await request.decode(as: CreateSessionBody.self, context: context)
        let message = body.message?.trimmingCharacters(in: .whitespacesAndNewlines)
        let title = body.title?.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let name = [message, title].compactMap({ $0 }).first(where: { !$0.isEmpty }) else {
            throw ServerError.badRequest("give a 'message' (the task, which starts the agent) or a 'title'")
        }
        try WorkspaceFiles.validate(paths: (body.files ?? [:]).keys)
        // Refused before anything is written: a session that could not start is not left behind.
        if let message, !message.isEmpty { try await hub.checkRoom(for: user) }
        let workspace = workspacesRoot.appendingPathComponent(user, isDirectory: true)
            .appendingPathComponent(UUID().uuidString.lowercased(), isDirectory: true)
        try WorkspaceFiles.write(body.files ?? [:], into: workspace)
        let record = try store.createSession(task: name, workspace: workspace.path)
        try access.setOwner(user, ofSession: record.id)
        if let message, !message.isEmpty {
            try await hub.start(sessionID: record.id, task: message, workspace: workspace, user: user)
        }
        return EditedResponse(status: .created, headers: [.location: "/v1/sessions/\(record.id)"], response: await view(record))
    }

    private func list(_ context: ServerRequestContext) async throws -> SessionList {
        let user = try context.requireUser()
        let mine = try access.sessions(ownedBy: user)
        var views: [SessionView] = []
        for record in try store.sessions(ids: mine, limit: 500) {
            views.append(await view(record))
        }
        return SessionList(sessions: views)
    }

    private func show(_ context: ServerRequestContext) async throws -> SessionView {
        await view(try owned(context))
    }

    private func message(_ request: Request, _ context: ServerRequestContext) async throws -> EditedResponse<RunAccepted> {
        let record = try owned(context)
        let body = try await request.decode(as: MessageBody.self, context: context)
        let text = body.text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { throw ServerError.badRequest("'text' must not be empty") }
        try await hub.start(sessionID: record.id, task: text, workspace: URL(fileURLWithPath: record.workspace, isDirectory: true),
                            user: try context.requireUser())
        return EditedResponse(status: .accepted, response: RunAccepted(session: await view(record)))
    }

    private func cancel(_ context: ServerRequestContext) async throws -> EditedResponse<SessionView> {
        let record = try owned(context)
        guard await hub.cancel(record.id) else { throw ServerError.conflict("session \(record.id) is not running") }
        return EditedResponse(status: .accepted, response: await view(record))
    }

    /// Puts the session's workspace back as it was before its applied change (409 when
    /// there is none left to undo, or while it runs).
    private func undo(_ context: ServerRequestContext) async throws -> UndoneView {
        let record = try owned(context)
        let restored = try await hub.undo(sessionID: record.id, user: try context.requireUser())
        return UndoneView(session: record.id, restored: restored)
    }

    private func answer(_ request: Request, _ context: ServerRequestContext) async throws -> ApprovalAnswerView {
        let record = try owned(context)
        let user = try context.requireUser()
        let approvalID = try context.parameters.require("approval")
        let body = try await request.decode(as: ApprovalAnswerBody.self, context: context)
        guard await hub.answer(sessionID: record.id, approvalID: approvalID, approvedBy: body.approve ? user : nil) else {
            throw ServerError.notFound("no pending approval \(approvalID) in session \(record.id) (answered already, or timed out)")
        }
        return ApprovalAnswerView(id: approvalID, approved: body.approve, by: user)
    }

    private func diff(_ context: ServerRequestContext) throws -> DiffView {
        let record = try owned(context)
        guard let latest = try SessionHistory(of: record.id, in: store).latestChange else {
            return DiffView(diff: "", files: [], applied: false)
        }
        return DiffView(diff: latest.diff, files: latest.files, applied: latest.applied)
    }

    private func file(_ context: ServerRequestContext) throws -> Response {
        let record = try owned(context)
        let path = context.parameters.getCatchAll().joined(separator: "/")
        let data = try WorkspaceFiles.read(path, in: URL(fileURLWithPath: record.workspace, isDirectory: true))
        return Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8", .contentDisposition: "inline"],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// Server-sent events: the stored events after `Last-Event-ID` (or `?after=`), then live
    /// ones as they happen. Event ids are the stored sequence numbers. `?follow=false` ends
    /// the stream after the stored events.
    private func events(_ request: Request, _ context: ServerRequestContext) async throws -> Response {
        let record = try owned(context)
        let lastEventHeader = HTTPField.Name("Last-Event-ID")!
        let afterText = request.headers[lastEventHeader] ?? request.uri.queryParameters["after"].map(String.init)
        var after = 0
        if let afterText, !afterText.isEmpty {
            guard let value = Int(afterText), value >= 0 else {
                throw ServerError.badRequest("Last-Event-ID must be an event number, got '\(afterText)'")
            }
            after = value
        }
        let resumeAfter = after
        let follow = request.uri.queryParameters["follow"].map { $0 != "false" && $0 != "0" } ?? true
        let hub = hub, store = store, access = access
        let sessionID = record.id
        let tokenID = context.tokenID
        let (subscription, live) = await hub.subscribe(sessionID)
        let backlog: [SequencedEvent]
        do {
            backlog = try store.events(of: sessionID, after: after).map { SequencedEvent(seq: $0.seq, event: $0.event) }
        } catch {
            await hub.unsubscribe(sessionID, subscription)
            throw error
        }
        let headers: HTTPFields = [
            .contentType: "text/event-stream", .cacheControl: "no-cache", HTTPField.Name("X-Accel-Buffering")!: "no",
        ]
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            let pinger = Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(15))
                    if !Task.isCancelled { await hub.ping(sessionID, subscription) }
                }
            }
            defer {
                pinger.cancel()
                Task { await hub.unsubscribe(sessionID, subscription) }
            }
            var last = resumeAfter
            try await writer.write(ByteBuffer(string: "retry: 2000\n\n"))
            for item in backlog {
                try await writer.write(ServerSentEvent.frame(item))
                last = item.seq
            }
            if follow {
                follow: for await item in live {
                    switch item {
                    case .event(let sequenced) where sequenced.seq > last:
                        try await writer.write(ServerSentEvent.frame(sequenced))
                        last = sequenced.seq
                    case .event:
                        continue
                    case .wake:
                        // Replicas: the table is the feed; a wake that finds nothing new costs one read.
                        guard let fresh = try? store.events(of: sessionID, after: last) else { continue }
                        for (seq, event) in fresh {
                            try await writer.write(ServerSentEvent.frame(SequencedEvent(seq: seq, event: event)))
                            last = seq
                        }
                    case .ping:
                        // A stream outlives no revocation: checked at every ping (15 s).
                        if let tokenID, (try? access.isActive(tokenID: tokenID)) == false { break follow }
                        try await writer.write(ByteBuffer(string: ": ping\n\n"))
                    }
                }
            }
            try await writer.finish(nil)
        })
    }
}

enum ServerSentEvent {
    static func frame(_ item: SequencedEvent) -> ByteBuffer {
        let json = (try? JSONEncoder().encode(item.event)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        // The event's type is its one top-level key.
        let type = (try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])?.keys.first ?? "event"
        return ByteBuffer(string: "id: \(item.seq)\nevent: \(type)\ndata: \(json)\n\n")
    }
}
