/// The summary figures every benchmark reports, computed one way so that a median in one
/// report means what it means in another.
public enum Statistics {
    /// The `q` quantile (0...1) by linear interpolation between the closest ranks (the
    /// definition of NumPy's and R's default); nil when there are no samples. The median of
    /// an even count is the mean of the two middle values.
    public static func percentile(_ values: [Double], _ q: Double) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let rank = min(max(q, 0), 1) * Double(sorted.count - 1)
        let low = Int(rank.rounded(.down)), high = Int(rank.rounded(.up))
        return sorted[low] + (sorted[high] - sorted[low]) * (rank - Double(low))
    }

    public static func median(_ values: [Double]) -> Double? { percentile(values, 0.5) }

    public static func mean(_ values: [Double]) -> Double? {
        values.isEmpty ? nil : values.reduce(0, +) / Double(values.count)
    }
}
