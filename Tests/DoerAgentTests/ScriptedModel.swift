import DoerCore
import DoerModels
@testable import DoerAgent
import Foundation
import NIOConcurrencyHelpers

/// A deterministic in-process model: each candidate (told apart by the seed the agent
/// gives it) answers with its next scripted reply. A reply of `ScriptedModel.hang` streams
/// a little and then waits until cancelled.
final class ScriptedModel: ModelProvider, @unchecked Sendable {
    static let hang = "<<hang>>"
    /// A reply of this prefix and a JSON array of {name, arguments} is sent as tool calls.
    static let toolsPrefix = "<<tools>>"
    let name = "scripted"
    private let replies: NIOLockedValueBox<[Int: [String]]>
    private let requests = NIOLockedValueBox<[ModelRequest]>([])
    private let cancellations = NIOLockedValueBox(0)
    let baseSeed: Int

    init(baseSeed: Int = 1, replies: [Int: [String]]) {
        self.baseSeed = baseSeed
        self.replies = NIOLockedValueBox(replies)
    }

    var recordedRequests: [ModelRequest] { requests.withLockedValue { $0 } }
    /// The candidates' own turns: every request but those for the test written apart.
    var candidateRequests: [ModelRequest] {
        recordedRequests.filter { !PromptBuilder.isIndependentTestSystem($0.messages.first?.content) }
    }
    var cancelledStreams: Int { cancellations.withLockedValue { $0 } }

    func stream(_ request: ModelRequest) -> AsyncThrowingStream<ModelDelta, any Error> {
        requests.withLockedValue { $0.append(request) }
        let candidate = ((request.seed ?? baseSeed) - baseSeed) / 1000
        let reply = replies.withLockedValue { all -> String in
            guard var list = all[candidate], !list.isEmpty else { return "I have nothing more to say." }
            let next = list.removeFirst()
            all[candidate] = list.isEmpty ? [next] : list
            return next
        }
        let cancellations = cancellations
        return AsyncThrowingStream { continuation in
            let task = Task {
                if reply == Self.hang {
                    continuation.yield(.text("thinking"))
                    do {
                        try await Task.sleep(for: .seconds(600))
                    } catch {
                        cancellations.withLockedValue { $0 += 1 }
                        continuation.finish(throwing: ModelError.cancelled)
                        return
                    }
                }
                if reply.hasPrefix(Self.toolsPrefix),
                   let calls = try? JSONSerialization.jsonObject(with: Data(reply.dropFirst(Self.toolsPrefix.count).utf8)) as? [[String: String]] {
                    // Native tool calls, each split in two fragments as providers stream them.
                    for (index, call) in calls.enumerated() {
                        let arguments = call["arguments"] ?? "{}"
                        let half = arguments.index(arguments.startIndex, offsetBy: arguments.count / 2)
                        continuation.yield(.toolCall(index: index, id: "call_\(index)", name: call["name"], argumentsFragment: String(arguments[..<half])))
                        continuation.yield(.toolCall(index: index, id: nil, name: nil, argumentsFragment: String(arguments[half...])))
                    }
                    continuation.yield(.finished(.toolCalls))
                    continuation.finish()
                    return
                }
                // Stream in small pieces, as a real server does.
                var rest = Substring(reply)
                while !rest.isEmpty {
                    continuation.yield(.text(String(rest.prefix(17))))
                    rest = rest.dropFirst(17)
                }
                continuation.yield(.usage(TokenUsage(promptTokens: 100, completionTokens: reply.count / 4)))
                continuation.yield(.finished(.stop))
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}

enum Replies {
    static func files(_ files: [String: String], prose: String = "Here is the code.") -> String {
        prose + "\n\n" + files.sorted { $0.key < $1.key }.map { "```file \($0.key)\n\($0.value)```\n" }.joined(separator: "\n")
    }

    static let test = "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n    assert add(-1, 1) == 0\n"
    static let wrong = "def add(a, b):\n    return a - b\n"
    static let right = "def add(a, b):\n    return a + b\n"

    /// The candidate number the scripted model sees for the writer of the test a pass shown
    /// only by the model's own tests must also pass (`IndependentTest`: the run's seed less 2000).
    static let independentWriter = -2
    /// That writer's test of "add(a, b) in calc.py".
    static let addCheck = Replies.files(["test_request_check.py": "from calc import add\n\n\ndef test_adds():\n    assert add(4, 5) == 9\n"])
    /// That writer's test of "spread is the largest value minus the smallest".
    static let spreadCheck = Replies.files(["test_spread_check.py": "from stats import spread\n\n\ndef test_largest_minus_smallest():\n    assert spread([2, 9, 4]) == 7\n"])
}
