import Foundation
import NIOConcurrencyHelpers

/// Plays the cluster for `FakeKubernetesAPI`: for each pod created it starts the real
/// doer-sandbox-runner as a child process on a loopback address of its own, checks its
/// readiness route as the kubelet's probe would, and marks the
/// pod Running and Ready with that address. A deleted pod's runner is killed and its folder
/// removed. `gvisor` starts the runner under `runsc do` instead, as a gVisor RuntimeClass would
/// (`GVisorRunner`). Other modes answer as a cluster that cannot pull the image, or never gets ready.
final class SandboxPodController: @unchecked Sendable {
    enum Mode { case local, gvisor, imagePullFails, neverReady }

    let mode: Mode
    let port: Int
    private let lock = NIOLock()
    private var runners: [String: (process: Process, folder: URL)] = [:]
    private var createdPods: [Data] = []
    private static let addresses = NIOLockedValueBox(Int.random(in: 2...200))

    init(mode: Mode, port: Int = Int.random(in: 20000...60000)) {
        self.mode = mode
        self.port = port
    }

    /// The pods created so far, as the API received them.
    var pods: [[String: Any]] {
        lock.withLock { createdPods }.compactMap { (try? JSONSerialization.jsonObject(with: $0)) as? [String: Any] }
    }

    var runningRunners: Int { lock.withLock { runners.values.filter { $0.process.isRunning }.count } }

    func attach(to api: FakeKubernetesAPI) {
        api.controller = { [self] api, event, name, object in
            switch event {
            case "created": created(api, name, object)
            case "claim created": claimed(api, name, object)
            case "claim deleted":
                // As agent-sandbox does: the claim's Sandbox and pod go with it.
                api.remove("sandboxes", name)
                api.remove("pods", name)
                deleted(name)
            default: deleted(name)
            }
        }
    }

    /// The claims created so far, as the API received them.
    var claims: [[String: Any]] {
        lock.withLock { createdClaims }.compactMap { (try? JSONSerialization.jsonObject(with: $0)) as? [String: Any] }
    }
    private var createdClaims: [Data] = []

    /// Plays agent-sandbox's controller: a pod of the template (here, a runner) for the claim,
    /// a Sandbox and a pod named after it, and the claim's status Ready with the pod's address.
    private func claimed(_ api: FakeKubernetesAPI, _ name: String, _ claim: Data) {
        lock.withLock { createdClaims.append(claim) }
        guard mode != .neverReady else {
            api.updateStatus(pod: name, kind: "sandboxclaims", ["conditions": [[
                "type": "Ready", "status": "False", "reason": "SandboxNotReady", "message": "no warm pod and none scheduled"]]])
            return
        }
        let metadata: [String: Any] = ["name": name, "namespace": "doer-sandboxes"]
        api.seed("sandboxes", ["apiVersion": "agents.x-k8s.io/v1alpha1", "kind": "Sandbox", "metadata": metadata])
        api.seed("pods", ["apiVersion": "v1", "kind": "Pod", "metadata": metadata, "status": ["phase": "Pending"]])
        start(name, ready: { address in
            api.updateStatus(pod: name, ["phase": "Running", "podIP": address])
            api.updateStatus(pod: name, kind: "sandboxclaims", [
                "conditions": [["type": "Ready", "status": "True", "reason": "SandboxReady"]],
                "sandbox": ["name": name, "podIPs": [address]],
            ])
        }, failed: { reason, message in
            api.updateStatus(pod: name, kind: "sandboxclaims", ["conditions": [[
                "type": "Ready", "status": "False", "reason": reason, "message": message]]])
        })
    }

    static var runnerPath: String? {
        guard let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else { return nil }
        let folder = URL(fileURLWithPath: executable).deletingLastPathComponent()
        return [folder, folder.deletingLastPathComponent()].map { $0.appendingPathComponent("doer-sandbox-runner").path }
            .first { access($0, X_OK) == 0 }
    }

    private func created(_ api: FakeKubernetesAPI, _ name: String, _ pod: Data) {
        lock.withLock { createdPods.append(pod) }
        switch mode {
        case .neverReady:
            return
        case .imagePullFails:
            api.updateStatus(pod: name, ["phase": "Pending", "containerStatuses": [[
                "name": "runner", "ready": false,
                "state": ["waiting": ["reason": "ErrImagePull", "message": "pull access denied for registry.example.com/doer-sandbox"]],
            ]]])
        case .local, .gvisor:
            start(name, ready: { address in
                api.updateStatus(pod: name, [
                    "phase": "Running", "podIP": address,
                    "conditions": [["type": "Ready", "status": "True"]],
                    "containerStatuses": [["name": "runner", "ready": true, "state": ["running": ["startedAt": "now"]]]],
                ])
            }, failed: { reason, message in
                api.updateStatus(pod: name, ["phase": "Failed", "reason": reason, "message": message])
            })
        }
    }

    /// Starts a runner for `name` and reports its address once its readiness route answers.
    private func start(_ name: String, ready: (String) -> Void, failed: (_ reason: String, _ message: String) -> Void) {
        guard let runner = Self.runnerPath else {
            failed("NoRunner", "doer-sandbox-runner is not built")
            return
        }
        let folder = URL(fileURLWithPath: "/tmp/doer-fake-pod-\(name)-\(getpid())", isDirectory: true)
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        // A container that dies while starting is started again, as a kubelet restarts it:
        // runsc's sandbox has been seen to die at boot ("cannot read client sync file")
        // when the whole suite keeps both cores busy.
        var log = ""
        for _ in 0..<(mode == .gvisor ? 3 : 1) {
            let n = Self.addresses.withLockedValue { next in
                defer { next = next >= 250 ? 2 : next + 1 }
                return next
            }
            var address = "127.0.0.\(n)"
            let process = Process()
            let runnerArguments = ["--port", String(port), "--workspace", folder.appendingPathComponent("workspace").path,
                                   "--staging", folder.appendingPathComponent("staging").path,
                                   // A pod's processes are its own; here the runner shares the host with every
                                   // other test's sandboxes, so it runs commands as an id none of them uses,
                                   // whose process limit counts only its own.
                                   "--uid", "65533", "--gid", "65533"]
            process.executableURL = URL(fileURLWithPath: runner)
            process.arguments = ["--host", address] + runnerArguments
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            if mode == .gvisor {
                // The sandbox has a network namespace of its own, reached at the address runsc gives it.
                let launch = GVisorRunner.launch(runner: runner, arguments: ["--host", "0.0.0.0"] + runnerArguments)
                address = launch.address
                process.executableURL = URL(fileURLWithPath: launch.command[0])
                process.arguments = Array(launch.command.dropFirst())
                FileManager.default.createFile(atPath: folder.appendingPathComponent("runsc.log").path, contents: nil)
                process.standardError = try? FileHandle(forWritingTo: folder.appendingPathComponent("runsc.log"))
                lock.withLock { addressesByPod[name] = address }
            }
            do {
                try process.run()
            } catch {
                failed("StartError", "\(error)")
                return
            }
            lock.withLock { runners[name] = (process, folder) }
            // The readiness probe: GET /healthz until it answers 200, or the runner dies. The
            // deadline is for a runner that hangs: gVisor on its ptrace platform boots slowly
            // when the whole suite keeps both cores busy (over 90 s was seen).
            let deadline = Date().addingTimeInterval(600)
            while Date() < deadline, process.isRunning {
                if Self.healthy(address, port) {
                    ready(address)
                    return
                }
                usleep(20_000)
            }
            log = (try? String(contentsOf: folder.appendingPathComponent("runsc.log"), encoding: .utf8)) ?? ""
            if process.isRunning { break }
            process.waitUntilExit()
        }
        failed("Error", "the runner never answered its readiness probe" + (log.isEmpty ? "" : ": \(log)"))
    }

    private var addressesByPod: [String: String] = [:]
    /// The addresses the gVisor sandboxes were given, by pod name.
    var gvisorAddresses: [String: String] { lock.withLock { addressesByPod } }

    private func deleted(_ name: String) {
        guard let runner = lock.withLock({ runners.removeValue(forKey: name) }) else { return }
        if runner.process.isRunning {
            if mode == .gvisor {
                // runsc removes the sandbox and its network namespace on SIGTERM, not on SIGKILL.
                kill(runner.process.processIdentifier, SIGTERM)
                let deadline = Date().addingTimeInterval(15)
                while runner.process.isRunning && Date() < deadline { usleep(20_000) }
            }
            if runner.process.isRunning { kill(runner.process.processIdentifier, SIGKILL) }
        }
        runner.process.waitUntilExit()
        try? FileManager.default.removeItem(at: runner.folder)
    }

    /// One HTTP GET of /healthz over a plain socket.
    static func healthy(_ address: String, _ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var target = sockaddr_in()
        target.sin_family = sa_family_t(AF_INET)
        target.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, address, &target.sin_addr)
        let connected = withUnsafePointer(to: &target) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return false }
        let request = "GET /healthz HTTP/1.1\r\nHost: runner\r\nConnection: close\r\n\r\n"
        guard write(fd, request, request.utf8.count) == request.utf8.count else { return false }
        var buffer = [UInt8](repeating: 0, count: 512)
        let n = read(fd, &buffer, buffer.count)
        return n > 0 && String(decoding: buffer[..<n], as: UTF8.self).hasPrefix("HTTP/1.1 200")
    }

    /// Kills whatever runners are left (a test that failed half-way).
    func stopAll() {
        for name in lock.withLock({ Array(runners.keys) }) { deleted(name) }
    }
}
