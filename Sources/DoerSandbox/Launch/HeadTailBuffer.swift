import Foundation
import DoerCore

/// Keeps the first and the last `capacity / 2` bytes of a stream of any length, so a
/// flood of output costs bounded memory and still shows how it began and how it ended.
struct HeadTailBuffer {
    private let headLimit: Int
    private let tailLimit: Int
    private var head = Data()
    private var tail = [UInt8]()
    private var tailStart = 0
    private(set) var totalBytes: Int64 = 0

    init(capacity: Int) {
        headLimit = max(capacity / 2, 1)
        tailLimit = max(capacity - headLimit, 1)
        tail.reserveCapacity(0)
    }

    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        totalBytes += Int64(bytes.count)
        var rest = bytes[...]
        if head.count < headLimit {
            let take = min(headLimit - head.count, rest.count)
            head.append(contentsOf: rest.prefix(take))
            rest = rest.dropFirst(take)
        }
        guard !rest.isEmpty else { return }
        // The tail is a ring of tailLimit bytes; tailStart is where its oldest byte sits.
        if rest.count >= tailLimit {
            tail = Array(rest.suffix(tailLimit))
            tailStart = 0
            return
        }
        for byte in rest {
            if tail.count < tailLimit {
                tail.append(byte)
            } else {
                tail[tailStart] = byte
                tailStart = (tailStart + 1) % tailLimit
            }
        }
    }

    var captured: CapturedOutput {
        let ordered = Data(tail[tailStart...] + tail[..<tailStart])
        return CapturedOutput(head: head, tail: ordered, totalBytes: totalBytes)
    }
}
