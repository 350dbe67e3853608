public import Foundation
import DoerCore

/// Where and how the `kubernetes` backend starts its sandbox pods: `[sandbox.kubernetes]` in
/// config.toml. Left unset, the API server, token and CA are the pod's own service account's
/// (`KUBERNETES_SERVICE_HOST`, `/var/run/secrets/kubernetes.io/serviceaccount`), which is how
/// `doer serve` runs in the cluster (deploy/kubernetes).
public struct KubernetesSettings: Sendable, Hashable {
    /// `https://host:port` of the API server; nil: in-cluster.
    public var apiServer: String?
    public var namespace: String
    /// The RuntimeClass every sandbox pod names (deploy/kubernetes/10-runtimeclass.yaml).
    public var runtimeClass: String
    /// An image holding doer-sandbox-runner, doer-sandbox-init and the toolchains runs need.
    public var image: String?
    /// A file holding the bearer token; nil: the service account's, when it exists.
    public var tokenFile: String?
    /// The API server's CA bundle (PEM); nil: the service account's, when it exists.
    public var caFile: String?
    /// The port doer-sandbox-runner listens on inside the pod.
    public var runnerPort: Int
    /// How long a pod may take to be scheduled, pull its image and become ready.
    public var startTimeoutSeconds: Double
    /// Who may reach a sandbox pod's runner: the namespace and `app.kubernetes.io/name` of
    /// the doer server's pods (its NetworkPolicy lets nothing else in).
    public var serverNamespace: String
    public var serverName: String
    /// Whether a run's pod is written by Doer or claimed from agent-sandbox (`SandboxProvisioning`).
    public var provisioning: SandboxProvisioning
    /// The agent-sandbox SandboxTemplate (in `namespace`) a claim names.
    public var sandboxTemplate: String

    public static let serviceAccountFolder = "/var/run/secrets/kubernetes.io/serviceaccount"

    public init(apiServer: String? = nil, namespace: String = "doer-sandboxes", runtimeClass: String = "gvisor",
                image: String? = nil, tokenFile: String? = nil, caFile: String? = nil, runnerPort: Int = 8787,
                startTimeoutSeconds: Double = 120, serverNamespace: String = "doer", serverName: String = "doer",
                provisioning: SandboxProvisioning = .auto, sandboxTemplate: String = "doer-sandbox") {
        self.apiServer = apiServer
        self.namespace = namespace
        self.runtimeClass = runtimeClass
        self.image = image
        self.tokenFile = tokenFile
        self.caFile = caFile
        self.runnerPort = runnerPort
        self.startTimeoutSeconds = startTimeoutSeconds
        self.serverNamespace = serverNamespace
        self.serverName = serverName
        self.provisioning = provisioning
        self.sandboxTemplate = sandboxTemplate
    }

    /// What a client needs, with the in-cluster defaults filled in; throws what is missing.
    func endpoint(environment: [String: String] = ProcessInfo.processInfo.environment) throws(DoerError) -> KubernetesEndpoint {
        var server = apiServer
        if server == nil, let host = environment["KUBERNETES_SERVICE_HOST"], !host.isEmpty {
            let port = environment["KUBERNETES_SERVICE_PORT"].flatMap { $0.isEmpty ? nil : $0 } ?? "443"
            server = "https://" + (host.contains(":") ? "[\(host)]" : host) + ":" + port
        }
        guard let server else {
            throw .backendUnavailable(backend: "kubernetes", reason: "no API server is configured and Doer is not running in a pod",
                                      remedy: "Set api_server under [sandbox.kubernetes] in config.toml.")
        }
        guard let image, !image.isEmpty else {
            throw .backendUnavailable(backend: "kubernetes", reason: "no sandbox image is configured",
                                      remedy: "Set image under [sandbox.kubernetes] to an image holding doer-sandbox-runner.")
        }
        func defaulted(_ configured: String?, _ name: String) -> String? {
            if let configured { return configured }
            let path = Self.serviceAccountFolder + "/" + name
            return FileManager.default.fileExists(atPath: path) ? path : nil
        }
        return KubernetesEndpoint(server: server.hasSuffix("/") ? String(server.dropLast()) : server,
                                  tokenFile: defaulted(tokenFile, "token"), caFile: defaulted(caFile, "ca.crt"), image: image)
    }
}

/// How a run gets its pod. kubernetes-sigs/agent-sandbox, where a cluster runs it, keeps
/// warm pods of a SandboxTemplate ready and hands one to each SandboxClaim, which saves the
/// image pull and the start of a pod per run; without it Doer writes each pod itself.
public enum SandboxProvisioning: String, Sendable, Hashable, CaseIterable {
    /// A claim where the cluster serves SandboxClaims and the template exists; a pod otherwise.
    case auto
    /// Always a claim: a cluster without agent-sandbox or the template is an error.
    case claim
    /// Always a pod of Doer's own.
    case pod
}

/// The resolved API server, credentials and image.
struct KubernetesEndpoint: Sendable, Hashable {
    var server: String
    var tokenFile: String?
    var caFile: String?
    var image: String
}
