import DoerCore
import Synchronization

/// When the bench posted the message that starts a live run.
final class PostedAt: Sendable {
    private let instant = Mutex<ContinuousClock.Instant?>(nil)

    func mark() {
        instant.withLock { $0 = .now }
    }

    func ms(until now: ContinuousClock.Instant) -> Double {
        instant.withLock { start in start.map { (now - $0).milliseconds } ?? 0 }
    }
}
