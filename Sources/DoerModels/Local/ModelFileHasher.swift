import Crypto
import Dispatch
import Foundation

/// SHA-256 of a large file, read in chunks off the Swift concurrency pool, optionally also
/// of consecutive pieces of it (the parts the file was assembled from).
enum ModelFileHasher {
    struct Digests: Sendable {
        var whole: String
        /// Hex digests of the pieces, in order.
        var parts: [String]
        /// The same, as RECORD files write them: `sha256=<urlsafe base64, no padding>`.
        var partRecords: [String]
    }

    static let chunkSize = 4 << 20

    /// `partSizes` splits the file into pieces hashed on their own as well; their sum must
    /// be the file's size.
    static func hash(_ file: URL, partSizes: [Int64] = []) async throws -> Digests {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try hashBlocking(file, partSizes: partSizes) })
            }
        }
    }

    private static func hashBlocking(_ file: URL, partSizes: [Int64]) throws -> Digests {
        let handle = try FileHandle(forReadingFrom: file)
        defer { try? handle.close() }
        var whole = SHA256()
        var partDigests: [SHA256.Digest] = []
        var part = SHA256()
        var partIndex = 0
        var leftInPart = partSizes.first ?? 0
        while true {
            let chunk = try handle.read(upToCount: chunkSize) ?? Data()
            if chunk.isEmpty { break }
            whole.update(data: chunk)
            guard partIndex < partSizes.count else { continue }
            var offset = chunk.startIndex
            while offset < chunk.endIndex, partIndex < partSizes.count {
                let take = Int(min(Int64(chunk.endIndex - offset), leftInPart))
                part.update(data: chunk[offset..<(offset + take)])
                offset += take
                leftInPart -= Int64(take)
                if leftInPart == 0 {
                    partDigests.append(part.finalize())
                    part = SHA256()
                    partIndex += 1
                    leftInPart = partIndex < partSizes.count ? partSizes[partIndex] : 0
                }
            }
        }
        // Empty trailing pieces never see a byte.
        while partIndex < partSizes.count, leftInPart == 0 {
            partDigests.append(part.finalize())
            part = SHA256()
            partIndex += 1
            leftInPart = partIndex < partSizes.count ? partSizes[partIndex] : 0
        }
        return Digests(whole: hex(whole.finalize()), parts: partDigests.map(hex), partRecords: partDigests.map(record))
    }

    /// Hex and RECORD forms of the SHA-256 of `data` (small things: tests, fixtures).
    static func digest(of data: Data) -> (hex: String, record: String) {
        let digest = SHA256.hash(data: data)
        return (hex(digest), record(digest))
    }

    static func hex(_ digest: SHA256.Digest) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(64)
        for byte in digest {
            bytes.append(digits[Int(byte >> 4)])
            bytes.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func record(_ digest: SHA256.Digest) -> String {
        let base64 = Data(digest).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        return "sha256=" + base64
    }
}
