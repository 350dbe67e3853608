import DoerCore
import Foundation

/// The objects the backend creates for one run, as the JSON the API takes: the sandbox pod
/// under the RuntimeClass (deploy/kubernetes/sandbox/pod.yaml is this pod with one run's values)
/// and the NetworkPolicy that gives it no network. Both carry the labels the start-up sweep
/// looks for and the time after which any replica may delete them.
struct KubernetesObjects {
    static let managedBy = "app.kubernetes.io/managed-by"
    static let sandboxLabel = "doer.dev/sandbox"
    static let expiresAnnotation = "doer.dev/expires-at"
    /// What the runner itself needs beside the run's memory.
    static let runnerMemoryBytes: Int64 = 64 << 20
    /// Slack on the emptyDir size limits, so the run's own disk limit is what stops it.
    static let volumeSlackBytes: Int64 = 16 << 20

    let settings: KubernetesSettings
    let image: String
    /// 12 hex digits: the pod's and the policy's name is `doer-sandbox-<id>`.
    let id: String
    let limits: ResourceLimits
    /// Bytes of the workspace sent in: it is on the pod's disk twice (the workspace and the
    /// runner's view of it).
    let workspaceBytes: Int64
    let createdAt: Date

    var name: String { "doer-sandbox-\(id)" }

    /// The pod's own deadline: the run's timeout, the time to start, and a minute for moving
    /// the workspace in and out.
    var activeDeadlineSeconds: Int {
        Int(limits.wallClockSeconds.rounded(.up)) + Int(settings.startTimeoutSeconds.rounded(.up)) + 60
    }

    var expiresAt: Int { Int(createdAt.timeIntervalSince1970) + activeDeadlineSeconds + 60 }

    var metadata: [String: Any] {
        ["name": name, "namespace": settings.namespace,
         "labels": ["app.kubernetes.io/part-of": "doer", Self.managedBy: "doer", Self.sandboxLabel: id],
         "annotations": [Self.expiresAnnotation: String(expiresAt)]]
    }

    var pod: [String: Any] {
        var requests: [String: Any] = ["cpu": "100m"]
        var limitsMap: [String: Any] = [:]
        if let memory = limits.memoryBytes {
            requests["memory"] = String(memory)
            limitsMap["memory"] = String(memory + Self.runnerMemoryBytes)
        }
        var workspaceVolume: [String: Any] = [:]
        var tmpVolume: [String: Any] = [:]
        if let disk = limits.diskBytes {
            let workspaceSize = workspaceBytes + disk + Self.volumeSlackBytes
            // /tmp holds the run's own /tmp and the runner's view of the workspace.
            let tmpSize = limits.tmpSizeBytes + workspaceBytes + disk + Self.volumeSlackBytes
            workspaceVolume["sizeLimit"] = String(workspaceSize)
            tmpVolume["sizeLimit"] = String(tmpSize)
            requests["ephemeral-storage"] = String(workspaceSize + tmpSize)
            limitsMap["ephemeral-storage"] = String(workspaceSize + tmpSize)
        }
        var resources: [String: Any] = ["requests": requests]
        if !limitsMap.isEmpty { resources["limits"] = limitsMap }
        let container: [String: Any] = [
            "name": "runner",
            "image": image,
            "command": ["doer-sandbox-runner", "--port", String(settings.runnerPort), "--workspace", "/workspace"],
            "ports": [["name": "runner", "containerPort": settings.runnerPort]],
            "readinessProbe": ["httpGet": ["path": "/healthz", "port": "runner"], "periodSeconds": 1],
            "resources": resources,
            "securityContext": ["allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true,
                                "capabilities": ["drop": ["ALL"]]],
            "volumeMounts": [["name": "workspace", "mountPath": "/workspace"], ["name": "tmp", "mountPath": "/tmp"]],
        ]
        return [
            "apiVersion": "v1", "kind": "Pod", "metadata": metadata,
            "spec": [
                "runtimeClassName": settings.runtimeClass,
                "restartPolicy": "Never",
                "activeDeadlineSeconds": activeDeadlineSeconds,
                "automountServiceAccountToken": false,
                "enableServiceLinks": false,
                "terminationGracePeriodSeconds": 0,
                "securityContext": ["runAsNonRoot": true, "runAsUser": 65534, "runAsGroup": 65534, "fsGroup": 65534,
                                    "seccompProfile": ["type": "RuntimeDefault"]],
                "containers": [container],
                "volumes": [["name": "workspace", "emptyDir": workspaceVolume], ["name": "tmp", "emptyDir": tmpVolume]],
            ] as [String: Any],
        ]
    }

    /// Nothing out; in, only the doer server's pods, on the runner's port.
    var networkPolicy: [String: Any] {
        [
            "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": metadata,
            "spec": [
                "podSelector": ["matchLabels": [Self.sandboxLabel: id]],
                "policyTypes": ["Ingress", "Egress"],
                "ingress": [[
                    "from": [["namespaceSelector": ["matchLabels": ["kubernetes.io/metadata.name": settings.serverNamespace]],
                              "podSelector": ["matchLabels": ["app.kubernetes.io/name": settings.serverName]]]],
                    "ports": [["protocol": "TCP", "port": settings.runnerPort]],
                ]],
                "egress": [Any](),
            ] as [String: Any],
        ]
    }

    static func json(_ object: [String: Any]) -> Data {
        (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
    }

    static func newID() -> String {
        (0..<6).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
    }
}

/// What a watched pod's status says about it.
enum PodState: Equatable {
    case pending(String)
    case ready(ip: String)
    case failed(String)

    /// Reasons a container waits that no amount of waiting will fix.
    static let hopelessWaits: Set<String> = ["ErrImagePull", "ImagePullBackOff", "InvalidImageName",
                                             "CreateContainerConfigError", "CreateContainerError", "RunContainerError"]

    init(pod: [String: Any]) {
        let status = pod["status"] as? [String: Any] ?? [:]
        let phase = status["phase"] as? String ?? "Pending"
        let message = [status["reason"] as? String, status["message"] as? String].compactMap { $0 }.joined(separator: ": ")
        if phase == "Failed" || phase == "Succeeded" {
            self = .failed("the pod ended (\(phase)\(message.isEmpty ? "" : ": " + message)) before its run")
            return
        }
        for container in status["containerStatuses"] as? [[String: Any]] ?? [] {
            let state = container["state"] as? [String: Any] ?? [:]
            if let waiting = state["waiting"] as? [String: Any], let reason = waiting["reason"] as? String,
               Self.hopelessWaits.contains(reason) {
                self = .failed("the runner container cannot start: \(reason)" + ((waiting["message"] as? String).map { ": " + $0 } ?? ""))
                return
            }
            if let terminated = state["terminated"] as? [String: Any] {
                self = .failed("the runner container ended before its run: \(terminated["reason"] as? String ?? "terminated")")
                return
            }
        }
        let conditions = status["conditions"] as? [[String: Any]] ?? []
        let ready = conditions.contains { $0["type"] as? String == "Ready" && $0["status"] as? String == "True" }
        if phase == "Running", ready, let ip = status["podIP"] as? String, !ip.isEmpty {
            self = .ready(ip: ip)
        } else {
            self = .pending(phase + (message.isEmpty ? "" : " (\(message))"))
        }
    }
}
