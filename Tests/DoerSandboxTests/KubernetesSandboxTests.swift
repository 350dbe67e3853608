import DoerCore
@testable import DoerSandbox
import Foundation
import Testing

/// A fake cluster for one test: the fake API server, a controller that runs the real
/// doer-sandbox-runner for each pod, and a kubernetes sandbox pointed at them with a token.
final class FakeCluster: @unchecked Sendable {
    let api: FakeKubernetesAPI
    let controller: SandboxPodController
    let folder: URL
    let settings: KubernetesSettings

    init(mode: SandboxPodController.Mode = .local, startTimeout: Double = 90, servesSandboxClaims: Bool = false,
         provisioning: SandboxProvisioning = .auto) throws {
        api = try FakeKubernetesAPI(token: "test-token-\(UInt32.random(in: 0...UInt32.max))", servesSandboxClaims: servesSandboxClaims)
        controller = SandboxPodController(mode: mode)
        controller.attach(to: api)
        folder = URL(fileURLWithPath: "/tmp/doer-fake-cluster-\(UUID().uuidString.prefix(8))", isDirectory: true)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let tokenFile = folder.appendingPathComponent("token")
        try Data((api.token! + "\n").utf8).write(to: tokenFile)
        settings = KubernetesSettings(apiServer: api.baseURL, namespace: "doer-sandboxes", image: "registry.example.com/doer-sandbox:test",
                                      tokenFile: tokenFile.path, runnerPort: controller.port, startTimeoutSeconds: startTimeout,
                                      provisioning: provisioning)
    }

    var configuration: SandboxConfiguration {
        var configuration = TestSandboxes.configuration
        configuration.backend = .kubernetes
        configuration.kubernetes = settings
        return configuration
    }

    func sandbox() throws -> any Sandbox { try SandboxFactory(configuration: configuration).make() }

    func sh(_ script: String, in workspace: ScratchWorkspace, limits: ResourceLimits = ResourceLimits(wallClockSeconds: 20),
            mode: SandboxMode = .workspaceWrite, stdin: Data = Data(), applyChanges: Bool = true) async throws -> ExecutionResult {
        try await sandbox().run(ExecutionRequest(command: ["sh", "-c", script], workspace: workspace.url, stdin: stdin,
                                                 limits: limits, mode: mode, applyChanges: applyChanges))
    }

    /// Requests of `method` whose path (without the query) ends with `suffix`.
    func requests(_ method: String, _ suffix: String) -> [FakeKubernetesAPI.Recorded] {
        api.recorded.filter { $0.method == method && ($0.uri.split(separator: "?").first.map(String.init) ?? "").hasSuffix(suffix) }
    }

    deinit {
        controller.stopAll()
        try? FileManager.default.removeItem(at: folder)
    }
}

@Suite("kubernetes backend against a fake API server", .enabled(if: SandboxPodController.runnerPath != nil, "needs doer-sandbox-runner built"))
struct KubernetesSandboxTests {
    @Test("a run is a pod under the RuntimeClass; stdout, stderr and the exit code come back; the pod and its policy are deleted")
    func runAndCleanUp() async throws {
        let cluster = try FakeCluster()
        let workspace = try ScratchWorkspace()
        let result = try await cluster.sh("echo out; echo err >&2; exit 3", in: workspace)
        #expect(result.termination == .exited(3))
        #expect(result.stdout.text == "out\n")
        #expect(result.stderr.text == "err\n")
        #expect(result.backend == .kubernetes)
        #expect(!result.timedOut)

        let pod = try #require(cluster.controller.pods.first)
        let spec = try #require(pod["spec"] as? [String: Any])
        #expect(spec["runtimeClassName"] as? String == "gvisor")
        #expect(spec["automountServiceAccountToken"] as? Bool == false)
        #expect(spec["activeDeadlineSeconds"] as? Int == 20 + 90 + 60)
        let metadata = try #require(pod["metadata"] as? [String: Any])
        let name = try #require(metadata["name"] as? String)
        let labels = try #require(metadata["labels"] as? [String: String])
        #expect(labels["app.kubernetes.io/managed-by"] == "doer")
        #expect(name == "doer-sandbox-" + (labels["doer.dev/sandbox"] ?? "?"))
        let container = try #require((spec["containers"] as? [[String: Any]])?.first)
        let resources = try #require(container["resources"] as? [String: [String: String]])
        #expect(resources["limits"]?["memory"] == String((1 << 30) + (64 << 20)))

        // The policy came first, then the pod; the pod was watched, not polled; both were deleted.
        let posts = cluster.api.recorded.filter { $0.method == "POST" }.map(\.uri)
        #expect(posts == ["/apis/networking.k8s.io/v1/namespaces/doer-sandboxes/networkpolicies",
                          "/api/v1/namespaces/doer-sandboxes/pods"])
        #expect(cluster.api.recorded.contains { $0.method == "GET" && $0.uri.contains("watch=true") && $0.uri.contains(name) })
        #expect(cluster.requests("DELETE", "/pods/" + name).count == 1)
        #expect(cluster.requests("DELETE", "/networkpolicies/" + name).count == 1)
        #expect(cluster.api.names("pods").isEmpty)
        #expect(cluster.api.names("networkpolicies").isEmpty)
        #expect(cluster.api.recorded.allSatisfy { $0.authorization == "Bearer " + cluster.api.token! })
    }

    @Test("workspace files go into the pod and the changes come back, checked and applied")
    func workspaceChanges() async throws {
        let cluster = try FakeCluster()
        let workspace = try ScratchWorkspace(files: ["a.txt": "one\n", "sub/b.txt": "two\n", "keep.txt": "same\n"])
        let result = try await cluster.sh("""
            cat a.txt sub/b.txt > seen.txt && echo changed > a.txt && rm sub/b.txt && mkdir -p new/deep && echo x > new/deep/c.txt \
            && ln -s /etc/passwd escape && ln -s keep.txt inside && chmod 755 keep.txt
            """, in: workspace)
        #expect(result.termination == .exited(0), "\(result.stderr.text)")
        #expect(workspace.read("seen.txt") == "one\ntwo\n")
        #expect(workspace.read("a.txt") == "changed\n")
        #expect(!workspace.exists("sub/b.txt"))
        #expect(workspace.read("new/deep/c.txt") == "x\n")
        #expect(result.changesApplied)
        let paths = Dictionary(uniqueKeysWithValues: result.changedFiles.map { ($0.path, $0.kind) })
        #expect(paths["a.txt"] == .modified)
        #expect(paths["sub/b.txt"] == .deleted)
        #expect(paths["seen.txt"] == .added)
        #expect(paths["keep.txt"] == .modified)
        // A link leading out of the workspace is never applied; one inside it is.
        #expect(!workspace.exists("escape"))
        #expect(result.warnings.contains { $0.contains("escape") })
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: workspace.url.appendingPathComponent("inside").path)) == "keep.txt")
        let mode = try FileManager.default.attributesOfItem(atPath: workspace.url.appendingPathComponent("keep.txt").path)[.posixPermissions] as? Int
        #expect(mode == 0o755)
    }

    @Test("with applyChanges off the changes are listed and the workspace is left alone; read-only collects none")
    func changesNotApplied() async throws {
        let cluster = try FakeCluster()
        let workspace = try ScratchWorkspace(files: ["a.txt": "one\n"])
        let listed = try await cluster.sh("echo two > a.txt; echo new > b.txt", in: workspace, applyChanges: false)
        #expect(listed.changedFiles.map(\.path).sorted() == ["a.txt", "b.txt"])
        #expect(!listed.changesApplied)
        #expect(workspace.read("a.txt") == "one\n")
        #expect(!workspace.exists("b.txt"))

        let readOnly = try await cluster.sh("echo two > a.txt; cat a.txt", in: workspace, mode: .readOnly)
        #expect(readOnly.changedFiles.isEmpty)
        #expect(workspace.read("a.txt") == "one\n")
    }

    @Test("the wall clock kills the command and what it started; the pod's deadline covers it")
    func timeout() async throws {
        let cluster = try FakeCluster()
        let workspace = try ScratchWorkspace()
        let marker = "doer-timeout-\(UUID().uuidString.prefix(8))"
        let result = try await cluster.sh("exec bash -c '(exec -a \(marker) sleep 60) & exec -a \(marker) sleep 60'", in: workspace,
                                          limits: ResourceLimits(wallClockSeconds: 1))
        #expect(result.timedOut)
        #expect(result.termination == .signaled(SIGKILL))
        #expect(!result.succeeded)
        #expect(result.warnings.contains { $0.contains("time limit") })
        #expect(!HostProcesses.anyCommandLineContains(marker))
        #expect(cluster.api.names("pods").isEmpty)
    }

    @Test("a flood of output is capped, keeping head and tail; stdin reaches the command; signals are reported")
    func outputStdinSignals() async throws {
        let cluster = try FakeCluster()
        let workspace = try ScratchWorkspace()
        var limits = ResourceLimits(wallClockSeconds: 20)
        limits.outputBytes = 1000
        let flood = try await cluster.sh("echo FIRST; head -c 200000 /dev/zero | tr '\\0' x; echo; echo LAST", in: workspace, limits: limits)
        #expect(flood.stdout.truncated)
        #expect(flood.stdout.totalBytes > 200000)
        #expect(flood.stdout.text.hasPrefix("FIRST"))
        #expect(flood.stdout.text.hasSuffix("LAST\n"))

        let input = Data((0..<100_000).map { _ in UInt8(ascii: "a") })
        let counted = try await cluster.sh("wc -c", in: workspace, stdin: input)
        #expect(counted.stdout.text.trimmingCharacters(in: .whitespacesAndNewlines) == "100000")

        let killed = try await cluster.sh("kill -9 $$", in: workspace)
        #expect(killed.termination == .signaled(9))
        #expect(killed.termination.shellExitCode == 137)
    }

    @Test("a pod whose image cannot be pulled fails the run with the reason, and is deleted")
    func imagePullFails() async throws {
        let cluster = try FakeCluster(mode: .imagePullFails)
        let workspace = try ScratchWorkspace()
        await #expect {
            _ = try await cluster.sh("true", in: workspace)
        } throws: { error in
            (error as? DoerError)?.description.contains("ErrImagePull") == true
        }
        #expect(cluster.api.names("pods").isEmpty)
        #expect(cluster.api.names("networkpolicies").isEmpty)
    }

    @Test("a pod that never gets ready fails the run after the start timeout, and is deleted")
    func neverReady() async throws {
        let cluster = try FakeCluster(mode: .neverReady, startTimeout: 1)
        let workspace = try ScratchWorkspace()
        await #expect {
            _ = try await cluster.sh("true", in: workspace)
        } throws: { error in
            (error as? DoerError)?.description.contains("not ready") == true
        }
        #expect(cluster.api.names("pods").isEmpty)
    }

    @Test("the first run sweeps labelled leftovers past their deadline and ended pods, never live ones or others'")
    func sweep() async throws {
        let cluster = try FakeCluster()
        func object(_ kind: String, _ name: String, expires: Int?, phase: String? = nil, labelled: Bool = true) -> [String: Any] {
            var metadata: [String: Any] = ["name": name, "namespace": "doer-sandboxes"]
            if labelled { metadata["labels"] = ["app.kubernetes.io/managed-by": "doer", "doer.dev/sandbox": name] }
            if let expires { metadata["annotations"] = ["doer.dev/expires-at": String(expires)] }
            var object: [String: Any] = ["kind": kind, "metadata": metadata]
            if let phase { object["status"] = ["phase": phase] }
            return object
        }
        let now = Int(Date().timeIntervalSince1970)
        cluster.api.seed("pods", object("Pod", "expired", expires: now - 10, phase: "Running"))
        cluster.api.seed("pods", object("Pod", "live", expires: now + 600, phase: "Running"))
        cluster.api.seed("pods", object("Pod", "ended", expires: now + 600, phase: "Succeeded"))
        cluster.api.seed("pods", object("Pod", "someone-elses", expires: now - 10, phase: "Running", labelled: false))
        cluster.api.seed("networkpolicies", object("NetworkPolicy", "expired", expires: now - 10))
        cluster.api.seed("networkpolicies", object("NetworkPolicy", "live", expires: now + 600))

        let workspace = try ScratchWorkspace()
        let sandbox = try cluster.sandbox()
        _ = try await sandbox.run(ExecutionRequest(command: ["true"], workspace: workspace.url, limits: ResourceLimits(wallClockSeconds: 20)))
        #expect(cluster.api.names("pods") == ["live", "someone-elses"])
        #expect(cluster.api.names("networkpolicies") == ["live"])
        // The sweep listed by label before the run created anything.
        let recorded = cluster.api.recorded
        let firstList = try #require(recorded.firstIndex { $0.method == "GET" && $0.uri.contains("labelSelector=") })
        let firstPost = try #require(recorded.firstIndex { $0.method == "POST" })
        #expect(firstList < firstPost)
        // Once per sandbox: a second run does not list again.
        let lists = cluster.api.recorded.filter { $0.uri.contains("labelSelector=") }.count
        _ = try await sandbox.run(ExecutionRequest(command: ["true"], workspace: workspace.url, limits: ResourceLimits(wallClockSeconds: 20)))
        #expect(cluster.api.recorded.filter { $0.uri.contains("labelSelector=") }.count == lists)
    }

    @Test("network policies other than none, writable host folders, a wrong token and a missing image are refused")
    func refusals() async throws {
        let cluster = try FakeCluster()
        let workspace = try ScratchWorkspace()
        let sandbox = try cluster.sandbox()
        await #expect(throws: DoerError.self) {
            _ = try await sandbox.run(ExecutionRequest(command: ["true"], workspace: workspace.url, network: .registries(adding: [])))
        }
        await #expect(throws: DoerError.self) {
            _ = try await sandbox.run(ExecutionRequest(command: ["true"], workspace: workspace.url, writablePaths: ["/tmp"]))
        }
        #expect(cluster.api.recorded.isEmpty)

        var wrongToken = cluster.configuration
        let tokenFile = cluster.folder.appendingPathComponent("wrong")
        try Data("nope".utf8).write(to: tokenFile)
        wrongToken.kubernetes.tokenFile = tokenFile.path
        await #expect {
            _ = try await SandboxFactory(configuration: wrongToken).make().run(ExecutionRequest(command: ["true"], workspace: workspace.url))
        } throws: { error in
            (error as? DoerError)?.description.contains("401") == true
        }

        var noImage = cluster.configuration
        noImage.kubernetes.image = nil
        #expect(throws: DoerError.self) { _ = try SandboxFactory(configuration: noImage).make() }
        var noServer = cluster.configuration
        noServer.kubernetes.apiServer = nil
        #expect(throws: DoerError.self) { _ = try SandboxFactory(configuration: noServer).make() }
    }
}

@Suite("the objects the kubernetes backend creates")
struct KubernetesObjectTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The run deploy/kubernetes/sandbox/*.yaml was written for.
    static var example: KubernetesObjects {
        KubernetesObjects(settings: KubernetesSettings(image: "registry.example.com/doer-sandbox:0.1.0"),
                          image: "registry.example.com/doer-sandbox:0.1.0", id: "3f2a9c1e0b7d",
                          limits: ResourceLimits(wallClockSeconds: 30), workspaceBytes: 0,
                          createdAt: Date(timeIntervalSince1970: 1_767_225_600 - 270))
    }

    static func python(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    static func normalised(_ data: Data) throws -> NSDictionary {
        try #require(try JSONSerialization.jsonObject(with: data) as? NSDictionary)
    }

    @Test("the pod and its policy are what deploy/kubernetes/sandbox documents, field for field")
    func matchesTheDocumentedTemplate() throws {
        for (file, object) in [("pod.yaml", Self.example.pod), ("networkpolicy.yaml", Self.example.networkPolicy)] {
            let path = Self.root.appendingPathComponent("deploy/kubernetes/sandbox/" + file).path
            let converted = try Self.python(["-c", "import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))", path])
            try #require(converted.status == 0, "\(converted.output)")
            let documented = try Self.normalised(Data(converted.output.utf8))
            let generated = try Self.normalised(KubernetesObjects.json(object))
            #expect(documented == generated, "\(file) differs from what the backend creates:\n\(documented)\n\(generated)")
        }
    }

    @Test("the generated pod and policy validate against the pinned Kubernetes schema, and a broken one does not")
    func validatesAgainstTheSchema() throws {
        let folder = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("doer-k8s-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var limits = ResourceLimits(wallClockSeconds: 7.5)
        limits.memoryBytes = nil
        let odd = KubernetesObjects(settings: KubernetesSettings(runtimeClass: "kata"), image: "example/image", id: KubernetesObjects.newID(),
                                    limits: limits, workspaceBytes: 12345, createdAt: Date())
        var broken = Self.example.pod
        broken["spec"] = (broken["spec"] as! [String: Any]).merging(["activeDeadlineSeconds": "soon"]) { $1 }
        let objects: [(String, [String: Any], Bool)] = [("pod", Self.example.pod, true), ("policy", Self.example.networkPolicy, true),
                                                        ("odd-pod", odd.pod, true), ("odd-policy", odd.networkPolicy, true),
                                                        ("broken", broken, false)]
        for (name, object, valid) in objects {
            let file = folder.appendingPathComponent(name + ".json")
            try KubernetesObjects.json(object).write(to: file)
            // JSON is YAML, so the validator reads it as it is.
            let check = try Self.python(["-m", "kubernetes_validate", "--strict", "-k", "1.32.0", file.path])
            #expect((check.status == 0) == valid, "\(name): \(check.output)")
            if valid { #expect(!check.output.contains("WARN"), "\(name): \(check.output)") }
        }
    }

    @Test("a pod's state is read from its status")
    func podStates() {
        #expect(PodState(pod: ["status": ["phase": "Pending"]]) == .pending("Pending"))
        #expect(PodState(pod: ["status": ["phase": "Running", "podIP": "10.0.0.5",
                                          "conditions": [["type": "Ready", "status": "False"]]]]) == .pending("Running"))
        #expect(PodState(pod: ["status": ["phase": "Running", "podIP": "10.0.0.5",
                                          "conditions": [["type": "Ready", "status": "True"]]]]) == .ready(ip: "10.0.0.5"))
        if case .failed(let reason) = PodState(pod: ["status": ["phase": "Failed", "reason": "DeadlineExceeded"]]) {
            #expect(reason.contains("DeadlineExceeded"))
        } else { Issue.record("a failed pod is not failed") }
        if case .failed(let reason) = PodState(pod: ["status": ["phase": "Pending", "containerStatuses": [
            ["state": ["waiting": ["reason": "ImagePullBackOff"]]]]]]) {
            #expect(reason.contains("ImagePullBackOff"))
        } else { Issue.record("an image that cannot be pulled is not failed") }
        #expect(PodState(pod: ["status": ["phase": "Pending", "containerStatuses": [
            ["state": ["waiting": ["reason": "ContainerCreating"]]]]]]) == .pending("Pending"))
        #expect(KubernetesSandbox.oomKilled(["status": ["containerStatuses": [["state": ["terminated": ["reason": "OOMKilled"]]]]]]))
    }
}
