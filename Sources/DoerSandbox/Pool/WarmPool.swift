import DoerCore
import Foundation
import Synchronization

/// Sandboxes started ahead of time, each waiting in doer-sandbox-init with its
/// namespaces, mounts and cgroup in place, so a run pays only for handing over its
/// command. Taking one starts a refill in the background; a sandbox that served its run and
/// was reset clean comes back here (`giveBack`) for the next run of the same shape.
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
final class WarmPool: Sendable {
    /// Idle sandboxes started ahead of time per shape (0: none; the pool then holds only
    /// sandboxes given back after a run).
    let size: Int
    /// Idle sandboxes kept per shape, started ahead or given back.
    let keptPerShape: Int
    /// Idle sandboxes kept in all, over every shape.
    let capacity: Int
    /// How many shapes' worth of sandboxes the pool keeps by default: a session works on
    /// one workspace with a few shapes (run, test, build); more is rarely reused.
    static let shapesKept = 4

    private struct Idle {
        let sandbox: PreparedSandbox
        let workspace: WorkspaceIdentity
    }

    private struct State {
        var ready: [SandboxShape: [Idle]] = [:]
        /// Shapes from least to most recently taken or filled; the first is evicted first.
        var recency: [SandboxShape] = []
        var filling: Set<SandboxShape> = []
        var fillsUnderWay: [CheckedContinuation<Void, Never>] = []
        weak var engine: SandboxEngine?
        var drained = false

        mutating func forget(_ shape: SandboxShape) {
            ready[shape] = nil
            recency.removeAll { $0 == shape }
        }

        mutating func touch(_ shape: SandboxShape) {
            recency.removeAll { $0 == shape }
            recency.append(shape)
        }

        var idleCount: Int { ready.values.reduce(0) { $0 + $1.count } }
    }

    private let state = Mutex(State())
    private var engine: SandboxEngine? { state.withLock { $0.engine } }

    init(size: Int, capacity: Int? = nil, keptPerShape: Int? = nil, idleLimit: DispatchTimeInterval = .seconds(60)) {
        self.size = size
        self.idleLimit = idleLimit
        self.keptPerShape = max(size, keptPerShape ?? size, 1)
        self.capacity = max(self.keptPerShape, capacity ?? self.keptPerShape * Self.shapesKept)
    }

    func attach(_ engine: SandboxEngine) {
        state.withLock { $0.engine = engine }
    }

    /// A live waiting sandbox for this shape, if one is ready and was started for the
    /// workspace folder that is at the shape's path now.
    /// - Parameter acceptsUsed: whether a sandbox that served a run will do. One that did has
    ///   its standard input closed for good, so a run with input needs one never used.
    func take(_ shape: SandboxShape, acceptsUsed: Bool = true) -> PreparedSandbox? {
        let current = WorkspaceIdentity(path: shape.workspace)
        let (found, stale) = state.withLock { state -> (PreparedSandbox?, [PreparedSandbox]) in
            var stale: [PreparedSandbox] = []
            var passedOver: [Idle] = []
            defer {
                state.ready[shape, default: []].append(contentsOf: passedOver.reversed())
                if state.ready[shape]?.isEmpty == true { state.forget(shape) }
            }
            while let idle = state.ready[shape]?.popLast() {
                guard idle.workspace == current, Self.isWaiting(idle.sandbox), idle.sandbox.boundPathsUnchanged else {
                    stale.append(idle.sandbox)
                    continue
                }
                if !acceptsUsed && idle.sandbox.runsServed > 0 {
                    passedOver.append(idle)
                    continue
                }
                return (idle.sandbox, stale)
            }
            return (nil, stale)
        }
        stale.forEach { $0.destroy() }
        return found
    }

    /// Starts sandboxes until `size` wait for this shape (none for a workspace that is gone).
    func fill(_ shape: SandboxShape) async {
        sweepGoneWorkspaces()
        guard size > 0, let workspace = WorkspaceIdentity(path: shape.workspace), claimFill(shape) else { return }
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
        let all = state.withLock { state in
            state.drained = true
            defer {
                state.ready = [:]
                state.recency = []
            }
            return state.ready.values.flatMap { $0 }.map(\.sandbox)
        }
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
        state.withLock { $0.idleCount }
    }

    /// Idle sandboxes started for the workspace at `path`, over every shape.
    func idleCount(workspace path: String) -> Int {
        state.withLock { $0.ready.filter { $0.key.workspace == path }.values.reduce(0) { $0 + $1.count } }
    }

    /// The staging folders of the idle sandboxes (their workspace views).
    var idleFolders: [URL] {
        state.withLock { $0.ready.values.flatMap { $0 }.compactMap { $0.sandbox.view?.directory } }
    }

    /// Waits until no fill is under way.
    func waitUntilFilled() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = state.withLock { state in
                if state.filling.isEmpty { return true }
                state.fillsUnderWay.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }

    func putBackForTesting(_ prepared: PreparedSandbox, shape: SandboxShape) {
        guard let workspace = WorkspaceIdentity(path: shape.workspace) else { return }
        _ = store(Idle(sandbox: prepared, workspace: workspace), for: shape)
    }

    /// Keeps a sandbox that served a run and was reset, for the next run of its shape; ends
    /// it instead when the shape has its fill of idle sandboxes, the workspace folder is not
    /// the one it was started for, or the pool is drained.
    ///
    /// One not taken again within `idleLimit` is ended: between an agent's test runs there is
    /// a model's turn (seconds to a minute); past that, the sandbox only holds processes, a
    /// cgroup and a folder.
    func giveBack(_ prepared: PreparedSandbox, shape: SandboxShape, workspace: WorkspaceIdentity?) {
        guard let workspace, WorkspaceIdentity(path: shape.workspace) == workspace, count(shape) < keptPerShape else {
            prepared.destroy()
            return
        }
        let (kept, evicted) = store(Idle(sandbox: prepared, workspace: workspace), for: shape)
        evicted.forEach { $0.destroy() }
        guard kept else {
            prepared.destroy()
            return
        }
        let servedAt = prepared.runsServed
        Self.expiry.asyncAfter(deadline: .now() + idleLimit) { [weak self] in
            self?.expire(prepared, shape: shape, servedAt: servedAt)
        }
    }

    /// How long a sandbox given back waits for its next run.
    let idleLimit: DispatchTimeInterval
    private static let expiry = DispatchQueue(label: "doer.sandbox.pool.expiry")

    /// Ends `prepared` if it is still idle since it was given back after run `servedAt`.
    private func expire(_ prepared: PreparedSandbox, shape: SandboxShape, servedAt: Int) {
        let removed = state.withLock { state -> Bool in
            guard var entries = state.ready[shape], let index = entries.firstIndex(where: { $0.sandbox === prepared }),
                  prepared.runsServed == servedAt else { return false }
            entries.remove(at: index)
            if entries.isEmpty { state.forget(shape) } else { state.ready[shape] = entries }
            return true
        }
        if removed { prepared.destroy() }
    }

    private func count(_ shape: SandboxShape) -> Int {
        state.withLock { $0.ready[shape]?.count ?? 0 }
    }

    /// Keeps `idle` unless the pool is drained; to stay within `capacity` it gives back the
    /// sandboxes of the shapes used longest ago, for the caller to end outside the lock.
    private func store(_ idle: Idle, for shape: SandboxShape) -> (kept: Bool, evicted: [PreparedSandbox]) {
        let capacity = capacity
        return state.withLock { state -> (kept: Bool, evicted: [PreparedSandbox]) in
            guard !state.drained else { return (false, []) }
            var evicted: [PreparedSandbox] = []
            var total = state.idleCount
            while total >= capacity {
                guard let oldest = state.recency.first(where: { $0 != shape }) ?? (state.ready[shape]?.isEmpty == false ? shape : nil)
                else { break }
                var entries = state.ready[oldest] ?? []
                if oldest == shape {
                    // Only this shape is left: its oldest sandbox makes room for the new one.
                    evicted.append(entries.removeFirst().sandbox)
                    state.ready[shape] = entries
                    total -= 1
                } else {
                    evicted += entries.map(\.sandbox)
                    total -= entries.count
                    state.forget(oldest)
                }
            }
            state.ready[shape, default: []].append(idle)
            state.touch(shape)
            return (true, evicted)
        }
    }

    /// Ends the idle sandboxes of every shape whose workspace is gone or was replaced.
    private func sweepGoneWorkspaces() {
        let kept = state.withLock { $0.ready }
        var gone: [SandboxShape] = []
        for (shape, entries) in kept {
            let current = WorkspaceIdentity(path: shape.workspace)
            if entries.contains(where: { $0.workspace != current }) { gone.append(shape) }
        }
        guard !gone.isEmpty else { return }
        let ended = state.withLock { state in
            var ended: [PreparedSandbox] = []
            for shape in gone {
                let current = WorkspaceIdentity(path: shape.workspace)
                let entries = state.ready[shape] ?? []
                ended += entries.filter { $0.workspace != current }.map(\.sandbox)
                let left = entries.filter { $0.workspace == current }
                if left.isEmpty { state.forget(shape) } else { state.ready[shape] = left }
            }
            return ended
        }
        ended.forEach { $0.destroy() }
    }

    private func claimFill(_ shape: SandboxShape) -> Bool {
        state.withLock { state in
            guard !state.drained, !state.filling.contains(shape) else { return false }
            state.filling.insert(shape)
            return true
        }
    }

    private func releaseFill(_ shape: SandboxShape) {
        let waiting = state.withLock { state in
            state.filling.remove(shape)
            let waiting = state.filling.isEmpty ? state.fillsUnderWay : []
            if state.filling.isEmpty { state.fillsUnderWay = [] }
            return waiting
        }
        waiting.forEach { $0.resume() }
    }

    /// A pooled sandbox whose process already ended (killed, out of memory) is useless.
    private static func isWaiting(_ prepared: PreparedSandbox) -> Bool {
        var entry = pollfd(fd: prepared.process.pidfd, events: Int16(POLLIN), revents: 0)
        guard prepared.process.pidfd >= 0 else { return kill(prepared.process.pid, 0) == 0 }
        return poll(&entry, 1, 0) == 0
    }
}
