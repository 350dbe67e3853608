import ArgumentParser
import DoerBench
import DoerCore
import DoerLanguages
import DoerSandbox
import Foundation

extension BenchCommand {
    struct Languages: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "languages",
            abstract: "Per language: a hello-world run and a test run, cold and warm cache, in the sandbox and bare on the host."
        )

        @Option(name: .customLong("language"), help: "Only these languages (repeatable); default: every installed one.")
        var languages: [String] = []
        @Flag(help: "Print the figures as JSON (milliseconds).") var json = false

        func run() async throws {
            let options = try SandboxOptions.parse([])
            do {
                let configuration = try options.resolve().1
                let sandbox = try SandboxFactory(configuration: configuration).make()
                let cache = LanguageCache(configuration: configuration)
                let selected = languages.isEmpty ? LanguageCatalogue.all.filter(LanguageToolchains.isInstalled)
                    : try languages.map { name throws(DoerError) in try LanguageCatalogue.language(named: name) }
                let scratch = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("doer-bench-languages-\(getpid())")
                defer { try? FileManager.default.removeItem(at: scratch) }
                let rows = try await LanguageBenchmark(sandbox: sandbox, cache: cache, scratch: scratch)
                    .run(selected) { name in if !json { BenchSupport.progress(name) } }
                if json {
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
                    FileHandle.standardOutput.write(try encoder.encode(rows) + Data("\n".utf8))
                    return
                }
                func ms(_ v: Double) -> String { v >= 10_000 ? String(format: "%.1fs", v / 1000) : String(format: "%.0f", v) }
                print("milliseconds; sandbox / bare   hello cold        hello warm        tests cold        tests warm")
                for row in rows {
                    let cells = [
                        "\(ms(row.helloColdMs)) / \(ms(row.helloBareColdMs))", "\(ms(row.helloWarmMs)) / \(ms(row.helloBareWarmMs))",
                        "\(ms(row.testColdMs)) / \(ms(row.testBareColdMs))", "\(ms(row.testWarmMs)) / \(ms(row.testBareWarmMs))",
                    ]
                    let padded = cells.map { $0.padding(toLength: 18, withPad: " ", startingAt: 0) }.joined()
                    print(row.language.padding(toLength: 16, withPad: " ", startingAt: 0) + padded)
                    for problem in row.problems { print("    problem: \(problem)") }
                }
            } catch let error as DoerError {
                fail(error)
            }
        }
    }
}
