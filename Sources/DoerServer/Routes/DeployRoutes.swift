import DoerCore
import DoerStore
import Foundation
import HTTPTypes
import Hummingbird

/// Deploys of a session's applied change: started, approved or denied by a person, and
/// followed, over HTTP. The steps themselves are the `Deployer`'s, as for `doer deploy`.
struct DeployRoutes: Sendable {
    let service: DeployService
    let ownership: SessionOwnership

    func register(on group: RouterGroup<ServerRequestContext>) {
        group.get("deploy/targets") { _, context in
            _ = try context.requireUser()
            return service.targets()
        }
        group.post("sessions/:id/deploys") { request, context in
            let record = try ownership.owned(context)
            let body = try await request.decode(as: DeployBody.self, context: context)
            let progress = try await service.start(session: record, user: try context.requireUser(), body: body)
            return EditedResponse(status: .accepted, headers: [.location: "/v1/sessions/\(record.id)/deploys/\(progress.id)"],
                                  response: DeployView(progress))
        }
        group.get("sessions/:id/deploys") { _, context in
            let record = try ownership.owned(context)
            return DeployList(deploys: try await service.deploys(session: record.id).map(DeployView.init))
        }
        group.get("sessions/:id/deploys/:deploy") { _, context in
            let record = try ownership.owned(context)
            return DeployView(try await service.deploy(session: record.id, id: try context.parameters.require("deploy")))
        }
        group.post("sessions/:id/deploys/:deploy/approval") { request, context in
            let record = try ownership.owned(context)
            let body = try await request.decode(as: DeployAnswerBody.self, context: context)
            return DeployView(try await service.answer(session: record.id, deploy: try context.parameters.require("deploy"),
                                                       approved: body.approved, by: try context.requireUser()))
        }
    }
}

/// What `POST /v1/sessions/{id}/deploys` takes: the options of `doer deploy`.
struct DeployBody: Decodable, Sendable {
    /// The CI target (`--ci`): github, gitlab or webhook; absent to push (and open a review) only.
    var target: String?
    var branch: String?
    var pullRequest: Bool?
    var message: String?

    enum CodingKeys: String, CodingKey {
        case target, branch, message
        case pullRequest = "pull_request"
    }
}

/// `{"approved": true}`; `{"approve": true}` (the agent approvals' form) is taken too.
struct DeployAnswerBody: Decodable, Sendable {
    var approved: Bool

    enum CodingKeys: String, CodingKey { case approved, approve }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        guard let value = try container.decodeIfPresent(Bool.self, forKey: .approved)
            ?? container.decodeIfPresent(Bool.self, forKey: .approve) else {
            throw ServerError.badRequest("give \"approved\": true or false")
        }
        approved = value
    }
}

/// One deploy as the API shows it: the `DeployProgress` its session's events carry.
struct DeployView: ResponseEncodable, Sendable {
    var progress: DeployProgress
    init(_ progress: DeployProgress) { self.progress = progress }
    func encode(to encoder: any Encoder) throws { try progress.encode(to: encoder) }
}

struct DeployList: ResponseEncodable, Sendable {
    var deploys: [DeployView]
}

/// The deploy targets this server has, for the web app's form.
struct DeployTargetsView: ResponseEncodable, Sendable {
    struct Target: Codable, Sendable {
        var name: String
        var available: Bool
        var problem: String?
    }
    struct Review: Codable, Sendable {
        var available: Bool
        var problem: String?
    }
    /// False when nothing can be deployed from this server; `problem` says why.
    var available: Bool
    var problem: String?
    var remote: String
    var baseBranch: String
    var targets: [Target]
    var pullRequest: Review

    enum CodingKeys: String, CodingKey {
        case available, problem, remote, targets
        case baseBranch = "base_branch"
        case pullRequest = "pull_request"
    }
}
