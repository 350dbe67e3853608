import DoerCore
@testable import DoerSandbox
import Foundation
import Testing

@Suite("output capture")
struct HeadTailBufferTests {
    func feed(_ buffer: inout HeadTailBuffer, _ bytes: [UInt8]) {
        bytes.withUnsafeBytes { buffer.append($0) }
    }

    @Test("short output is kept whole")
    func short() {
        var buffer = HeadTailBuffer(capacity: 100)
        feed(&buffer, Array("hello".utf8))
        #expect(buffer.captured.text == "hello")
        #expect(!buffer.captured.truncated)
    }

    @Test("long output keeps head and tail and says how much was cut")
    func long() {
        var buffer = HeadTailBuffer(capacity: 10)
        for chunk in stride(from: 0, to: 1000, by: 7) {
            feed(&buffer, (chunk..<min(chunk + 7, 1000)).map { UInt8($0 % 251) })
        }
        let captured = buffer.captured
        #expect(captured.totalBytes == 1000)
        #expect(captured.head == Data((0..<5).map { UInt8($0) }))
        #expect(captured.tail == Data((995..<1000).map { UInt8($0 % 251) }))
        #expect(captured.omittedBytes == 990)
        #expect(captured.text.contains("[… 990 bytes cut …]"))
    }

    @Test("a chunk larger than the tail replaces it")
    func bigChunk() {
        var buffer = HeadTailBuffer(capacity: 8)
        feed(&buffer, Array(repeating: 1, count: 4))
        feed(&buffer, Array(0..<100))
        #expect(buffer.captured.tail == Data([96, 97, 98, 99]))
        #expect(buffer.captured.head == Data([1, 1, 1, 1]))
    }

    @Test("invalid UTF-8 becomes replacement characters, never a crash")
    func invalidUTF8() {
        var buffer = HeadTailBuffer(capacity: 64)
        feed(&buffer, [0x66, 0xff, 0xfe, 0x67])
        #expect(buffer.captured.text == "f\u{FFFD}\u{FFFD}g")
    }
}
