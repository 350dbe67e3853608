import DoerCore
import Foundation

/// Sandboxes started ahead of time, each waiting in doer-sandbox-init with its
/// namespaces, mounts and cgroup in place, so a run pays only for handing over its
/// command. Each is used once; taking one starts a refill in the background.
final class WarmPool: @unchecked Sendable {
    let size: Int
    private let lock = NSLock()
    private var ready: [SandboxShape: [PreparedSandbox]] = [:]
    private var filling: Set<SandboxShape> = []
    private weak var engine: SandboxEngine?
    private var drained = false

    init(size: Int) {
        self.size = size
    }

    func attach(_ engine: SandboxEngine) {
        self.engine = engine
    }

    /// A live waiting sandbox for this shape, if one is ready.
    func take(_ shape: SandboxShape) -> PreparedSandbox? {
        while let candidate = pop(shape) {
            if Self.isWaiting(candidate) { return candidate }
            candidate.destroy()
        }
        return nil
    }

    /// Starts sandboxes until `size` wait for this shape.
    func fill(_ shape: SandboxShape) async {
        guard claimFill(shape) else { return }
        defer { releaseFill(shape) }
        while let engine, count(shape) < size {
            guard let prepared = try? engine.prepare(shape) else { return }
            guard prepared.waitUntilReady(timeoutMs: 10_000) else {
                prepared.destroy()
                return
            }
            if !store(prepared, for: shape) {
                prepared.destroy()
                return
            }
        }
    }

    /// Ends every waiting sandbox.
    func drain() {
        lock.lock()
        drained = true
        let all = ready.values.flatMap { $0 }
        ready = [:]
        lock.unlock()
        all.forEach { $0.destroy() }
    }

    func putBackForTesting(_ prepared: PreparedSandbox, shape: SandboxShape) {
        _ = store(prepared, for: shape)
    }

    private func pop(_ shape: SandboxShape) -> PreparedSandbox? {
        lock.lock()
        defer { lock.unlock() }
        return ready[shape]?.popLast()
    }

    private func count(_ shape: SandboxShape) -> Int {
        lock.lock()
        defer { lock.unlock() }
        return ready[shape]?.count ?? 0
    }

    private func store(_ prepared: PreparedSandbox, for shape: SandboxShape) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard !drained else { return false }
        ready[shape, default: []].append(prepared)
        return true
    }

    private func claimFill(_ shape: SandboxShape) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard !drained, !filling.contains(shape) else { return false }
        filling.insert(shape)
        return true
    }

    private func releaseFill(_ shape: SandboxShape) {
        lock.lock()
        filling.remove(shape)
        lock.unlock()
    }

    /// A pooled sandbox whose process already ended (killed, out of memory) is useless.
    private static func isWaiting(_ prepared: PreparedSandbox) -> Bool {
        var entry = pollfd(fd: prepared.process.pidfd, events: Int16(POLLIN), revents: 0)
        guard prepared.process.pidfd >= 0 else { return kill(prepared.process.pid, 0) == 0 }
        return poll(&entry, 1, 0) == 0
    }
}
