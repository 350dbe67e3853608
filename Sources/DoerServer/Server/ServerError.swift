import HTTPTypes
public import Hummingbird

/// Errors of the API, each with its HTTP status and a message that says what to do.
public enum ServerError: Error, Sendable, HTTPResponseError {
    case badRequest(String)
    case notFound(String)
    case conflict(String)
    case unavailable(String)
    /// The caller has as much under way as one caller may.
    case tooManyRequests(String)

    public var status: HTTPResponse.Status {
        switch self {
        case .badRequest: .badRequest
        case .notFound: .notFound
        case .conflict: .conflict
        case .unavailable: .serviceUnavailable
        case .tooManyRequests: .tooManyRequests
        }
    }

    public var message: String {
        switch self {
        case .badRequest(let m), .notFound(let m), .conflict(let m), .unavailable(let m), .tooManyRequests(let m): m
        }
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        try HTTPError(status, message: message).response(from: request, context: context)
    }
}
