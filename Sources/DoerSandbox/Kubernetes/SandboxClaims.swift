import DoerCore
import Foundation

/// A run's pod claimed from kubernetes-sigs/agent-sandbox instead of written by Doer: a
/// SandboxClaim names the SandboxTemplate, and the cluster's controller hands it a pod of
/// that template, from a SandboxWarmPool when one holds a ready pod. Deleting the claim
/// deletes its Sandbox and pod; `lifecycle.shutdownTime` lets the controller do so itself if
/// no Doer is left to.
extension KubernetesObjects {
    var claim: [String: Any] {
        [
            "apiVersion": "extensions.agents.x-k8s.io/v1alpha1", "kind": "SandboxClaim", "metadata": metadata,
            "spec": [
                "sandboxTemplateRef": ["name": settings.sandboxTemplate],
                "lifecycle": ["shutdownTime": Self.timestamp(expiresAt), "shutdownPolicy": "Delete"],
            ] as [String: Any],
        ]
    }

    static func timestamp(_ seconds: Int) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
    }
}

/// What a watched claim's status says: ready once its `Ready` condition is true and it
/// names its pod's address.
enum ClaimState {
    static func of(_ claim: [String: Any]) -> PodState {
        let status = claim["status"] as? [String: Any] ?? [:]
        let conditions = status["conditions"] as? [[String: Any]] ?? []
        let ready = conditions.first { $0["type"] as? String == "Ready" }
        let sandbox = status["sandbox"] as? [String: Any] ?? [:]
        let address = (sandbox["podIPs"] as? [String])?.first { !$0.isEmpty }
        if ready?["status"] as? String == "True", let address { return .ready(ip: address) }
        let said = [ready?["reason"] as? String, ready?["message"] as? String].compactMap { $0 }.joined(separator: ": ")
        if ready?["status"] as? String == "True" { return .pending("ready, without a pod address yet") }
        return .pending(said.isEmpty ? "waiting for the controller" : said)
    }

    /// The name of the claim's Sandbox, which its pod is named after.
    static func sandboxName(_ claim: [String: Any]) -> String? {
        ((claim["status"] as? [String: Any])?["sandbox"] as? [String: Any])?["name"] as? String
    }
}

/// The checks a SandboxTemplate must pass before Doer runs code in its pods. Doer did not
/// write that pod, so what it would otherwise guarantee itself is read off the template:
/// gVisor (the configured RuntimeClass), no way out (a managed network policy with no egress
/// rule: left out, the controller's default lets pods reach the internet), no service
/// account token, nothing of the node's.
enum SandboxTemplateCheck {
    /// Why the template may not be used; empty when it may.
    static func problems(_ template: [String: Any], settings: KubernetesSettings) -> [String] {
        let spec = template["spec"] as? [String: Any] ?? [:]
        let podSpec = (spec["podTemplate"] as? [String: Any])?["spec"] as? [String: Any] ?? [:]
        var problems: [String] = []
        let runtimeClass = podSpec["runtimeClassName"] as? String
        if runtimeClass != settings.runtimeClass {
            problems.append("its pods run under \(runtimeClass.map { "RuntimeClass \($0)" } ?? "the node's default runtime"), "
                + "not \(settings.runtimeClass) (set spec.podTemplate.spec.runtimeClassName)")
        }
        if spec["networkPolicyManagement"] as? String == "Unmanaged" {
            problems.append("its network policy is left to others (networkPolicyManagement: Unmanaged)")
        } else if let policy = spec["networkPolicy"] as? [String: Any] {
            if let egress = policy["egress"] as? [Any], !egress.isEmpty {
                problems.append("its network policy lets pods out (\(egress.count) egress rule\(egress.count == 1 ? "" : "s"); sandboxes have no network)")
            }
        } else {
            problems.append("it has no networkPolicy, and the controller's default lets pods reach the internet (set networkPolicy.egress: [])")
        }
        if podSpec["automountServiceAccountToken"] as? Bool == true {
            problems.append("it mounts a service account token into its pods (automountServiceAccountToken: true)")
        }
        for key in ["hostNetwork", "hostPID", "hostIPC"] where podSpec[key] as? Bool == true {
            problems.append("its pods share the node's \(key.dropFirst(4).lowercased()) (\(key): true)")
        }
        let containers = (podSpec["containers"] as? [[String: Any]] ?? []) + (podSpec["initContainers"] as? [[String: Any]] ?? [])
        for container in containers {
            let context = container["securityContext"] as? [String: Any] ?? [:]
            if context["privileged"] as? Bool == true {
                problems.append("container \(container["name"] as? String ?? "?") is privileged")
            }
        }
        if containers.isEmpty { problems.append("it has no container") }
        return problems
    }

    /// What the run's limits become in the template's pods, where they differ from the
    /// request: the pod's memory limit is the template's, whatever the run asked for.
    static func warnings(_ template: [String: Any], limits: ResourceLimits) -> [String] {
        guard let wanted = limits.memoryBytes else { return [] }
        let podSpec = ((template["spec"] as? [String: Any])?["podTemplate"] as? [String: Any])?["spec"] as? [String: Any] ?? [:]
        let container = (podSpec["containers"] as? [[String: Any]])?.first ?? [:]
        let limit = ((container["resources"] as? [String: Any])?["limits"] as? [String: Any])?["memory"]
        let bytes = (limit as? String).flatMap(Self.quantity) ?? (limit as? Int).map(Int64.init)
        guard let bytes else {
            return ["memory limit not enforced: the SandboxTemplate's pods have none (the run asked for \(ByteSize.format(wanted)))"]
        }
        if bytes > wanted + KubernetesObjects.runnerMemoryBytes {
            return ["memory limit is the SandboxTemplate's \(ByteSize.format(bytes)), not the \(ByteSize.format(wanted)) the run asked for"]
        }
        return []
    }

    /// A Kubernetes quantity of bytes: `1073741824`, `512Mi`, `1G`, `1.5Gi`; nil for anything else.
    static func quantity(_ text: String) -> Int64? {
        let suffixes: [(String, Double)] = [("Ki", 1024), ("Mi", 1_048_576), ("Gi", 1_073_741_824), ("Ti", 1_099_511_627_776),
                                            ("k", 1e3), ("M", 1e6), ("G", 1e9), ("T", 1e12)]
        for (suffix, scale) in suffixes where text.hasSuffix(suffix) {
            guard let number = Double(text.dropLast(suffix.count)), number >= 0 else { return nil }
            return Int64(number * scale)
        }
        guard let number = Double(text), number >= 0 else { return nil }
        return Int64(number)
    }
}
