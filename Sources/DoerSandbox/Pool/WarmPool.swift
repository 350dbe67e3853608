import DoerCore
import Foundation

/// Sandboxes started ahead of time, each waiting in doer-sandbox-init with its
/// namespaces, mounts and cgroup in place, so a run pays only for handing over its
/// command. Each is used once; taking one starts a refill in the background.
///
/// Idle sandboxes hold processes, a cgroup and a folder under the staging root, and a
/// shape includes its workspace, so a server that gives every run a throw-away workspace
/// would pile them up. Hence three bounds:
/// - at most `capacity` idle sandboxes in all; storing one more ends those of the shape
///   used longest ago;
/// - a sandbox is kept only for the very workspace folder it was started for: one whose
///   workspace was removed (or replaced by another folder at the same path) is ended at
///   the next take or fill, and no fill starts or stores for a workspace that is gone;
/// - `shutDown()` ends every idle sandbox, waits for the fills under way, and lets no
///   more start, so nothing the pool made stays behind.
final class WarmPool: @unchecked Sendable {
    /// Idle sandboxes kept per shape.
    let size: Int
    /// Idle sandboxes kept in all, over every shape.
    let capacity: Int
    /// How many shapes' worth of sandboxes the pool keeps by default: a session works on
    /// one workspace with a few shapes (run, test, build); more is rarely reused.
    static let shapesKept = 4

    private struct Idle {
        let sandbox: PreparedSandbox
        let workspace: WorkspaceIdentity
    }

    private let lock = NSLock()
    private var ready: [SandboxShape: [Idle]] = [:]
    /// Shapes from least to most recently taken or filled; the first is evicted first.
    private var recency: [SandboxShape] = []
    private var filling: Set<SandboxShape> = []
    private var fillsUnderWay: [CheckedContinuation<Void, Never>] = []
    private weak var engine: SandboxEngine?
    private var drained = false

    init(size: Int, capacity: Int? = nil) {
        self.size = size
        self.capacity = max(size, capacity ?? size * Self.shapesKept)
    }

    func attach(_ engine: SandboxEngine) {
        self.engine = engine
    }

    /// A live waiting sandbox for this shape, if one is ready and was started for the
    /// workspace folder that is at the shape's path now.
    func take(_ shape: SandboxShape) -> PreparedSandbox? {
        let current = WorkspaceIdentity(path: shape.workspace)
        var found: PreparedSandbox?
        var stale: [PreparedSandbox] = []
        lock.lock()
        while let idle = ready[shape]?.popLast() {
            if idle.workspace == current, Self.isWaiting(idle.sandbox) {
                found = idle.sandbox
                break
            }
            stale.append(idle.sandbox)
        }
        if ready[shape]?.isEmpty == true { forget(shape) }
        lock.unlock()
        stale.forEach { $0.destroy() }
        return found
    }

    /// Starts sandboxes until `size` wait for this shape (none for a workspace that is gone).
    func fill(_ shape: SandboxShape) async {
        sweepGoneWorkspaces()
        guard let workspace = WorkspaceIdentity(path: shape.workspace), claimFill(shape) else { return }
        defer { releaseFill(shape) }
        while let engine, count(shape) < size {
            guard let prepared = try? engine.prepare(shape) else { return }
            guard prepared.waitUntilReady(timeoutMs: 10_000) else {
                prepared.destroy()
                return
            }
            // The workspace may have been removed while the sandbox started (a server
            // removes an execution's workspace as soon as its run is over).
            guard WorkspaceIdentity(path: shape.workspace) == workspace else {
                prepared.destroy()
                return
            }
            let (kept, evicted) = store(Idle(sandbox: prepared, workspace: workspace), for: shape)
            evicted.forEach { $0.destroy() }
            if !kept {
                prepared.destroy()
                return
            }
        }
    }

    /// Ends every waiting sandbox; fills under way end theirs as they finish. No more fills
    /// start afterwards.
    func drain() {
        lock.lock()
        drained = true
        let all = ready.values.flatMap { $0 }.map(\.sandbox)
        ready = [:]
        recency = []
        lock.unlock()
        all.forEach { $0.destroy() }
    }

    /// Drains, then waits until the fills under way have ended what they started, so the
    /// pool leaves no process, cgroup or folder behind.
    func shutDown() async {
        drain()
        await waitUntilFilled()
    }

    /// Idle sandboxes in all.
    var idleCount: Int {
        lock.lock()
        defer { lock.unlock() }
        return ready.values.reduce(0) { $0 + $1.count }
    }

    /// Idle sandboxes started for the workspace at `path`, over every shape.
    func idleCount(workspace path: String) -> Int {
        lock.lock()
        defer { lock.unlock() }
        return ready.filter { $0.key.workspace == path }.values.reduce(0) { $0 + $1.count }
    }

    /// The staging folders of the idle sandboxes (their workspace views).
    var idleFolders: [URL] {
        lock.lock()
        defer { lock.unlock() }
        return ready.values.flatMap { $0 }.compactMap { $0.sandbox.view?.directory }
    }

    /// Waits until no fill is under way.
    func waitUntilFilled() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            lock.lock()
            if filling.isEmpty {
                lock.unlock()
                continuation.resume()
            } else {
                fillsUnderWay.append(continuation)
                lock.unlock()
            }
        }
    }

    func putBackForTesting(_ prepared: PreparedSandbox, shape: SandboxShape) {
        guard let workspace = WorkspaceIdentity(path: shape.workspace) else { return }
        _ = store(Idle(sandbox: prepared, workspace: workspace), for: shape)
    }

    private func count(_ shape: SandboxShape) -> Int {
        lock.lock()
        defer { lock.unlock() }
        return ready[shape]?.count ?? 0
    }

    /// Keeps `idle` unless the pool is drained; to stay within `capacity` it gives back the
    /// sandboxes of the shapes used longest ago, for the caller to end outside the lock.
    private func store(_ idle: Idle, for shape: SandboxShape) -> (kept: Bool, evicted: [PreparedSandbox]) {
        lock.lock()
        defer { lock.unlock() }
        guard !drained else { return (false, []) }
        var evicted: [PreparedSandbox] = []
        var total = ready.values.reduce(0) { $0 + $1.count }
        while total >= capacity {
            guard let oldest = recency.first(where: { $0 != shape }) ?? (ready[shape]?.isEmpty == false ? shape : nil) else { break }
            var entries = ready[oldest] ?? []
            if oldest == shape {
                // Only this shape is left: its oldest sandbox makes room for the new one.
                evicted.append(entries.removeFirst().sandbox)
                ready[shape] = entries
                total -= 1
            } else {
                evicted += entries.map(\.sandbox)
                total -= entries.count
                forget(oldest)
            }
        }
        ready[shape, default: []].append(idle)
        touch(shape)
        return (true, evicted)
    }

    /// Ends the idle sandboxes of every shape whose workspace is gone or was replaced.
    private func sweepGoneWorkspaces() {
        lock.lock()
        let kept = ready
        lock.unlock()
        var gone: [SandboxShape] = []
        for (shape, entries) in kept {
            let current = WorkspaceIdentity(path: shape.workspace)
            if entries.contains(where: { $0.workspace != current }) { gone.append(shape) }
        }
        guard !gone.isEmpty else { return }
        var ended: [PreparedSandbox] = []
        lock.lock()
        for shape in gone {
            let current = WorkspaceIdentity(path: shape.workspace)
            let entries = ready[shape] ?? []
            ended += entries.filter { $0.workspace != current }.map(\.sandbox)
            let left = entries.filter { $0.workspace == current }
            if left.isEmpty { forget(shape) } else { ready[shape] = left }
        }
        lock.unlock()
        ended.forEach { $0.destroy() }
    }

    /// Called with the lock held.
    private func forget(_ shape: SandboxShape) {
        ready[shape] = nil
        recency.removeAll { $0 == shape }
    }

    /// Called with the lock held.
    private func touch(_ shape: SandboxShape) {
        recency.removeAll { $0 == shape }
        recency.append(shape)
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
        let waiting = filling.isEmpty ? fillsUnderWay : []
        if filling.isEmpty { fillsUnderWay = [] }
        lock.unlock()
        waiting.forEach { $0.resume() }
    }

    /// A pooled sandbox whose process already ended (killed, out of memory) is useless.
    private static func isWaiting(_ prepared: PreparedSandbox) -> Bool {
        var entry = pollfd(fd: prepared.process.pidfd, events: Int16(POLLIN), revents: 0)
        guard prepared.process.pidfd >= 0 else { return kill(prepared.process.pid, 0) == 0 }
        return poll(&entry, 1, 0) == 0
    }
}
