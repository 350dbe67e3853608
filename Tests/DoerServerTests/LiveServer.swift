import DoerServer
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

/// The harness's server listening on a loopback port and stopped the way `doer serve` stops
/// on SIGTERM (a graceful shutdown of its service group).
enum LiveServer {
    static func run<Value: Sendable>(_ harness: ServerHarness, _ body: @Sendable (Int) async throws -> Value) async throws -> Value {
        let (ports, port) = AsyncStream<Int>.makeStream()
        var logger = Logger(label: "doer.serve.test")
        logger.logLevel = .critical
        let app = harness.server.makeApplication(logger: logger) { channel in
            port.yield(channel.localAddress?.port ?? 0)
        }
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var iterator = ports.makeAsyncIterator()
            guard let listening = await iterator.next() else { throw CocoaError(.featureUnsupported) }
            do {
                let value = try await body(listening)
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
                return value
            } catch {
                await group.triggerGracefulShutdown()
                try? await tasks.waitForAll()
                throw error
            }
        }
    }
}
