/// What went wrong talking to a model, with what a person can do about it.
public enum ModelError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The key was missing, wrong or lacks access.
    case authentication(provider: String, detail: String)
    /// Too many requests; `retryAfterSeconds` when the server said.
    case rateLimited(provider: String, retryAfterSeconds: Double?)
    /// The prompt does not fit the model's context window.
    case contextTooLong(provider: String, detail: String)
    /// Nothing listens at the endpoint.
    case connectionRefused(url: String)
    /// The host could not be found or reached at all.
    case unreachable(url: String, reason: String)
    case timedOut(url: String, seconds: Double)
    /// The server answered with an error status.
    case server(provider: String, status: Int, detail: String)
    /// The server's answer could not be understood.
    case invalidResponse(provider: String, detail: String)
    /// The local model or its server is not installed or did not start.
    case localModelUnavailable(String)
    case configuration(String)
    case cancelled

    public var description: String {
        switch self {
        case .authentication(let provider, let detail):
            return "\(provider) rejected the API key (\(detail)); check the key in config.toml or the environment"
        case .rateLimited(let provider, let retryAfter):
            let wait = retryAfter.map { " (the server asks to wait \(Int($0.rounded(.up))) s)" } ?? ""
            return "\(provider) is rate limiting requests\(wait); retry later or lower --candidates"
        case .contextTooLong(let provider, let detail):
            return "the prompt is longer than the \(provider) model's context window: \(detail)"
        case .connectionRefused(let url):
            return "nothing answers at \(url); is the model server running? (`doer model status`)"
        case .unreachable(let url, let reason):
            return "cannot reach \(url) (\(reason)); check the base URL and the network"
        case .timedOut(let url, let seconds):
            return "no answer from \(url) within \(Int(seconds)) s"
        case .server(let provider, let status, let detail):
            return "\(provider) answered HTTP \(status): \(detail)"
        case .invalidResponse(let provider, let detail):
            return "could not understand \(provider)'s answer: \(detail)"
        case .localModelUnavailable(let detail):
            return "the local model is unavailable: \(detail)"
        case .configuration(let detail):
            return "model configuration: \(detail)"
        case .cancelled:
            return "cancelled"
        }
    }

    /// Whether trying again later may help (before any output was streamed).
    public var isRetryable: Bool {
        switch self {
        case .rateLimited, .timedOut: return true
        case .server(_, let status, _): return status >= 500
        default: return false
        }
    }
}
