import DoerCore
@testable import DoerModels
import DoerProcess
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// One throwaway data directory for the suite, sharing the model installed by the set-up
/// (`doer model install`, which `scripts/setup.sh` runs) instead of copying it; and the
/// servers the suite starts, all stopped when it ends, whatever happened.
final class LocalServerFixture: Sendable {
    @TaskLocal static var current: LocalServerFixture?

    let home: URL
    let locations: LocalModelLocations
    let server: LocalModelServer
    let provider: LocalModelProvider
    let options = LocalServerOptions(parallel: 4, contextPerSlot: 2048, startTimeoutSeconds: 180)
    private let started = LocalLocked<Set<Int32>>([])

    init() throws {
        home = FileManager.default.temporaryDirectory.appendingPathComponent("doer-local-model-\(UUID().uuidString)")
        // The model comes from where the set-up installed it: DOER_MODELS_DIR, or the data
        // directory of this environment. Everything else lives in `home`.
        let shared = LocalModelLocations()
        locations = LocalModelLocations(directories: DataDirectory(environment: ["DOER_HOME": home.path]),
                                        modelsDirectory: shared.models)
        server = LocalModelServer(locations: locations)
        var settings = ModelSettings()
        settings.localSize = "0.5b"
        settings.requestTimeoutSeconds = 120
        provider = LocalModelProvider(settings: settings, locations: locations, options: options)
    }

    /// Remembers a server so that cleanup kills it even if the state file lost track of it.
    func note(_ state: LocalServerState) {
        started.withLock { _ = $0.insert(state.pid) }
    }

    func currentState() -> LocalServerState? {
        let state = LocalServerState.read(locations.serverState)
        if let state { note(state) }
        return state
    }

    func cleanUp() async {
        if let state = currentState() { note(state) }
        _ = try? await server.stop(graceSeconds: 3)
        for pid in started.withLock({ $0 }) where DetachedProcess.isRunning(pid) {
            kill(pid, SIGKILL)
            _ = DetachedProcess.isRunning(pid)
        }
        try? FileManager.default.removeItem(at: home)
    }
}

/// Wraps the whole suite once: sets up the fixture, and stops every server afterwards.
struct LocalServerScope: SuiteTrait, TestScoping {
    func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        let fixture = try LocalServerFixture()
        let installer = LocalModelInstaller(locations: fixture.locations)
        // The stamp makes this a `stat`, not a 500 MB hash, on every run.
        guard try await installer.installedModel(size: "0.5b") != nil else {
            await fixture.cleanUp()
            throw ModelError.localModelUnavailable(
                "the 0.5b model is not installed in \(fixture.locations.models.path); run `doer model install` "
                    + "(scripts/setup.sh does) or point DOER_MODELS_DIR at an installed model")
        }
        do {
            try await LocalServerFixture.$current.withValue(fixture) { try await function() }
        } catch {
            await fixture.cleanUp()
            throw error
        }
        await fixture.cleanUp()
    }
}

/// A tiny lock-protected value (Synchronization's Mutex needs macOS 15 at run time, this doesn't).
final class LocalLocked<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func withLock<T>(_ body: (inout Value) -> T) -> T { lock.withLock { body(&value) } }
}

private func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

@Suite("Local model on the real llama-server", .serialized, LocalServerScope())
struct LocalModelTests {
    var fixture: LocalServerFixture { LocalServerFixture.current! }

    func request(_ prompt: String, maxTokens: Int) -> ModelRequest {
        ModelRequest(messages: [.system("You are a concise assistant."), .user(prompt)], temperature: 0, maxTokens: maxTokens)
    }

    /// Polls `/slots` until no slot is busy, for at most `timeout` seconds.
    func waitForIdleSlots(port: Int, timeout: Double = 15) async throws -> [LocalServerProbe.Slot] {
        let deadline = ContinuousClock.now + .seconds(timeout)
        var slots = try await LocalServerProbe.slots(port: port)
        while slots.contains(where: \.isProcessing), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
            slots = try await LocalServerProbe.slots(port: port)
        }
        return slots
    }

    @Test("a streamed completion: several text deltas, usage, finish reason")
    func streamedCompletion() async throws {
        let started = ContinuousClock.now
        let state = try await fixture.provider.prepare()
        fixture.note(state)
        let ready = ContinuousClock.now
        var texts: [String] = []
        var usage: TokenUsage?
        var finish: FinishReason?
        var firstText: ContinuousClock.Instant?
        for try await delta in fixture.provider.stream(request("Write a Python function that adds two numbers.", maxTokens: 40)) {
            switch delta {
            case .text(let piece, let choice):
                #expect(choice == 0)
                if firstText == nil { firstText = .now }
                texts.append(piece)
            case .usage(let reported): usage = reported
            case .finished(let reason, _): finish = reason
            case .toolCall: Issue.record("unexpected tool call")
            }
        }
        let end = ContinuousClock.now
        #expect(texts.count >= 5, "expected several text deltas, got \(texts.count)")
        #expect(!texts.joined().isEmpty)
        let reported = try #require(usage)
        #expect(reported.promptTokens > 10)
        #expect(reported.completionTokens > 0 && reported.completionTokens <= 40)
        #expect(finish == .length || finish == .stop)
        let generation = seconds(end - (firstText ?? ready))
        print(String(format: "local model: server ready in %.2f s; %d prompt + %d completion tokens, %.1f tokens/s after the first",
                     seconds(ready - started), reported.promptTokens, reported.completionTokens,
                     Double(max(reported.completionTokens - 1, 0)) / max(generation, 0.001)))
    }

    @Test("cancelling mid-stream ends it promptly, frees the slot, and the server serves the next request")
    func cancellation() async throws {
        let state = try await fixture.provider.prepare()
        fixture.note(state)
        let (firstDeltas, signal) = AsyncStream<Void>.makeStream()
        let provider = fixture.provider
        let request = request("Count from 1 to 400, one number per line.", maxTokens: 600)
        let consumer = Task { () -> (texts: Int, error: (any Error)?) in
            // Also ends the wait below when the stream fails before its third delta.
            defer { signal.finish() }
            var texts = 0
            do {
                for try await delta in provider.stream(request) {
                    if case .text = delta {
                        texts += 1
                        if texts == 3 { signal.yield() }
                    }
                }
                return (texts, nil)
            } catch {
                return (texts, error)
            }
        }
        var started = false
        for await _ in firstDeltas {
            started = true
            break
        }
        let cancelledAt = ContinuousClock.now
        consumer.cancel()
        let outcome = await consumer.value
        try #require(started, "the stream ended before its third delta: \(outcome.error.map { String(describing: $0) } ?? "no error")")
        let stoppedAfter = seconds(ContinuousClock.now - cancelledAt)
        #expect(stoppedAfter < 2, "the stream took \(stoppedAfter) s to end after cancellation")
        #expect(outcome.texts < 100, "the stream went on after cancellation (\(outcome.texts) deltas)")
        if let error = outcome.error {
            #expect((error as? ModelError) == .cancelled || error is CancellationError, "ended with \(error)")
        }

        let slots = try await waitForIdleSlots(port: state.port)
        #expect(slots.count == 4)
        let busy = slots.filter(\.isProcessing)
        #expect(busy.isEmpty, "a slot is still busy after the cancelled request: \(busy)")
        #expect(await LocalServerProbe.health(port: state.port) == .ok)
        let next = try await provider.complete(self.request("Say OK.", maxTokens: 8))
        #expect(next.finishReason != nil)
        #expect(next.usage.completionTokens > 0)
        #expect(fixture.currentState()?.pid == state.pid, "cancellation must not restart the server")
    }

    @Test("back-to-back requests succeed although llama-server closes each streamed connection it says it keeps")
    func backToBack() async throws {
        fixture.note(try await fixture.provider.prepare())
        for index in 1...4 {
            let response = try await fixture.provider.complete(request("Say \(index).", maxTokens: 4))
            #expect(response.finishReason != nil)
        }
    }

    @Test("four concurrent streams all complete (one per slot)")
    func parallelRequests() async throws {
        let state = try await fixture.provider.prepare()
        fixture.note(state)
        let provider = fixture.provider
        let prompts = ["Name a sorting algorithm.", "What is 2 + 2?", "Name a prime number.", "Say hello in French."]
        let started = ContinuousClock.now
        let responses = try await withThrowingTaskGroup(of: ModelResponse.self) { group in
            for prompt in prompts {
                group.addTask { try await provider.complete(self.request(prompt, maxTokens: 24)) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let elapsed = seconds(ContinuousClock.now - started)
        #expect(responses.count == 4)
        for response in responses {
            #expect(!response.text.isEmpty)
            #expect(response.finishReason == .stop || response.finishReason == .length)
            #expect(response.usage.completionTokens > 0)
        }
        let tokens = responses.map(\.usage.completionTokens).reduce(0, +)
        print(String(format: "local model: 4 parallel streams, %d completion tokens in %.2f s (%.1f tokens/s together)",
                     tokens, elapsed, Double(tokens) / elapsed))
        let busy = try await waitForIdleSlots(port: state.port).filter(\.isProcessing)
        #expect(busy.isEmpty)
    }

    @Test("a second provider (another Doer process would do the same) reuses the running server")
    func sharedServer() async throws {
        let state = try await fixture.provider.prepare()
        fixture.note(state)
        var settings = ModelSettings()
        settings.localSize = "0.5b"
        let other = LocalModelProvider(settings: settings, locations: fixture.locations, options: fixture.options)
        let otherState = try await other.prepare()
        #expect(otherState.pid == state.pid)
        #expect(otherState.port == state.port)
        let status = await fixture.server.status()
        #expect(status.running && status.health == .ok && status.slots.count == 4)
    }

    @Test("two providers starting the server at once start one (the lock file serialises them)")
    func concurrentStart() async throws {
        try await fixture.server.stop(graceSeconds: 3)
        var settings = ModelSettings()
        settings.localSize = "0.5b"
        let first = LocalModelProvider(settings: settings, locations: fixture.locations, options: fixture.options)
        let second = LocalModelProvider(settings: settings, locations: fixture.locations, options: fixture.options)
        async let a = first.prepare()
        async let b = second.prepare()
        let (stateA, stateB) = try await (a, b)
        fixture.note(stateA)
        fixture.note(stateB)
        #expect(stateA.pid == stateB.pid)
        #expect(fixture.currentState()?.pid == stateA.pid)
    }

    @Test("a server killed with SIGKILL is restarted by the next request, on a new pid")
    func restartAfterKill() async throws {
        let before = try await fixture.provider.prepare()
        fixture.note(before)
        #expect(kill(before.pid, SIGKILL) == 0)
        let deadline = ContinuousClock.now + .seconds(5)
        while DetachedProcess.isRunning(before.pid), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(!DetachedProcess.isRunning(before.pid))

        let started = ContinuousClock.now
        let response = try await fixture.provider.complete(request("Say OK.", maxTokens: 8))
        #expect(response.finishReason != nil)
        let after = try #require(fixture.currentState())
        #expect(after.pid != before.pid)
        #expect(fixture.server.isServer(after))
        print(String(format: "local model: restarted after SIGKILL and answered in %.2f s", seconds(ContinuousClock.now - started)))
    }

    @Test("stop ends the server and removes the state file; the next request starts it again")
    func stopAndStart() async throws {
        let state = try await fixture.provider.prepare()
        fixture.note(state)
        let stopped = try await fixture.server.stop(graceSeconds: 5)
        #expect(stopped?.pid == state.pid)
        #expect(!DetachedProcess.isRunning(state.pid))
        #expect(!FileManager.default.fileExists(atPath: fixture.locations.serverState.path))
        #expect(try await fixture.server.stop() == nil)

        let response = try await fixture.provider.complete(request("Say OK.", maxTokens: 8))
        #expect(response.finishReason != nil)
        #expect(fixture.currentState().map { $0.pid != state.pid } == true)
    }
}
