import Foundation

/// One server-sent event.
struct ServerSentEvent: Sendable, Hashable {
    var event: String?
    var data: String
}

/// Incremental parser for `text/event-stream`: bytes in (split anywhere, even inside a
/// UTF-8 sequence or a CRLF), events out.
struct ServerSentEventParser {
    private var pending = [UInt8]()
    private var event: String?
    private var dataLines: [String] = []
    private var lastWasCR = false

    mutating func feed(_ bytes: some Sequence<UInt8>) -> [ServerSentEvent] {
        var events: [ServerSentEvent] = []
        for byte in bytes {
            if lastWasCR {
                lastWasCR = false
                if byte == UInt8(ascii: "\n") { continue }
            }
            if byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") {
                lastWasCR = byte == UInt8(ascii: "\r")
                if let dispatched = line(String(decoding: pending, as: UTF8.self)) { events.append(dispatched) }
                pending.removeAll(keepingCapacity: true)
            } else {
                pending.append(byte)
            }
        }
        return events
    }

    /// Whatever is left when the stream ends without a final blank line.
    mutating func finish() -> [ServerSentEvent] {
        var events: [ServerSentEvent] = []
        if !pending.isEmpty, let dispatched = line(String(decoding: pending, as: UTF8.self)) { events.append(dispatched) }
        pending.removeAll()
        if let dispatched = line("") { events.append(dispatched) }
        return events
    }

    private mutating func line(_ text: String) -> ServerSentEvent? {
        if text.isEmpty {
            defer {
                event = nil
                dataLines = []
            }
            guard !dataLines.isEmpty else { return nil }
            return ServerSentEvent(event: event, data: dataLines.joined(separator: "\n"))
        }
        if text.hasPrefix(":") { return nil }
        let field: Substring, value: Substring
        if let colon = text.firstIndex(of: ":") {
            field = text[..<colon]
            var rest = text[text.index(after: colon)...]
            if rest.first == " " { rest = rest.dropFirst() }
            value = rest
        } else {
            field = text[...]
            value = ""
        }
        switch field {
        case "data": dataLines.append(String(value))
        case "event": event = String(value)
        default: break
        }
        return nil
    }
}
