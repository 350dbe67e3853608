import DoerCore
import Foundation
import Logging

/// The part every backend shares: workspace views, cgroups, the warm pool, supervision,
/// and turning what happened into an `ExecutionResult`.
final class SandboxEngine: Sandbox, @unchecked Sendable {
    let kind: SandboxBackendKind
    private let launcher: any SandboxLauncher
    var launcherForCheck: any SandboxLauncher { launcher }
    private let configuration: SandboxConfiguration
    private let pool: WarmPool?
    private let logger = Logger(label: "doer.sandbox")

    init(launcher: any SandboxLauncher, configuration: SandboxConfiguration) {
        self.kind = launcher.kind
        self.launcher = launcher
        self.configuration = configuration
        // The pool also keeps sandboxes that served a run, for the next of the same shape.
        let reuses = launcher.kind == .bubblewrap && configuration.runsPerSandbox > 1
        self.pool = launcher.usesInitProtocol && (configuration.warmPoolSize > 0 || reuses)
            ? WarmPool(size: configuration.warmPoolSize, keptPerShape: max(configuration.warmPoolSize, Self.reusedKeptPerShape)) : nil
        if let pool {
            pool.attach(self)
            PoolsAtExit.register(pool)
        }
    }

    deinit {
        if let pool {
            PoolsAtExit.unregister(pool)
            pool.drain()
            // The drained sandboxes' folders and cgroups are gone when the engine is.
            Self.finishCleanups()
        }
    }

    /// Runs `work` on the clean-up queue: at once when already there (a clean-up ending a
    /// sandbox), so that whoever waits for the queue waits for that too.
    static func cleanUp(_ work: @escaping @Sendable () -> Void) {
        if DispatchQueue.getSpecific(key: cleanupKey) != nil { work() } else { cleanup.async(execute: work) }
    }

    /// Waits for the clean-ups queued so far (not when called from a clean-up itself).
    static func finishCleanups() {
        guard DispatchQueue.getSpecific(key: cleanupKey) == nil else { return }
        cleanup.sync {}
    }

    private static let cleanupKey = DispatchSpecificKey<Bool>()

    /// Ends the warm sandboxes and waits for the fills under way; later runs start cold.
    func shutDownPool() async {
        await pool?.shutDown()
        await settle()
    }

    var poolForTesting: WarmPool? { pool }

    /// Sandboxes kept per shape for reuse: one per run going on at once (two workers, or a
    /// test run beside a build).
    static let reusedKeptPerShape = 2

    /// Starts sandboxes for this shape ahead of time so the next runs start at once.
    func warmUp(for request: ExecutionRequest) async {
        guard let pool, !request.network.usesProxy else { return }
        await pool.fill(SandboxShape(request))
    }

    func run(_ request: ExecutionRequest, observingOutput observer: OutputObserver?) async throws(DoerError) -> ExecutionResult {
        try request.validate()
        try Self.checkWorkspace(request.workspace)
        let shape = SandboxShape(request)
        var egress: RunEgress?
        if request.network.usesProxy {
            guard kind == .bubblewrap else {
                throw .invalidArgument("network policy '\(request.network.access.rawValue)' needs the bubblewrap backend "
                    + "(its bridge lives in doer-sandbox-init); use --backend bubblewrap or --net none")
            }
            let identity = configuration.runIdentity
            egress = try await RunEgress.start(policy: request.network, stagingRoot: configuration.stagingRoot,
                                               owner: identity.switches ? (identity.uid, identity.gid) : nil,
                                               observer: configuration.networkObserver)
        }
        do {
            var result = try await run(request, shape: shape, egress: egress, observer: observer)
            if Self.execRaced(result) {
                // The command never started, so nothing ran and nothing changed: once more.
                try? await Task.sleep(for: .milliseconds(50))
                result = try await run(request, shape: shape, egress: egress, observer: observer)
            }
            if let egress {
                result.networkDecisions = await egress.finish()
                result.warnings = egress.warnings + result.warnings
            }
            return result
        } catch {
            _ = await egress?.finish()
            throw error
        }
    }

    private func run(_ request: ExecutionRequest, shape: SandboxShape, egress: RunEgress?,
                     observer: OutputObserver?) async throws(DoerError) -> ExecutionResult {
        var variables = egress?.environment ?? [:]
        variables.merge(request.environment) { _, new in new }
        let environment = SandboxEnvironment.variables(home: "/tmp", extra: variables)

        let prepared: PreparedSandbox
        let warm: Bool
        // A sandbox with a proxy is bound to that run's proxy socket, so it never comes from
        // (or goes back to) the pool.
        if launcher.usesInitProtocol, egress == nil, let pooled = pool?.take(shape, acceptsUsed: request.stdin.isEmpty) {
            prepared = pooled
            warm = true
        } else {
            prepared = try prepare(shape, command: request.command, environment: environment,
                                   workingSubdirectory: request.workingSubdirectory, proxySocket: egress?.socketPath)
            warm = false
        }

        do {
            try prepared.view?.populate(from: request.workspace)
            try prepared.view?.sealDiskLimit()
        } catch {
            prepared.destroy()
            throw error
        }
        let workspacePath = launcher.workspacePath(workspaceSource: prepared.view?.directory.path ?? shape.workspace)
        let scanned = Self.hostFoldersWritten(shape, view: prepared.view)
        var initLimits = request.limits
        // Where the disk limit is measured by scans, no single file may outgrow it between two.
        if !scanned.isEmpty { initLimits.fileSizeBytes = request.limits.effectiveFileSizeBytes }
        let initRequest = launcher.usesInitProtocol ? InitRequest(
            command: request.command, environment: environment,
            workingDirectory: Self.join(workspacePath, request.workingSubdirectory),
            wallClockMs: Int64((request.limits.wallClockSeconds * 1000).rounded(.up)),
            limits: initLimits, allowNetwork: egress != nil, proxyBridge: egress != nil,
            seccomp: kind == .bubblewrap, ownPidNamespace: kind == .bubblewrap,
            reusable: reusable(request, prepared: prepared, egress: egress)) : nil
        let workspaceIdentity = WorkspaceIdentity(path: shape.workspace)

        // The init inside enforces the wall clock itself; the host's deadline, a little
        // later, is for a sandbox that stops answering.
        let disk = DiskUsageWatch(limit: request.limits.diskBytes, view: prepared.view?.tmpfs, scannedPaths: scanned,
                                  process: prepared.process.pid)
        if let unmeasurable = disk?.unmeasurable {
            prepared.destroy()
            throw .invalidArgument("the disk limit cannot be kept: \(unmeasurable), below which what the run writes cannot be measured; "
                                   + "remove them, or run without a disk limit")
        }
        let run = await Supervisor.supervise(
            prepared.process, request: initRequest, stdin: request.stdin,
            hostDeadline: .milliseconds(Int64(request.limits.wallClockSeconds * 1000)) + (launcher.usesInitProtocol ? .seconds(2) : .zero),
            outputCap: request.limits.outputBytes, observer: observer, disk: disk)

        // A run that filled its view and ended before the next check went over it too.
        var result = makeResult(run, prepared: prepared, warm: warm, disk: disk, diskOver: run.diskLimitExceeded || disk?.check() == true)
        let keepsSandbox = run.sandboxKept && !result.memoryKilled && !result.diskLimitExceeded && pool != nil
        if keepsSandbox { result.sandboxKept = true }
        defer {
            // Off the run's path: removing a cgroup waits for the kernel to finish tearing
            // the processes down, and the refill spawns a new sandbox. A sandbox that served
            // the run and reset itself clean goes back to the pool once its view is emptied.
            let view = prepared.view, cgroup = prepared.cgroup
            if keepsSandbox, let pool {
                prepared.runsServed += 1
                let protected = shape.protectedFolders
                Self.cleanup.async {
                    if view?.reset(protectedFolders: protected) ?? true, cgroup?.resetForNextRun() ?? true {
                        pool.giveBack(prepared, shape: shape, workspace: workspaceIdentity)
                    } else {
                        prepared.destroy()
                    }
                }
            } else {
                if run.sandboxKept {
                    // Reset clean but not to be kept (killed for memory, over its disk limit): still alive.
                    prepared.destroy()
                } else {
                    Self.cleanup.async {
                        view?.discard()
                        cgroup?.remove()
                    }
                }
                if let pool, egress == nil, pool.size > 0 { Task.detached { await pool.fill(shape) } }
            }
        }
        if let view = prepared.view {
            result.changedFiles = view.collectChanges()
            // A name that is not UTF-8 or a folder nested too deep is no FileChange, but it
            // is a change: applying must refuse it aloud rather than drop it.
            let unnamed = result.changedFiles.isEmpty ? view.unrepresentableChanges() : []
            if request.applyChanges && request.mode == .workspaceWrite && !(result.changedFiles.isEmpty && unnamed.isEmpty)
                && !run.cancelled {
                view.applyRecording(&result, to: request.workspace, limit: request.limits.diskBytes)
            }
        }
        if run.cancelled { throw .cancelled }
        return result
    }

    /// Returns once the clean-ups queued so far (resets of sandboxes going back to the pool,
    /// views and cgroups of ended ones) are done.
    func settle() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            Self.cleanup.async { continuation.resume() }
        }
    }

    /// Whether the sandbox may serve another run after this one: bubblewrap (whose init is
    /// pid 1 of the sandbox's own namespace, so it can end every process the run left), no
    /// network bridge (bound to this run's proxy), no standard input (closed for good after
    /// the run), a pool to keep it in, and runs left in its allowance.
    private func reusable(_ request: ExecutionRequest, prepared: PreparedSandbox, egress: RunEgress?) -> Bool {
        kind == .bubblewrap && pool != nil && egress == nil && request.stdin.isEmpty
            && prepared.runsServed + 1 < configuration.runsPerSandbox
    }

    /// Starts a sandbox for `shape`; with the init protocol it then waits for its command.
    func prepare(_ shape: SandboxShape, command: [String] = [], environment: [String] = [],
                 workingSubdirectory: String = "", proxySocket: String? = nil) throws(DoerError) -> PreparedSandbox {
        try launcher.checkAvailable()
        var warnings: [String] = []
        let identity = configuration.runIdentity
        let owner: (uid_t, gid_t)? = identity.switches ? (identity.uid, identity.gid) : nil
        // Root's sandboxes run as another uid, which cannot write (or even reach) the
        // user's files: they always work on a view. Others need one to collect changes.
        let needsView = shape.mode == .workspaceWrite || identity.switches
        let view = needsView ? try WorkspaceView(stagingRoot: configuration.stagingRoot, owner: owner, diskBytes: shape.diskBytes) : nil
        view?.prepareProtectedFolders(shape.protectedFolders)
        let workspaceSource = view?.directory.path ?? shape.workspace
        if shape.mode == .fullAccess {
            warnings.append("full-access mode: the command writes the real workspace directly")
        }
        var limits = ResourceLimits()
        limits.memoryBytes = shape.memoryBytes
        limits.processes = shape.processes
        let cgroup = (shape.memoryBytes != nil || shape.processes != nil) ? CgroupLimiter.detected?.makeGroup(limits: limits) : nil
        if shape.memoryBytes != nil && cgroup?.memoryDirectory == nil {
            warnings.append("memory limit not enforced: no writable cgroup on this machine (run as root or with a delegated cgroup)")
        }
        var spec: SpawnSpec
        do {
            let workspacePath = launcher.workspacePath(workspaceSource: workspaceSource)
            spec = try launcher.spawnSpec(shape: shape, workspaceSource: workspaceSource, command: command,
                                          environment: environment,
                                          workingDirectory: Self.join(workspacePath, workingSubdirectory),
                                          proxySocket: proxySocket)
        } catch {
            view?.discard()
            cgroup?.remove()
            throw error
        }
        spec.cgroupProcsFiles = cgroup?.procsFiles ?? []
        do {
            let process = try SpawnedProcess.spawn(spec)
            return PreparedSandbox(process: process, view: view, cgroup: cgroup, warnings: warnings,
                                   boundPaths: shape.writablePaths + shape.readOnlyPaths)
        } catch {
            view?.discard()
            cgroup?.remove()
            throw error
        }
    }

    /// Folders on the host's disk the run writes directly, measured by the disk watch: its
    /// view when that is not a tmpfs of its own, the real workspace in full-access mode
    /// without a view, and writable paths (build caches).
    static func hostFoldersWritten(_ shape: SandboxShape, view: WorkspaceView?) -> [String] {
        var folders = shape.writablePaths
        if let view, view.tmpfs == nil, shape.mode != .readOnly { folders.append(view.directory.path) }
        if view == nil, shape.mode == .fullAccess { folders.append(shape.workspace) }
        return folders
    }

    private func makeResult(_ run: SupervisedRun, prepared: PreparedSandbox, warm: Bool,
                            disk: DiskUsageWatch?, diskOver: Bool) -> ExecutionResult {
        var warnings = prepared.warnings
        var termination: Termination
        var timedOut = run.killedByHost
        if let status = run.initStatus {
            termination = status.termination
            timedOut = timedOut || status.timedOut
        } else if launcher.usesInitProtocol {
            // The sandbox itself failed before the command ran (bwrap reports on stderr).
            let reason = run.stderr.text.trimmingCharacters(in: .whitespacesAndNewlines)
            termination = run.killedByHost || run.diskLimitExceeded ? .signaled(SIGKILL)
                : .failedToStart(reason.isEmpty ? "the sandbox exited with status \(run.waitStatus)" : reason)
        } else {
            termination = Self.termination(fromWaitStatus: run.waitStatus)
        }
        let oom = prepared.cgroup?.oomKilled ?? false
        // The view's tmpfs pages are charged to the run's memory: say so when they weighed in.
        let heldInMemory = prepared.view?.tmpfs?.addedBytes() ?? 0
        if oom {
            warnings.append("killed: the run went over its memory limit" + (heldInMemory >= 1 << 20
                ? " (the \(heldInMemory >> 20) MiB it wrote in the workspace are held in memory and count toward it)" : ""))
        }
        if diskOver, let disk {
            let reason = disk.exceededReason.map { ": \($0)" } ?? ""
            warnings.append(run.diskLimitExceeded
                ? "killed: the run went over its disk limit (\(ByteSize.format(disk.limit)))\(reason)"
                : "the run went over its disk limit (\(ByteSize.format(disk.limit)))\(reason); writes past it failed")
        }
        if timedOut { warnings.append("killed: the run went over its time limit") }
        let peak = prepared.cgroup?.peakMemoryBytes ?? run.initStatus?.maxRSSBytes ?? (run.maxRSSBytes > 0 ? run.maxRSSBytes : nil)
        let started = warm ? run.startedAt : prepared.process.spawnedAt
        return ExecutionResult(
            termination: termination, timedOut: timedOut, memoryKilled: oom, diskLimitExceeded: diskOver,
            durationMs: (run.endedAt - started).milliseconds, peakMemoryBytes: peak,
            cpuUserMs: run.initStatus?.userMs, cpuSystemMs: run.initStatus?.systemMs,
            stdout: run.stdout, stderr: run.stderr, backend: kind, warnings: warnings)
    }

    /// Where views are removed and cgroups taken down, one at a time, off the runs' path.
    static let cleanup: DispatchQueue = {
        let queue = DispatchQueue(label: "doer.sandbox.cleanup")
        queue.setSpecific(key: cleanupKey, value: true)
        return queue
    }()

    static func termination(fromWaitStatus status: Int32) -> Termination {
        let signal = status & 0x7f
        if signal == 0 { return .exited((status >> 8) & 0xff) }
        return .signaled(signal)
    }

    /// The sandbox could not execute its init helper because another process still held
    /// the freshly staged file open for writing ("Text file busy"): a program some other
    /// thread started between our write and its exec, holding the descriptor until its own
    /// exec. Passes within moments of staging the helper.
    static func execRaced(_ result: ExecutionResult) -> Bool {
        guard case .failedToStart(let reason) = result.termination else { return false }
        return reason.contains(BubblewrapArguments.initMount) && reason.contains("Text file busy")
    }

    static func checkWorkspace(_ workspace: URL) throws(DoerError) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: workspace.path, isDirectory: &isDirectory) else {
            throw .workspace("\(workspace.path) does not exist")
        }
        guard isDirectory.boolValue else { throw .workspace("\(workspace.path) is not a directory") }
    }

    static func join(_ base: String, _ sub: String) -> String {
        sub.isEmpty ? base : base + "/" + sub
    }
}
