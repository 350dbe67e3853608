import DoerCore
import Foundation
import Logging
import Synchronization

/// The `kubernetes` backend: each run is a pod of its own under the configured RuntimeClass
/// (gVisor by default), with a NetworkPolicy that lets nothing out — written by Doer, or
/// claimed from kubernetes-sigs/agent-sandbox where the cluster runs it (`SandboxProvisioning`,
/// `SandboxClaims.swift`), whose warm pools have pods ready before the run asks. The workspace goes to
/// doer-sandbox-runner in the pod with the command, and the run's result and changed entries
/// come back; the changes are then checked and applied on this side exactly as for the local
/// backends (a `WorkspaceView` and its `ChangeApplier`). The pod and the policy are deleted
/// after the run, whatever happened, and objects that outlived their deadline (a Doer that
/// was killed mid-run) are swept on the first run.
final class KubernetesSandbox: Sandbox, Sendable {
    var kind: SandboxBackendKind { .kubernetes }
    let configuration: SandboxConfiguration
    let settings: KubernetesSettings
    let client: KubernetesClient
    private let swept = Mutex(false)
    /// Whether the cluster serves SandboxClaims, once asked.
    private let claimsServed = Mutex<Bool?>(nil)
    private let logger = Logger(label: "doer.sandbox.kubernetes")

    init(configuration: SandboxConfiguration) throws(DoerError) {
        self.configuration = configuration
        settings = configuration.kubernetes
        client = KubernetesClient(endpoint: try settings.endpoint())
    }

    func run(_ request: ExecutionRequest, observingOutput observer: OutputObserver?) async throws(DoerError) -> ExecutionResult {
        try request.validate()
        try SandboxEngine.checkWorkspace(request.workspace)
        guard request.network.access == .none else {
            throw .invalidArgument("network policy '\(request.network.access.rawValue)' needs the bubblewrap backend; "
                + "sandbox pods have no network (use --net none)")
        }
        guard request.writablePaths.isEmpty else {
            throw .invalidArgument("the kubernetes backend cannot give a pod writable host folders (\(request.writablePaths.joined(separator: ", "))); "
                + "language build caches need a local backend")
        }
        let provision = try await provision()
        if !swept.withLock({ let was = $0; $0 = true; return was }) {
            do { _ = try await sweep() } catch { logger.warning("sweeping old sandbox pods failed: \(error.description)") }
        }

        // The view is the baseline the changes are measured against, and what is sent.
        let view = try WorkspaceView(stagingRoot: configuration.stagingRoot, owner: nil)
        defer { view.discard() }
        try view.populate(from: request.workspace)
        let files = try WorkspaceTransfer.snapshot(view.directory.path, limitBytes: SandboxRunner.transferLimitBytes)
        let objects = KubernetesObjects(settings: settings, image: client.endpoint.image, id: KubernetesObjects.newID(),
                                        limits: request.limits,
                                        workspaceBytes: files.reduce(0) { $0 + Int64($1.data?.count ?? 0) }, createdAt: Date())
        let runnerRequest = RunnerRequest(
            command: request.command, environment: request.environment, workingSubdirectory: request.workingSubdirectory,
            stdin: request.stdin, limits: request.limits, files: files)
        let response: RunnerResponse
        var warnings: [String] = []
        do {
            switch provision {
            case .pod:
                response = try await runPod(objects, runnerRequest)
            case .claim(let template):
                warnings = SandboxTemplateCheck.warnings(template, limits: request.limits)
                response = try await runClaim(objects, runnerRequest)
            }
        } catch {
            await removeObjects(objects, provision)
            throw error
        }
        await removeObjects(objects, provision)

        var result = response.result
        result.warnings = warnings + result.warnings
        result.backend = .kubernetes
        result.changedFiles = []
        result.changesApplied = false
        if let observer {
            if !result.stdout.data.isEmpty { observer(.stdout, result.stdout.data) }
            if !result.stderr.data.isEmpty { observer(.stderr, result.stderr.data) }
        }
        guard request.mode != .readOnly else { return result }
        try WorkspaceTransfer.write(response.changed, deleting: response.deleted, into: view.directory.path)
        result.changedFiles = view.collectChanges()
        let unnamed = result.changedFiles.isEmpty ? view.unrepresentableChanges() : []
        let apply = request.mode == .fullAccess || request.applyChanges
        // The runner in the pod already held its apply to the limit; this holds the host's
        // own apply to it too, whatever came back.
        if apply && !(result.changedFiles.isEmpty && unnamed.isEmpty) {
            view.applyRecording(&result, to: request.workspace, limit: request.limits.diskBytes)
        }
        return result
    }

    private func runPod(_ objects: KubernetesObjects, _ runnerRequest: RunnerRequest) async throws(DoerError) -> RunnerResponse {
        try await client.create(.networkpolicies, namespace: settings.namespace, objects.networkPolicy)
        try await client.create(.pods, namespace: settings.namespace, objects.pod)
        let ip = try await client.waitUntilReady(namespace: settings.namespace, name: objects.name,
                                                 timeout: .milliseconds(Int64(settings.startTimeoutSeconds * 1000)))
        return try await runRunner(runnerRequest, at: ip, pod: objects.name)
    }

    /// The run in a pod of the SandboxTemplate: the claim is created and watched until the
    /// controller has given it a ready pod, whose address the claim's status names.
    private func runClaim(_ objects: KubernetesObjects, _ runnerRequest: RunnerRequest) async throws(DoerError) -> RunnerResponse {
        try await client.create(.sandboxclaims, namespace: settings.namespace, objects.claim)
        let ip = try await client.waitUntilReady(.sandboxclaims, namespace: settings.namespace, name: objects.name,
                                                 timeout: .milliseconds(Int64(settings.startTimeoutSeconds * 1000)),
                                                 state: { ClaimState.of($0) })
        let claim = try? await client.get(.sandboxclaims, namespace: settings.namespace, name: objects.name)
        return try await runRunner(runnerRequest, at: ip, pod: claim.flatMap(ClaimState.sandboxName))
    }

    /// Sends the run to the runner at `ip`; `pod` is asked why, when the runner does not answer.
    private func runRunner(_ runnerRequest: RunnerRequest, at ip: String, pod: String?) async throws(DoerError) -> RunnerResponse {
        // The runner enforces the wall clock; this is for a pod that stops answering.
        let timeout = Duration.milliseconds(Int64(runnerRequest.limits.wallClockSeconds * 1000)) + .seconds(60)
        do {
            return try await client.run(runnerRequest, host: ip, port: settings.runnerPort, timeout: timeout)
        } catch DoerError.cancelled {
            throw .cancelled
        } catch {
            // A runner killed for the pod's memory limit leaves only the pod's word for it.
            if let pod, let object = try? await client.get(.pods, namespace: settings.namespace, name: pod),
               Self.oomKilled(object) {
                return RunnerResponse(result: ExecutionResult(
                    termination: .signaled(SIGKILL), memoryKilled: true, durationMs: 0, backend: .kubernetes,
                    warnings: ["killed: the run went over its memory limit (the sandbox pod was OOM-killed)"]),
                    changed: [], deleted: [])
            }
            throw error
        }
    }

    private enum Provision {
        case pod
        /// A claim on the SandboxTemplate, read and checked for this run.
        case claim(template: [String: Any])
    }

    /// Pod or claim, as `[sandbox.kubernetes] provisioning` says and the cluster allows. A
    /// template that fails `SandboxTemplateCheck` is an error, never a silent fallback: a
    /// cluster set up for claims would otherwise run code where it was not meant to.
    private func provision() async throws(DoerError) -> Provision {
        guard settings.provisioning != .pod else { return .pod }
        let explicit = settings.provisioning == .claim
        var served = claimsServed.withLock { $0 }
        if served == nil {
            do {
                served = try await client.servesSandboxClaims()
                claimsServed.withLock { $0 = served }
            } catch {
                if explicit { throw error }
                logger.warning("could not ask whether the cluster serves SandboxClaims; using pods: \(error.description)")
                return .pod
            }
        }
        guard served == true else {
            if explicit {
                throw .backendUnavailable(backend: "kubernetes", reason: "the cluster does not serve SandboxClaims (kubernetes-sigs/agent-sandbox and its extensions are not installed)",
                                          remedy: "Install agent-sandbox with its extensions, or set provisioning = \"pod\" under [sandbox.kubernetes].")
            }
            return .pod
        }
        guard let template = try await client.get(.sandboxtemplates, namespace: settings.namespace, name: settings.sandboxTemplate) else {
            if explicit {
                throw .backendUnavailable(backend: "kubernetes", reason: "there is no SandboxTemplate \(settings.sandboxTemplate) in namespace \(settings.namespace)",
                                          remedy: "Apply deploy/kubernetes/agent-sandbox/sandbox-template.yaml, or set sandbox_template under [sandbox.kubernetes].")
            }
            return .pod
        }
        let problems = SandboxTemplateCheck.problems(template, settings: settings)
        guard problems.isEmpty else {
            throw .backendUnavailable(backend: "kubernetes",
                                      reason: "SandboxTemplate \(settings.sandboxTemplate) cannot hold sandboxed runs: " + problems.joined(separator: "; "),
                                      remedy: "Fix the template (deploy/kubernetes/agent-sandbox/sandbox-template.yaml is one that passes), or set provisioning = \"pod\" under [sandbox.kubernetes].")
        }
        return .claim(template: template)
    }

    static func oomKilled(_ pod: [String: Any]) -> Bool {
        let statuses = (pod["status"] as? [String: Any])?["containerStatuses"] as? [[String: Any]] ?? []
        return statuses.contains { status in
            let state = status["state"] as? [String: Any]
            let terminated = state?["terminated"] as? [String: Any]
            return terminated?["reason"] as? String == "OOMKilled"
        }
    }

    /// Deletes the run's pod and policy, or its claim (which takes its Sandbox and pod with
    /// it), even when the run was cancelled: the deletions are their own task, which the
    /// caller's cancellation does not reach.
    private func removeObjects(_ objects: KubernetesObjects, _ provision: Provision) async {
        let client = client, namespace = settings.namespace, name = objects.name, logger = logger
        let kinds: [KubernetesClient.Kind] = if case .claim = provision { [.sandboxclaims] } else { [.pods, .networkpolicies] }
        await Task.detached {
            for kind in kinds {
                do {
                    try await client.delete(kind, namespace: namespace, name: name)
                } catch {
                    logger.warning("could not delete \(kind.rawValue)/\(name); the next start-up sweep will: \(error)")
                }
            }
        }.value
    }

    /// Deletes the labelled pods, policies and claims whose deadline has passed, and pods that
    /// have ended; answers how many objects it deleted. Runs of other replicas are left alone.
    func sweep(now: Date = Date()) async throws(DoerError) -> Int {
        var deleted = 0
        let selector = "\(KubernetesObjects.managedBy)=doer,\(KubernetesObjects.sandboxLabel)"
        let kinds: [KubernetesClient.Kind] = [.pods, .networkpolicies] + (claimsServed.withLock { $0 } == true ? [.sandboxclaims] : [])
        for kind in kinds {
            for object in try await client.list(kind, namespace: settings.namespace, labelSelector: selector) {
                let metadata = object["metadata"] as? [String: Any] ?? [:]
                guard let name = metadata["name"] as? String else { continue }
                let expires = ((metadata["annotations"] as? [String: Any])?[KubernetesObjects.expiresAnnotation] as? String).flatMap(Int.init)
                let phase = (object["status"] as? [String: Any])?["phase"] as? String
                let over = expires.map { $0 <= Int(now.timeIntervalSince1970) } ?? true
                guard over || phase == "Succeeded" || phase == "Failed" else { continue }
                try await client.delete(kind, namespace: settings.namespace, name: name)
                deleted += 1
            }
        }
        if deleted > 0 { logger.info("deleted \(deleted) sandbox objects left from earlier runs") }
        return deleted
    }
}
