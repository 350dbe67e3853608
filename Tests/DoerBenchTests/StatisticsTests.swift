@testable import DoerBench
import Testing

@Suite("Statistics")
struct StatisticsTests {
    @Test("percentiles interpolate between ranks; the median of an even count is the mean of the middle two")
    func percentiles() throws {
        #expect(Statistics.median([3, 1, 2]) == 2)
        #expect(Statistics.median([4, 1, 3, 2]) == 2.5)
        #expect(Statistics.percentile([10, 20, 30, 40, 50], 0.9) == 46)
        #expect(Statistics.percentile([5, 1], 0) == 1)
        #expect(Statistics.percentile([5, 1], 1) == 5)
        #expect(Statistics.percentile([7], 0.99) == 7)
        // Out-of-range quantiles are clamped rather than read past the ends.
        #expect(Statistics.percentile([1, 2, 3], 1.5) == 3)
        #expect(Statistics.percentile([1, 2, 3], -1) == 1)
    }

    @Test("no samples give no figure, not zero or a crash")
    func empty() {
        #expect(Statistics.median([]) == nil)
        #expect(Statistics.percentile([], 0.99) == nil)
        #expect(Statistics.mean([]) == nil)
        #expect(Statistics.mean([1, 2, 6]) == 3)
    }

    @Test("every benchmark's median is this one")
    func sharedBySeries() {
        let series = SandboxBenchmark.Series(name: "s", samplesMs: [4, 1, 3, 2])
        #expect(series.p50 == 2.5)
        #expect(SandboxBenchmark.Series(name: "e", samplesMs: []).p50.isNaN)
        #expect(CLIBenchmark.Series(name: "c", command: "x", samplesMs: [4, 1, 3, 2]).median == 2.5)
        #expect(ServerBenchmark.Series(name: "v", samplesMs: [1, 2, 3, 4, 5]).percentile(1) == 5)
    }
}
