import DoerCore
@testable import DoerLanguages
import Testing

@Suite("build steps and the disk limit")
struct BuildDiskLimitTests {
    @Test("a build gets more time, memory and processes, but the run's own disk limit", arguments: [
        Int64(8 << 20), 64 << 20, 1 << 30, 8 << 30,
    ])
    func diskIsNotRaised(_ disk: Int64) {
        var limits = ResourceLimits()
        limits.diskBytes = disk
        let build = LanguageStepRunner.buildLimits(limits)
        #expect(build.diskBytes == disk)
        #expect(build.effectiveFileSizeBytes.map { $0 <= disk } == true)
        #expect(build.wallClockSeconds >= 300)
        #expect(build.memoryBytes.map { $0 >= 2 << 30 } == true)
    }

    @Test("no disk limit stays none")
    func none() {
        var limits = ResourceLimits()
        limits.diskBytes = nil
        #expect(LanguageStepRunner.buildLimits(limits).diskBytes == nil)
    }
}
