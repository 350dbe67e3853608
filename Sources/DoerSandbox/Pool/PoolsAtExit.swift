import Foundation
import Synchronization

/// Ends every pool's idle sandboxes when the process exits normally.
///
/// A sandbox that served a run waits in its pool for the next one, with a workspace view in
/// the staging folder and a cgroup; a command-line run ends right after its last run. Its
/// sandboxes' processes die with it (`--die-with-parent`), but their folders and cgroups
/// would stay: so at exit the clean-ups under way are finished, every pool drained, and the
/// views of runs still going (a server stopped mid-run) discarded.
enum PoolsAtExit {
    private struct Entry { weak var pool: WarmPool? }
    private static let pools = Mutex<[ObjectIdentifier: Entry]>([:])
    private static let installed = Mutex(false)

    static func register(_ pool: WarmPool) {
        pools.withLock { $0[ObjectIdentifier(pool)] = Entry(pool: pool) }
        let first = installed.withLock { installed in
            defer { installed = true }
            return !installed
        }
        if first { atexit { PoolsAtExit.drainAll() } }
    }

    static func unregister(_ pool: WarmPool) {
        _ = pools.withLock { $0.removeValue(forKey: ObjectIdentifier(pool)) }
    }

    static func drainAll() {
        SandboxEngine.finishCleanups()
        let live = pools.withLock { $0.values.compactMap(\.pool) }
        live.forEach { $0.drain() }
        SandboxEngine.finishCleanups()
        WorkspaceView.discardAll()
    }
}
