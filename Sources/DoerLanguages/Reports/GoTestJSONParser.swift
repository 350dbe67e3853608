public import DoerCore
import Foundation

/// Reads `go test -json` / `go tool test2json` events.
public enum GoTestJSONParser {
    private struct Event: Decodable {
        var Action: String
        var Package: String?
        var Test: String?
        var Output: String?
        var Elapsed: Double?
    }

    public static func parse(_ text: String) -> ParsedTests {
        var order: [String] = []
        var outputs: [String: String] = [:]
        var finals: [String: Event] = [:]
        var packageOutput: [String: String] = [:]
        var packageFailed: [String] = []
        let decoder = JSONDecoder()
        for line in text.split(separator: "\n") where line.hasPrefix("{") {
            guard let event = try? decoder.decode(Event.self, from: Data(line.utf8)) else { continue }
            let package = event.Package ?? ""
            guard let test = event.Test else {
                if event.Action == "output" { packageOutput[package, default: ""] += event.Output ?? "" }
                if event.Action == "fail" { packageFailed.append(package) }
                continue
            }
            let key = package + "\u{0}" + test
            switch event.Action {
            case "run": if !order.contains(key) { order.append(key) }
            case "output": outputs[key, default: ""] += event.Output ?? ""
            case "pass", "fail", "skip":
                if !order.contains(key) { order.append(key) }
                finals[key] = event
            default: break
            }
        }
        var parsed = ParsedTests()
        let names = Set(order)
        for key in order {
            let parts = key.split(separator: "\u{0}", maxSplits: 1).map(String.init)
            let (package, test) = (parts[0], parts.count > 1 ? parts[1] : "")
            // A test with subtests is reported through them.
            if names.contains(where: { $0.hasPrefix(key + "/") }) { continue }
            let output = outputs[key] ?? ""
            guard let final = finals[key] else {
                parsed.tests.append(TestCaseResult(name: test, suite: package, status: .errored,
                                                   message: (output + (packageOutput[package] ?? "")).trimmedMessage()))
                continue
            }
            let status: TestCaseResult.Status
            switch final.Action {
            case "pass": status = .passed
            case "skip": status = .skipped
            default: status = output.contains("panic: ") ? .errored : .failed
            }
            let message = status == .failed || status == .errored ? cleaned(output) : nil
            parsed.tests.append(TestCaseResult(name: test, suite: package, status: status, message: message,
                                               durationMs: final.Elapsed.map { $0 * 1000 }))
        }
        // A package that failed without any failing test died outside the tests (init, TestMain, a crash).
        for package in packageFailed {
            let failedTests = parsed.tests.contains { $0.suite == package && $0.status != .passed && $0.status != .skipped }
            if !failedTests {
                parsed.crashes.append("\(package): " + cleaned(packageOutput[package] ?? "the test binary failed"))
            }
        }
        return parsed
    }

    private static func cleaned(_ output: String) -> String {
        output.split(separator: "\n").filter { line in
            let t = line.trimmingCharacters(in: .whitespaces)
            return !t.hasPrefix("=== RUN") && !t.hasPrefix("--- FAIL") && !t.hasPrefix("--- PASS") && t != "FAIL"
                && !t.hasPrefix("=== PAUSE") && !t.hasPrefix("=== CONT") && !t.hasPrefix("exit status")
        }.joined(separator: "\n").trimmedMessage()
    }
}
