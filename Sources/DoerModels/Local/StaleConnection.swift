import DoerCore

/// llama-server answers a streamed request with `Keep-Alive` and then closes the
/// connection anyway. The HTTP client's pool may hand that dead connection to the next
/// request, which then fails before any answer; sending it again on a fresh connection is
/// safe (curl does the same: "Connection died, retrying a fresh connect").
enum StaleConnection {
    static let markers = ["remoteConnectionClosed", "I/O on closed channel", "ioOnClosedChannel", "Connection reset by peer"]

    static func matches(_ error: any Error) -> Bool {
        if let modelError = error as? ModelError {
            guard case .invalidResponse(_, let detail) = modelError else { return false }
            return markers.contains { detail.contains($0) }
        }
        let text = String(describing: error)
        return markers.contains { text.contains($0) }
    }
}
