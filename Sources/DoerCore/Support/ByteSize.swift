import Foundation

/// Sizes as people write them: `512m`, `2g`, `64k`, `1048576`. Units are powers of 1024.
public enum ByteSize {
    public static func parse(_ text: String) throws(DoerError) -> Int64 {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        guard !trimmed.isEmpty else { throw .invalidLimit("empty size") }
        var digits = trimmed
        var multiplier: Int64 = 1
        for (suffixes, factor) in [(["kib", "kb", "k"], Int64(1) << 10), (["mib", "mb", "m"], 1 << 20),
                                   (["gib", "gb", "g"], 1 << 30), (["b"], 1)] {
            if let suffix = suffixes.first(where: { trimmed.hasSuffix($0) }) {
                digits = String(trimmed.dropLast(suffix.count))
                multiplier = factor
                break
            }
        }
        guard let value = Double(digits.trimmingCharacters(in: .whitespaces)), value.isFinite, value > 0,
              value * Double(multiplier) < 9.0e18 else {
            throw .invalidLimit("'\(text)' is not a size; write it like 512m, 2g or 65536")
        }
        return Int64(value * Double(multiplier))
    }

    public static func format(_ bytes: Int64) -> String {
        let units: [(Int64, String)] = [(1 << 30, "g"), (1 << 20, "m"), (1 << 10, "k")]
        for (factor, unit) in units where bytes >= factor && bytes % factor == 0 {
            return "\(bytes / factor)\(unit)"
        }
        return "\(bytes)"
    }
}
