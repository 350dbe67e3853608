import AsyncHTTPClient
import DoerCore
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import Synchronization

/// The few calls of the Kubernetes API the backend makes, over async-http-client: create an
/// object, watch a pod (`?watch=true`) until its runner is ready, list and delete labelled
/// objects; and the one call to the runner in the pod.
struct KubernetesClient: Sendable {
    let endpoint: KubernetesEndpoint

    /// One client for the process, as the model providers have; TLS is set per request.
    static let http = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup,
                                 configuration: HTTPClient.Configuration(timeout: .init(connect: .seconds(10))))

    enum Kind: String {
        case pods, networkpolicies
        /// kubernetes-sigs/agent-sandbox: claims and their templates, and the Sandbox a claim gets.
        case sandboxclaims, sandboxtemplates, sandboxes

        static let claimsGroup = "/apis/extensions.agents.x-k8s.io/v1alpha1"
        static let sandboxesGroup = "/apis/agents.x-k8s.io/v1alpha1"

        /// As people name one of them.
        var singular: String {
            switch self {
            case .pods: "pod"
            case .networkpolicies: "NetworkPolicy"
            case .sandboxclaims: "SandboxClaim"
            case .sandboxtemplates: "SandboxTemplate"
            case .sandboxes: "Sandbox"
            }
        }

        func path(namespace: String) -> String {
            switch self {
            case .pods: "/api/v1/namespaces/\(namespace)/pods"
            case .networkpolicies: "/apis/networking.k8s.io/v1/namespaces/\(namespace)/networkpolicies"
            case .sandboxclaims, .sandboxtemplates: "\(Self.claimsGroup)/namespaces/\(namespace)/\(rawValue)"
            case .sandboxes: "\(Self.sandboxesGroup)/namespaces/\(namespace)/sandboxes"
            }
        }
    }

    /// Whether the cluster serves agent-sandbox's SandboxClaims (its CRDs are installed):
    /// the API group's discovery document lists them.
    func servesSandboxClaims() async throws(DoerError) -> Bool {
        let (status, body) = try await send(.GET, Kind.claimsGroup)
        if status == 404 { return false }
        guard status == 200 else { throw Self.failure("listing the API group extensions.agents.x-k8s.io", status, body) }
        let resources = ((try? JSONSerialization.jsonObject(with: body)) as? [String: Any])?["resources"] as? [[String: Any]] ?? []
        return resources.contains { $0["name"] as? String == Kind.sandboxclaims.rawValue }
    }

    func create(_ kind: Kind, namespace: String, _ object: [String: Any]) async throws(DoerError) {
        let (status, body) = try await send(.POST, kind.path(namespace: namespace), body: KubernetesObjects.json(object))
        guard (200..<300).contains(status) else { throw Self.failure("creating a \(kind.singular)", status, body) }
    }

    /// Deletes one object; one that is already gone is fine.
    func delete(_ kind: Kind, namespace: String, name: String) async throws(DoerError) {
        let (status, body) = try await send(.DELETE, kind.path(namespace: namespace) + "/" + name,
                                            body: Data(#"{"kind":"DeleteOptions","apiVersion":"v1","gracePeriodSeconds":0}"#.utf8))
        guard (200..<300).contains(status) || status == 404 else { throw Self.failure("deleting \(kind.singular) \(name)", status, body) }
    }

    func list(_ kind: Kind, namespace: String, labelSelector: String) async throws(DoerError) -> [[String: Any]] {
        let query = labelSelector.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? labelSelector
        let (status, body) = try await send(.GET, kind.path(namespace: namespace) + "?labelSelector=" + query)
        guard status == 200 else { throw Self.failure("listing \(kind.rawValue)", status, body) }
        let object = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any]
        return object?["items"] as? [[String: Any]] ?? []
    }

    /// One object, or nil when there is none by that name.
    func get(_ kind: Kind, namespace: String, name: String) async throws(DoerError) -> [String: Any]? {
        let (status, body) = try await send(.GET, kind.path(namespace: namespace) + "/" + name)
        if status == 404 { return nil }
        guard status == 200 else { throw Self.failure("reading \(kind.singular) \(name)", status, body) }
        return (try? JSONSerialization.jsonObject(with: body)) as? [String: Any]
    }

    /// Watches the object (a pod, or a claim) until `state` says its runner is ready and
    /// answers its IP; one that fails, or is not ready within `timeout`, throws with the last
    /// state seen. A watch the server ends is started again from the last resource version.
    func waitUntilReady(_ kind: Kind = .pods, namespace: String, name: String, timeout: Duration,
                        state: @escaping @Sendable ([String: Any]) -> PodState = { PodState(pod: $0) }) async throws(DoerError) -> String {
        let deadline = ContinuousClock.now + timeout
        var resourceVersion: String?
        var lastState = "not seen yet"
        while true {
            let remaining = deadline - .now
            guard remaining > .zero else {
                throw .sandboxFailure("sandbox \(kind.singular) \(name) was not ready after \(Int(timeout.milliseconds / 1000)) s (last state: \(lastState))")
            }
            var path = kind.path(namespace: namespace) + "?watch=true&fieldSelector=metadata.name%3D" + name
            if let resourceVersion { path += "&resourceVersion=" + resourceVersion }
            let outcome: WatchOutcome
            do {
                outcome = try await watch(path, kind: kind, for: remaining, state: state)
            } catch let error as DoerError {
                throw error
            } catch is CancellationError {
                throw .cancelled
            } catch {
                throw .sandboxFailure("watching sandbox \(kind.singular) \(name): \(error)")
            }
            switch outcome {
            case .ready(let ip): return ip
            case .failed(let reason): throw .sandboxFailure("sandbox \(kind.singular) \(name): \(reason)")
            case .ended(let version, let state):
                resourceVersion = version ?? resourceVersion
                lastState = state ?? lastState
                if Task.isCancelled { throw .cancelled }
            }
        }
    }

    private enum WatchOutcome {
        case ready(String)
        case failed(String)
        /// The stream ended (or the time ran out) without a verdict.
        case ended(resourceVersion: String?, lastState: String?)
    }

    private func watch(_ path: String, kind: Kind, for remaining: Duration,
                       state: @escaping @Sendable ([String: Any]) -> PodState) async throws -> WatchOutcome {
        let request = try makeRequest(.GET, path, body: nil)
        // The last state the stream showed, for the answer when the time runs out first.
        let seen = LastSeen()
        return try await withThrowingTaskGroup(of: WatchOutcome.self) { group in
            group.addTask {
                let response = try await Self.http.execute(request, deadline: .now() + .milliseconds(Int64(remaining.milliseconds)))
                guard response.status == .ok else {
                    let body = try await response.body.collect(upTo: 1 << 20)
                    throw Self.failure("watching the \(kind.singular)", Int(response.status.code), Data(body.readableBytesView))
                }
                var pending = Data()
                var version: String?
                var last: String?
                for try await chunk in response.body {
                    pending.append(contentsOf: chunk.readableBytesView)
                    while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                        let line = pending[pending.startIndex..<newline]
                        pending = Data(pending[(newline + 1)...])
                        guard let event = (try? JSONSerialization.jsonObject(with: line)) as? [String: Any],
                              let object = event["object"] as? [String: Any] else { continue }
                        if event["type"] as? String == "ERROR" {
                            // 410 Gone: the version is too old; watch again from now.
                            return .ended(resourceVersion: nil, lastState: object["message"] as? String)
                        }
                        version = (object["metadata"] as? [String: Any])?["resourceVersion"] as? String ?? version
                        if event["type"] as? String == "DELETED" { return .failed("the \(kind.singular) was deleted before it was ready") }
                        switch state(object) {
                        case .ready(let ip): return .ready(ip)
                        case .failed(let reason): return .failed(reason)
                        case .pending(let state):
                            last = state
                            seen.state.withLock { $0 = state }
                        }
                    }
                }
                return .ended(resourceVersion: version, lastState: last)
            }
            group.addTask {
                try await Task.sleep(for: remaining)
                return .ended(resourceVersion: nil, lastState: seen.state.withLock { $0 })
            }
            let first = try await group.next()!
            group.cancelAll()
            return first
        }
    }

    /// Sends the run to the runner in the pod and waits for its answer.
    func run(_ request: RunnerRequest, host: String, port: Int, timeout: Duration) async throws(DoerError) -> RunnerResponse {
        let body: Data
        do { body = try JSONEncoder().encode(request) } catch { throw .sandboxFailure("cannot encode the run: \(error)") }
        let address = host.contains(":") ? "[\(host)]" : host
        var http = HTTPClientRequest(url: "http://\(address):\(port)/run")
        http.method = .POST
        http.headers.add(name: "Content-Type", value: "application/json")
        http.body = .bytes(ByteBuffer(bytes: body))
        do {
            let response = try await Self.http.execute(http, deadline: .now() + .milliseconds(Int64(timeout.milliseconds)))
            let data = Data(try await response.body.collect(upTo: Int(SandboxRunner.transferLimitBytes) * 2).readableBytesView)
            guard response.status == .ok else {
                let message = ((try? JSONSerialization.jsonObject(with: data)) as? [String: Any])?["error"] as? String
                throw DoerError.sandboxFailure("the sandbox runner answered \(response.status.code): \(message ?? String(decoding: data.prefix(500), as: UTF8.self))")
            }
            return try JSONDecoder().decode(RunnerResponse.self, from: data)
        } catch let error as DoerError {
            throw error
        } catch is CancellationError {
            throw .cancelled
        } catch {
            if Task.isCancelled { throw .cancelled }
            throw .sandboxFailure("the sandbox runner at \(address):\(port) did not answer: \(error)")
        }
    }

    private func send(_ method: HTTPMethod, _ path: String, body: Data? = nil) async throws(DoerError) -> (Int, Data) {
        do {
            let request = try makeRequest(method, path, body: body)
            let response = try await Self.http.execute(request, timeout: .seconds(30))
            let data = try await response.body.collect(upTo: 16 << 20)
            return (Int(response.status.code), Data(data.readableBytesView))
        } catch let error as DoerError {
            throw error
        } catch is CancellationError {
            throw .cancelled
        } catch {
            if Task.isCancelled { throw .cancelled }
            throw .sandboxFailure("the Kubernetes API at \(endpoint.server) did not answer \(method) \(path): \(error)")
        }
    }

    private func makeRequest(_ method: HTTPMethod, _ path: String, body: Data?) throws(DoerError) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: endpoint.server + path)
        request.method = method
        request.headers.add(name: "Accept", value: "application/json")
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        if let tokenFile = endpoint.tokenFile {
            // Read each time: projected service account tokens are rotated on disk.
            guard let token = try? String(contentsOfFile: tokenFile, encoding: .utf8) else {
                throw .backendUnavailable(backend: "kubernetes", reason: "cannot read the token file \(tokenFile)",
                                          remedy: "Set token_file under [sandbox.kubernetes] to a readable file.")
            }
            request.headers.add(name: "Authorization", value: "Bearer " + token.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        if let caFile = endpoint.caFile, endpoint.server.hasPrefix("https://") {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.trustRoots = .file(caFile)
            request.tlsConfiguration = tls
        }
        return request
    }

    static func failure(_ what: String, _ status: Int, _ body: Data) -> DoerError {
        let object = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any]
        let message = object?["message"] as? String ?? String(decoding: body.prefix(300), as: UTF8.self)
        let hint = status == 401 || status == 403 ? " (check the token and the Role in deploy/kubernetes/20-rbac.yaml)" : ""
        return .sandboxFailure("the Kubernetes API refused \(what): \(status) \(message)\(hint)")
    }
}

/// What a watch saw last, shared with the timer that may end it.
private final class LastSeen: Sendable {
    let state = Mutex<String?>(nil)
}
