import DoerCore
import Testing

@Suite("sizes")
struct ByteSizeTests {
    @Test("sizes as people write them", arguments: [
        ("512m", Int64(512) << 20), ("2g", Int64(2) << 30), ("64k", Int64(64) << 10), ("1048576", Int64(1048576)),
        ("1.5g", Int64(3) << 29), ("256MiB", Int64(256) << 20), (" 8M ", Int64(8) << 20), ("100b", Int64(100)),
    ])
    func parses(text: String, bytes: Int64) throws {
        #expect(try ByteSize.parse(text) == bytes)
    }

    @Test("nonsense is refused with a hint", arguments: ["", "-5m", "0", "lots", "5x", "m", "1e30g", "nan"])
    func refuses(text: String) {
        do {
            _ = try ByteSize.parse(text)
            Issue.record("'\(text)' should not parse")
        } catch {
            guard case .invalidLimit(let message) = error else {
                Issue.record("wrong error \(error)")
                return
            }
            #expect(message.contains("512m") || message.contains("empty"))
        }
    }

    @Test("formatting picks the largest exact unit")
    func format() {
        #expect(ByteSize.format(512 << 20) == "512m")
        #expect(ByteSize.format(3 << 30) == "3g")
        #expect(ByteSize.format(1000) == "1000")
    }
}

@Suite("limits")
struct ResourceLimitsTests {
    @Test("the defaults are valid")
    func defaults() throws {
        try ResourceLimits().validate()
    }

    @Test("each nonsensical limit names itself", arguments: [
        (ResourceLimits(wallClockSeconds: .infinity), "timeout"),
        (ResourceLimits(wallClockSeconds: .nan), "timeout"),
        (ResourceLimits(cpuSeconds: 0), "CPU"),
        (ResourceLimits(memoryBytes: 100), "memory"),
        (ResourceLimits(processes: -1), "process"),
        (ResourceLimits(openFiles: 3), "open-file"),
        (ResourceLimits(fileSizeBytes: 0), "file-size"),
        (ResourceLimits(tmpSizeBytes: 10), "/tmp"),
        (ResourceLimits(outputBytes: 1), "output"),
    ])
    func invalid(limits: ResourceLimits, word: String) {
        #expect {
            try limits.validate()
        } throws: { error in
            "\(error)".contains(word)
        }
    }
}
