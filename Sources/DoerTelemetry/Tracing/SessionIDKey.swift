public import Instrumentation

/// The session a span belongs to, carried in the task's context from the session's span
/// down to the model calls and sandboxed runs made on its behalf.
public enum SessionIDKey: ServiceContextKey {
    public typealias Value = String
    public static var nameOverride: String? { "doer.session.id" }
}

extension ServiceContext {
    public var doerSessionID: String? {
        get { self[SessionIDKey.self] }
        set { self[SessionIDKey.self] = newValue }
    }
}

/// Span attribute names, one place for all.
enum SpanAttributeName {
    static let session = "doer.session.id"
    static let backend = "doer.sandbox.backend"
    static let provider = "doer.model.provider"
    static let language = "doer.language"
    static let candidate = "doer.candidate"
    static let iteration = "doer.iteration"
    static let outcome = "doer.outcome"
    static let exitCode = "process.exit.code"
}
