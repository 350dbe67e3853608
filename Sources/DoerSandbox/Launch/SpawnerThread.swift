import Foundation

/// The one thread every sandbox is started from.
///
/// bubblewrap's `--die-with-parent` is `PR_SET_PDEATHSIG`, which fires when the *thread*
/// that forked bwrap exits, not the process. Swift concurrency and Dispatch retire idle
/// worker threads after a few seconds, and that SIGKILLed any sandbox still running then
/// (a SwiftPM build, a slow test suite, a warm-pool sandbox waiting for work). This thread
/// never exits, so a sandbox dies with Doer and not before.
final class SpawnerThread: @unchecked Sendable {
    static let shared = SpawnerThread()

    private let condition = NSCondition()
    private var jobs: [() -> Void] = []
    private var thread: Thread?

    private init() {
        let thread = Thread { [unowned self] in self.loop() }
        thread.name = "doer.sandbox.spawner"
        thread.stackSize = 512 << 10
        self.thread = thread
        thread.start()
    }

    /// Runs `body` on the spawner thread and waits for it (a spawn takes about a millisecond).
    func perform<T>(_ body: @escaping () -> T) -> T {
        if Thread.current == thread { return body() }
        var result: T?
        let done = DispatchSemaphore(value: 0)
        condition.lock()
        jobs.append {
            result = body()
            done.signal()
        }
        condition.signal()
        condition.unlock()
        done.wait()
        return result!
    }

    private func loop() {
        while true {
            condition.lock()
            while jobs.isEmpty { condition.wait() }
            let job = jobs.removeFirst()
            condition.unlock()
            job()
        }
    }
}
