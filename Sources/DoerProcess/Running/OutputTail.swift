/// The last `limit` bytes a stream printed: memory stays bounded whatever a program
/// prints, and what is kept is the end, where a failure says what went wrong.
struct OutputTail: Sendable {
    let limit: Int
    private(set) var bytes: [UInt8] = []
    private(set) var truncated = false

    init(limit: Int) {
        self.limit = max(0, limit)
    }

    mutating func append(_ chunk: UnsafeRawBufferPointer) {
        bytes.append(contentsOf: chunk)
        // Trimmed only once it is well past the limit, so appending stays linear.
        if bytes.count > limit * 2 + 65_536 { trim() }
    }

    mutating func trim() {
        guard bytes.count > limit else { return }
        bytes.removeFirst(bytes.count - limit)
        truncated = true
    }

    /// The kept bytes as text; a character cut in half at the front is dropped.
    var text: String {
        var tail = self
        tail.trim()
        var kept = tail.bytes[...]
        if tail.truncated {
            while let first = kept.first, first & 0b1100_0000 == 0b1000_0000 { kept = kept.dropFirst() }
        }
        return String(decoding: kept, as: UTF8.self)
    }

    var isTruncated: Bool { truncated || bytes.count > limit }
}
