import Foundation

/// What a stream printed, capped: when it printed more than the cap, the head and the
/// tail are kept and `omittedBytes` says how much of the middle was cut.
public struct CapturedOutput: Sendable, Hashable, Codable {
    public var head: Data
    public var tail: Data
    public var totalBytes: Int64
    public var omittedBytes: Int64 { totalBytes - Int64(head.count + tail.count) }
    public var truncated: Bool { omittedBytes > 0 }

    public init(head: Data = Data(), tail: Data = Data(), totalBytes: Int64 = 0) {
        self.head = head
        self.tail = tail
        self.totalBytes = totalBytes
    }

    /// The bytes kept, with a marker where bytes were cut.
    public var data: Data {
        guard truncated else { return head + tail }
        return head + Data("\n[… \(omittedBytes) bytes cut …]\n".utf8) + tail
    }

    /// Text for people: invalid UTF-8 is replaced, never fatal.
    public var text: String { String(decoding: data, as: UTF8.self) }
}
