import ArgumentParser
import DoerBench
import DoerCore
import Foundation

extension BenchCommand {
    /// `doer bench cli`: the measuring is `CLIBenchmark`'s; this parses the count and prints.
    struct CLI: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "cli",
            abstract: "Start-up of `doer --version` against a C hello-world, and `doer sandbox -- /bin/true` against raw bwrap, in one run.",
            discussion: "Both yardsticks are built and measured here: a C program compiled with cc, and a shell script running bwrap with the namespaces and mounts Doer uses. Runs take turns, one of each per round; figures are medians."
        )

        @Option(help: "Timed runs of each command.") var iterations = 50
        @Flag(help: "Print the figures as JSON (milliseconds).") var json = false

        func validate() throws {
            guard iterations > 0 else { throw ValidationError("--iterations must be positive") }
        }

        func run() async throws {
            let options = try SandboxOptions.parse([])
            do {
                let configuration = try options.resolve().1
                let report = try CLIBenchmark(doer: BenchSupport.doerExecutable, configuration: configuration, iterations: iterations)
                    .run { step in if !json { BenchSupport.progress(step) } }
                if json {
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.sortedKeys]
                    FileHandle.standardOutput.write(try encoder.encode(report) + Data("\n".utf8))
                    return
                }
                print("series              median ms   command")
                for series in report.series {
                    print(series.name.padding(toLength: 18, withPad: " ", startingAt: 0)
                          + String(format: "%.2f", series.median).leftPadded(11) + "   " + series.command)
                }
                for comparison in report.comparisons {
                    print(String(format: "%@ / %@: %.2f× (goal: %.0f× or less)%@", comparison.measured, comparison.yardstick,
                                 comparison.ratio, comparison.goal, comparison.met ? "" : " — not met"))
                }
                report.notes.forEach { print("note: \($0)") }
            } catch let error as DoerError {
                fail(error)
            }
        }
    }
}
