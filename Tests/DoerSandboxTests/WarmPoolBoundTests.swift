import DoerCore
@testable import DoerSandbox
import Foundation
import Testing

/// The warm pool stays bounded however many workspaces come and go, keeps nothing for a
/// workspace that is gone, and leaves nothing behind when it is shut down.
@Suite("warm pool: bounded, and nothing left behind")
struct WarmPoolBoundTests {
    /// A sandbox with a pool and a staging folder of its own, so its ws-* folders can be counted.
    final class PooledSandbox: @unchecked Sendable {
        let staging: URL
        let sandbox: any Sandbox
        let engine: SandboxEngine
        let pool: WarmPool
        let keepStaging: Bool

        init(size: Int = 2, keepStaging: Bool = false) throws {
            self.keepStaging = keepStaging
            staging = URL(fileURLWithPath: "/tmp/doer-pool-test-\(getpid())-\(UUID().uuidString.prefix(8))", isDirectory: true)
            var configuration = TestSandboxes.configuration
            configuration.stagingRoot = staging
            configuration.warmPoolSize = size
            sandbox = try SandboxFactory(configuration: configuration).make(.bubblewrap)
            engine = try #require(sandbox as? SandboxEngine)
            pool = try #require(engine.poolForTesting)
        }

        /// The workspace views under the staging folder.
        var viewFolders: [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: staging.path)) ?? []).filter { $0.hasPrefix("ws-") }
        }

        func request(_ workspace: URL, _ command: [String] = ["echo", "ok"]) -> ExecutionRequest {
            ExecutionRequest(command: command, workspace: workspace, limits: ResourceLimits(wallClockSeconds: 20))
        }

        /// The view folders once the runs' own views are removed too (that happens off the
        /// runs' path, so it is waited for, generously).
        func settledViewFolders(count expected: Int) async throws -> [String] {
            var folders = viewFolders
            for _ in 0..<200 where folders.count != expected {
                try await Task.sleep(for: .milliseconds(50))
                folders = viewFolders
            }
            return folders
        }

        deinit { if !keepStaging { try? FileManager.default.removeItem(at: staging) } }
    }

    @Test("many runs on throw-away workspaces: the idle count never passes the bound")
    func throwAwayWorkspaces() async throws {
        let pooled = try PooledSandbox(size: 2)
        #expect(pooled.pool.capacity >= pooled.pool.size)
        var gone: [String] = []
        for index in 0..<16 {
            let workspace = try ScratchWorkspace(files: ["n.txt": "\(index)"])
            let request = pooled.request(workspace.url, ["cat", "n.txt"])
            if index.isMultiple(of: 2) { await pooled.engine.warmUp(for: request) }
            let result = try await pooled.sandbox.run(request)
            #expect(result.stdout.text == "\(index)", "run \(index)")
            #expect(pooled.pool.idleCount <= pooled.pool.capacity)
            // Removed at once, as the server removes an execution's workspace.
            gone.append(SandboxShape(request).workspace)
            try FileManager.default.removeItem(at: workspace.url)
            await pooled.pool.waitUntilFilled()
            #expect(pooled.pool.idleCount <= pooled.pool.capacity, "after run \(index): \(pooled.pool.idleCount)")
        }
        // The next fill sweeps whatever a fill stored just before its workspace went.
        let keep = try ScratchWorkspace()
        await pooled.engine.warmUp(for: pooled.request(keep.url))
        for path in gone { #expect(pooled.pool.idleCount(workspace: path) == 0, "\(path)") }
        #expect(pooled.pool.idleCount == pooled.pool.size)
        let folders = try await pooled.settledViewFolders(count: pooled.pool.size)
        #expect(folders.count == pooled.pool.size, "only the live workspace's views: \(folders)")
    }

    @Test("many live workspaces: the oldest shapes are ended to stay within the bound")
    func oldestEvicted() async throws {
        let pooled = try PooledSandbox(size: 2)
        let workspaces = try (0..<(WarmPool.shapesKept + 3)).map { _ in try ScratchWorkspace() }
        for workspace in workspaces {
            await pooled.engine.warmUp(for: pooled.request(workspace.url))
            #expect(pooled.pool.idleCount <= pooled.pool.capacity)
        }
        #expect(pooled.pool.idleCount == pooled.pool.capacity)
        let newest = SandboxShape(pooled.request(workspaces.last!.url))
        #expect(pooled.pool.idleCount(workspace: newest.workspace) == 2, "the newest shape is kept whole")
        let oldest = SandboxShape(pooled.request(workspaces[0].url))
        #expect(pooled.pool.idleCount(workspace: oldest.workspace) == 0, "the oldest shape was ended")
        #expect(pooled.viewFolders.count == pooled.pool.capacity, "evicted sandboxes' folders are removed")
    }

    @Test("a workspace removed: its sandboxes are ended, never handed out, and none are started for it")
    func goneWorkspace() async throws {
        let pooled = try PooledSandbox(size: 2)
        let workspace = try ScratchWorkspace(files: ["a.txt": "old"])
        let request = pooled.request(workspace.url, ["cat", "a.txt"])
        let shape = SandboxShape(request)
        await pooled.engine.warmUp(for: request)
        #expect(pooled.pool.idleCount(workspace: shape.workspace) == 2)

        try FileManager.default.removeItem(at: workspace.url)
        let taken = pooled.pool.take(shape)
        taken?.destroy()
        #expect(taken == nil, "a sandbox for a workspace that is gone is not handed out")
        #expect(pooled.pool.idleCount(workspace: shape.workspace) == 0)
        #expect(try await pooled.settledViewFolders(count: 0).isEmpty, "their folders are removed")

        // Made again at the same path: a run sees what is there now, warm or cold.
        try workspace.write("a.txt", "new")
        #expect(try await pooled.sandbox.run(request).stdout.text == "new")
        await pooled.engine.warmUp(for: request)
        #expect(try await pooled.sandbox.run(request).stdout.text == "new")

        // Removed again: a fill for it starts nothing, and a fill for another sweeps what is left.
        await pooled.pool.waitUntilFilled()
        try FileManager.default.removeItem(at: workspace.url)
        await pooled.pool.fill(shape)
        #expect(pooled.pool.idleCount(workspace: shape.workspace) == 0)
        let other = try ScratchWorkspace()
        await pooled.engine.warmUp(for: pooled.request(other.url))
        #expect(pooled.pool.idleCount(workspace: shape.workspace) == 0)
        #expect(pooled.pool.idleCount == 2)
        let folders = try await pooled.settledViewFolders(count: 2)
        #expect(folders.count == 2, "\(folders)")
    }

    @Test("a fill for a workspace that does not exist starts nothing")
    func noFillForMissing() async throws {
        let pooled = try PooledSandbox(size: 2)
        let missing = URL(fileURLWithPath: "/tmp/doer-no-such-workspace-\(UUID().uuidString)", isDirectory: true)
        await pooled.pool.fill(SandboxShape(pooled.request(missing)))
        #expect(pooled.pool.idleCount == 0)
        #expect(pooled.viewFolders.isEmpty)
    }

    @Test("shut down: no idle sandbox and no ws-* folder of the pool is left, even with fills under way; runs still work")
    func shutDown() async throws {
        let pooled = try PooledSandbox(size: 2)
        let workspaces = try (0..<3).map { _ in try ScratchWorkspace() }
        for workspace in workspaces.dropLast() { await pooled.engine.warmUp(for: pooled.request(workspace.url)) }
        #expect(!pooled.viewFolders.isEmpty)
        // One more fill races with the shutdown.
        let racing = Task { await pooled.engine.warmUp(for: pooled.request(workspaces.last!.url)) }
        await pooled.sandbox.shutDown()
        await racing.value
        #expect(pooled.pool.idleCount == 0)
        #expect(pooled.viewFolders.isEmpty, "\(pooled.viewFolders)")

        let result = try await pooled.sandbox.run(pooled.request(workspaces[0].url))
        #expect(result.stdout.text == "ok\n")
        await pooled.pool.waitUntilFilled()
        #expect(pooled.pool.idleCount == 0, "no refill after shutdown")
        let left = try await pooled.settledViewFolders(count: 0)
        #expect(left.isEmpty, "\(left)")
    }

    @Test("the engine going away ends its pool's sandboxes and folders")
    func engineDeinit() async throws {
        let staging: URL
        let workspace = try ScratchWorkspace()
        do {
            let pooled = try PooledSandbox(size: 2, keepStaging: true)
            staging = pooled.staging
            await pooled.engine.warmUp(for: pooled.request(workspace.url))
            #expect(pooled.viewFolders.count == 2)
        }
        let left = ((try? FileManager.default.contentsOfDirectory(atPath: staging.path)) ?? []).filter { $0.hasPrefix("ws-") }
        #expect(left.isEmpty, "\(left)")
        try? FileManager.default.removeItem(at: staging)
    }
}

/// A sandbox given back after a run waits a while for the next one, then is ended.
@Suite("warm pool: idle reused sandboxes expire")
struct ReusedSandboxExpiryTests {
    @Test("a sandbox given back and not taken within the idle limit is ended, its processes and view gone")
    func expires() async throws {
        let staging = URL(fileURLWithPath: "/tmp/doer-expiry-test-\(getpid())-\(UUID().uuidString.prefix(8))", isDirectory: true)
        defer { try? FileManager.default.removeItem(at: staging) }
        var configuration = TestSandboxes.configuration
        configuration.stagingRoot = staging
        let engine = try #require(try SandboxFactory(configuration: configuration).make(.bubblewrap) as? SandboxEngine)
        let workspace = try ScratchWorkspace()
        let shape = SandboxShape(ExecutionRequest(command: ["true"], workspace: workspace.url))
        let pool = WarmPool(size: 0, keptPerShape: 2, idleLimit: .milliseconds(200))
        let prepared = try engine.prepare(shape)
        #expect(prepared.waitUntilReady(timeoutMs: 10_000))
        pool.giveBack(prepared, shape: shape, workspace: WorkspaceIdentity(path: shape.workspace))
        #expect(pool.idleCount == 1)
        for _ in 0..<100 where pool.idleCount > 0 { try await Task.sleep(for: .milliseconds(20)) }
        #expect(pool.idleCount == 0, "ended after the idle limit")
        #expect(kill(prepared.process.pid, 0) != 0, "its processes are gone")
        await engine.settle()
        let views = ((try? FileManager.default.contentsOfDirectory(atPath: staging.path)) ?? []).filter { $0.hasPrefix("ws-") }
        #expect(views.isEmpty, "\(views)")
    }
}
