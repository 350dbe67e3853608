import Foundation

/// What the bench commands share: where this `doer` is, the progress line, column padding.
enum BenchSupport {
    /// This very executable, which the benchmarks that start `doer` run.
    static var doerExecutable: URL {
        URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0])
    }

    /// A step of a long benchmark, on standard error so the figures on standard output stay clean.
    static func progress(_ step: String) {
        FileHandle.standardError.write(Data("… \(step)\n".utf8))
    }
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
