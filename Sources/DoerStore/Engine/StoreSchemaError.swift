/// A database whose schema this version of Doer cannot use.
enum StoreSchemaError: Error, CustomStringConvertible {
    case newer(store: String, found: String, known: String)

    var description: String {
        switch self {
        case .newer(let store, let found, let known):
            return "\(store) has schema \(found), newer than this doer knows (\(known)); "
                + "a newer doer wrote it: upgrade doer on this host, or point it at another store"
        }
    }
}
