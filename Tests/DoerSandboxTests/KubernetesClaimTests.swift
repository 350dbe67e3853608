import DoerCore
@testable import DoerSandbox
import Foundation
import Testing

/// The kubernetes backend on a cluster that runs kubernetes-sigs/agent-sandbox: runs are
/// SandboxClaims on a checked SandboxTemplate, against the fake API server, whose controller
/// plays agent-sandbox's (a runner per claim, the claim's status Ready with its address).
@Suite("kubernetes backend with agent-sandbox claims", .enabled(if: SandboxPodController.runnerPath != nil, "needs doer-sandbox-runner built"))
struct KubernetesClaimTests {
    /// A template Doer accepts: gVisor, a managed policy with no egress, no token.
    static func template(_ edit: (inout [String: Any], inout [String: Any]) -> Void = { _, _ in }) -> [String: Any] {
        var podSpec: [String: Any] = [
            "runtimeClassName": "gvisor",
            "automountServiceAccountToken": false,
            "containers": [[
                "name": "runner", "image": "registry.example.com/doer-sandbox:test",
                "command": ["doer-sandbox-runner", "--port", "8787", "--workspace", "/workspace"],
                "resources": ["limits": ["memory": "1088Mi"]],
            ] as [String: Any]],
        ]
        var spec: [String: Any] = ["networkPolicy": ["ingress": [[String: Any]](), "egress": [[String: Any]]()]]
        edit(&spec, &podSpec)
        spec["podTemplate"] = ["spec": podSpec]
        return ["apiVersion": "extensions.agents.x-k8s.io/v1alpha1", "kind": "SandboxTemplate",
                "metadata": ["name": "doer-sandbox", "namespace": "doer-sandboxes"], "spec": spec]
    }

    static func cluster(provisioning: SandboxProvisioning = .auto, serves: Bool = true, template: [String: Any]? = template(),
                        mode: SandboxPodController.Mode = .local, startTimeout: Double = 90) throws -> FakeCluster {
        let cluster = try FakeCluster(mode: mode, startTimeout: startTimeout, servesSandboxClaims: serves, provisioning: provisioning)
        if let template, serves { cluster.api.seed("sandboxtemplates", template) }
        return cluster
    }

    @Test("a run is a claim on the template: output, exit code and changes come back; no pod or policy of Doer's; the claim is deleted")
    func runThroughClaim() async throws {
        let cluster = try Self.cluster()
        let workspace = try ScratchWorkspace(files: ["a.txt": "one\n"])
        let result = try await cluster.sh("cat a.txt; echo err >&2; echo two > a.txt; echo new > b.txt; exit 4", in: workspace)
        #expect(result.termination == .exited(4))
        #expect(result.stdout.text == "one\n")
        #expect(result.stderr.text == "err\n")
        #expect(result.backend == .kubernetes)
        #expect(result.changesApplied)
        #expect(workspace.read("a.txt") == "two\n")
        #expect(workspace.read("b.txt") == "new\n")
        #expect(result.warnings.allSatisfy { !$0.contains("memory limit") }, "\(result.warnings)")

        let claim = try #require(cluster.controller.claims.first)
        #expect(claim["kind"] as? String == "SandboxClaim")
        #expect(claim["apiVersion"] as? String == "extensions.agents.x-k8s.io/v1alpha1")
        let spec = try #require(claim["spec"] as? [String: Any])
        #expect((spec["sandboxTemplateRef"] as? [String: Any])?["name"] as? String == "doer-sandbox")
        let lifecycle = try #require(spec["lifecycle"] as? [String: Any])
        #expect(lifecycle["shutdownPolicy"] as? String == "Delete")
        let shutdown = try #require((lifecycle["shutdownTime"] as? String).flatMap { ISO8601DateFormatter().date(from: $0) })
        #expect(shutdown > Date() && shutdown < Date().addingTimeInterval(3600))
        let labels = try #require((claim["metadata"] as? [String: Any])?["labels"] as? [String: String])
        #expect(labels["app.kubernetes.io/managed-by"] == "doer")

        // Only the claim was created; it was watched, then deleted, and took its Sandbox and pod with it.
        let posts = cluster.api.recorded.filter { $0.method == "POST" }.map(\.uri)
        #expect(posts == ["/apis/extensions.agents.x-k8s.io/v1alpha1/namespaces/doer-sandboxes/sandboxclaims"])
        #expect(cluster.controller.pods.isEmpty)
        #expect(cluster.api.recorded.contains { $0.uri.contains("/sandboxclaims?watch=true") })
        #expect(cluster.api.names("sandboxclaims").isEmpty)
        #expect(cluster.api.names("pods").isEmpty)
        #expect(cluster.api.names("networkpolicies").isEmpty)
        #expect(cluster.controller.runningRunners == 0)
    }

    @Test("auto uses pods where the cluster has no agent-sandbox, or no such template; claim mode says what is missing")
    func fallbackAndMissing() async throws {
        let workspace = try ScratchWorkspace()
        for cluster in [try Self.cluster(serves: false), try Self.cluster(template: nil)] {
            let result = try await cluster.sh("echo pod", in: workspace)
            #expect(result.stdout.text == "pod\n")
            #expect(cluster.controller.pods.count == 1)
            #expect(cluster.controller.claims.isEmpty)
        }
        let noCRDs = try Self.cluster(provisioning: .claim, serves: false)
        await #expect { _ = try await noCRDs.sh("true", in: workspace) } throws: { error in
            (error as? DoerError)?.description.contains("does not serve SandboxClaims") == true
        }
        let noTemplate = try Self.cluster(provisioning: .claim, template: nil)
        await #expect { _ = try await noTemplate.sh("true", in: workspace) } throws: { error in
            (error as? DoerError)?.description.contains("no SandboxTemplate doer-sandbox") == true
        }
        #expect(noCRDs.controller.pods.isEmpty && noTemplate.controller.pods.isEmpty)
        // Pod mode never asks.
        let pods = try Self.cluster(provisioning: .pod)
        _ = try await pods.sh("true", in: workspace)
        #expect(pods.controller.claims.isEmpty && pods.controller.pods.count == 1)
        #expect(!pods.api.recorded.contains { $0.uri.contains("agents.x-k8s.io") })
    }

    /// Templates broken one way each, and what the refusal must say.
    static func unsafeTemplate(_ name: String) -> (template: [String: Any], reason: String) {
        switch name {
        case "no policy": (template { spec, _ in spec["networkPolicy"] = nil }, "lets pods reach the internet")
        case "egress": (template { spec, _ in spec["networkPolicy"] = ["egress": [["to": [["ipBlock": ["cidr": "0.0.0.0/0"]]]]]] }, "lets pods out")
        case "unmanaged": (template { spec, _ in spec["networkPolicyManagement"] = "Unmanaged" }, "Unmanaged")
        case "runc": (template { _, pod in pod["runtimeClassName"] = nil }, "the node's default runtime")
        case "kata": (template { _, pod in pod["runtimeClassName"] = "kata" }, "RuntimeClass kata, not gvisor")
        case "token": (template { _, pod in pod["automountServiceAccountToken"] = true }, "service account token")
        case "host network": (template { _, pod in pod["hostNetwork"] = true }, "node's network")
        default: (template { _, pod in pod["containers"] = [["name": "runner", "image": "x", "securityContext": ["privileged": true]]] },
                  "privileged")
        }
    }

    @Test("a template that would let code out, or run it outside gVisor, is refused before anything is created",
          arguments: ["no policy", "egress", "unmanaged", "runc", "kata", "token", "host network", "privileged"])
    func unsafeTemplates(_ name: String) async throws {
        let (template, reason) = Self.unsafeTemplate(name)
        let cluster = try Self.cluster(template: template)
        let workspace = try ScratchWorkspace()
        await #expect {
            _ = try await cluster.sh("true", in: workspace)
        } throws: { error in
            let text = (error as? DoerError)?.description ?? ""
            return text.contains("SandboxTemplate doer-sandbox cannot hold sandboxed runs") && text.contains(reason)
        }
        #expect(!cluster.api.recorded.contains { $0.method == "POST" }, "\(name): nothing may be created")
    }

    @Test("a claim that never gets a pod fails after the start timeout with the controller's word, and is deleted")
    func neverReady() async throws {
        let cluster = try Self.cluster(mode: .neverReady, startTimeout: 1)
        let workspace = try ScratchWorkspace()
        await #expect {
            _ = try await cluster.sh("true", in: workspace)
        } throws: { error in
            let text = (error as? DoerError)?.description ?? ""
            return text.contains("SandboxClaim") && text.contains("not ready") && text.contains("no warm pod")
        }
        #expect(cluster.api.names("sandboxclaims").isEmpty)
    }

    @Test("the template's memory limit stands in for the run's, and the run says so when it is larger")
    func memoryLimitWarning() async throws {
        let larger = try Self.cluster(template: Self.template { _, pod in
            pod["containers"] = [["name": "runner", "image": "x", "resources": ["limits": ["memory": "8Gi"]]]]
        })
        let workspace = try ScratchWorkspace()
        let result = try await larger.sh("true", in: workspace)
        #expect(result.warnings.contains { $0.contains("memory limit is the SandboxTemplate's 8g, not the 1g the run asked for") }, "\(result.warnings)")
        #expect(SandboxTemplateCheck.quantity("512Mi") == 512 << 20)
        #expect(SandboxTemplateCheck.quantity("1G") == 1_000_000_000)
        #expect(SandboxTemplateCheck.quantity("1.5Gi") == 3 << 29)
        #expect(SandboxTemplateCheck.quantity("lots") == nil)
        #expect(SandboxTemplateCheck.warnings(Self.template { _, pod in pod["containers"] = [["name": "r", "image": "x"]] },
                                              limits: ResourceLimits()).first?.contains("not enforced") == true)
    }

    @Test("the first run also sweeps claims past their deadline, never live ones")
    func sweepClaims() async throws {
        let cluster = try Self.cluster()
        let now = Int(Date().timeIntervalSince1970)
        for (name, expires) in [("old-claim", now - 10), ("live-claim", now + 600)] {
            cluster.api.seed("sandboxclaims", ["kind": "SandboxClaim", "metadata": [
                "name": name, "namespace": "doer-sandboxes",
                "labels": ["app.kubernetes.io/managed-by": "doer", "doer.dev/sandbox": name],
                "annotations": ["doer.dev/expires-at": String(expires)]]])
        }
        let workspace = try ScratchWorkspace()
        _ = try await cluster.sh("true", in: workspace)
        #expect(cluster.api.names("sandboxclaims") == ["live-claim"])
    }

    @Test("the SandboxTemplate in deploy/kubernetes/agent-sandbox passes the check; with a way out it does not")
    func deployedTemplate() throws {
        let path = KubernetesObjectTests.root.appendingPathComponent("deploy/kubernetes/agent-sandbox/sandbox-template.yaml").path
        let converted = try KubernetesObjectTests.python(["-c", "import json, sys, yaml; print(json.dumps(next(yaml.safe_load_all(open(sys.argv[1])))))", path])
        try #require(converted.status == 0, "\(converted.output)")
        var template = try #require(try JSONSerialization.jsonObject(with: Data(converted.output.utf8)) as? [String: Any])
        #expect(template["kind"] as? String == "SandboxTemplate")
        #expect(SandboxTemplateCheck.problems(template, settings: KubernetesSettings()) == [])
        #expect(SandboxTemplateCheck.warnings(template, limits: ResourceLimits()) == [])
        var spec = try #require(template["spec"] as? [String: Any])
        spec["networkPolicy"] = ["egress": [["to": [["ipBlock": ["cidr": "0.0.0.0/0"]]]]]]
        template["spec"] = spec
        #expect(SandboxTemplateCheck.problems(template, settings: KubernetesSettings()).count == 1)
    }
}
