public import Hummingbird
import Logging
import NIOCore

/// The request context of every route: who is calling (set by `BearerAuthMiddleware`)
/// and how large a body the server accepts.
public struct ServerRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The authenticated user, nil before authentication and on public routes.
    public var user: String?
    /// The id of the token used, the key of its rate-limit bucket.
    public var tokenID: String?
    public var maxUploadSize: Int

    public init(source: Source) {
        coreContext = .init(source: source)
        user = nil
        tokenID = nil
        maxUploadSize = ServerOptions.defaultMaxBodyBytes
    }

    /// The caller, or 401 when the route was reached without authentication.
    func requireUser() throws -> String {
        guard let user else { throw HTTPError(.unauthorized, message: "authentication required") }
        return user
    }
}
