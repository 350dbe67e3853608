import DoerStore
import Hummingbird

/// Which sessions a caller may reach: only their own. Every other id, existing or not,
/// is the same 404, so other users' sessions cannot even be told to exist.
struct SessionOwnership: Sendable {
    let store: SessionStore
    let access: AccessStore

    /// The session `:id` if the caller owns it.
    func owned(_ context: ServerRequestContext) throws -> SessionRecord {
        let user = try context.requireUser()
        let id = try context.parameters.require("id")
        let missing = ServerError.notFound("no session \(id)")
        guard try access.owner(ofSession: id) == user else { throw missing }
        guard let record = try? store.session(id), record.id == id else { throw missing }
        return record
    }
}
