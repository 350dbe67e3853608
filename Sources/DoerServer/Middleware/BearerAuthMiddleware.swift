import Foundation
import DoerStore
import HTTPTypes
import Hummingbird

/// Lets a request through only with `Authorization: Bearer <token>` of a token that exists
/// and is not revoked; sets the context's user. Everything else gets 401.
struct BearerAuthMiddleware: RouterMiddleware {
    typealias Context = ServerRequestContext
    let access: AccessStore

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let challenge: HTTPFields = [.wwwAuthenticate: "Bearer realm=\"doer\""]
        guard let header = request.headers[.authorization] else {
            throw HTTPError(.unauthorized, headers: challenge, message: "missing Authorization: Bearer <token> header; create a token with `doer token create`")
        }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw HTTPError(.unauthorized, headers: challenge, message: "the Authorization header must be 'Bearer <token>'")
        }
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        guard let record = try access.record(forToken: String(token)) else {
            throw HTTPError(.unauthorized, headers: challenge, message: "unknown or revoked token")
        }
        var context = context
        context.user = record.user
        context.tokenID = record.id
        return try await next(request, context)
    }
}
