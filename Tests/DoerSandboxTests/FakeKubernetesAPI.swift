import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// A small stateful stand-in for the Kubernetes API on loopback: pods and NetworkPolicies
/// in any namespace — and, when `servesSandboxClaims`, agent-sandbox's SandboxClaims,
/// SandboxTemplates and Sandboxes with their discovery document — created with POST, read,
/// listed by label selector, watched (`?watch=true&fieldSelector=metadata.name=…`,
/// newline-separated JSON events on a response that stays open) and deleted. Every request
/// is recorded. It schedules nothing itself: a `controller` is told of each pod and claim
/// created and deleted, and sets its status with `updateStatus`, as a kubelet or
/// agent-sandbox's controller would.
final class FakeKubernetesAPI: @unchecked Sendable {
    struct Recorded: Sendable {
        var method: String
        var uri: String
        var authorization: String?
        var body: Data
    }

    /// Told of pods and claims as they are created and deleted ("created", "deleted";
    /// "claim created", "claim deleted"), with the object as JSON (never on the server's
    /// event loop).
    var controller: (@Sendable (FakeKubernetesAPI, _ event: String, _ name: String, _ pod: Data) -> Void)?
    /// When set, requests without `Authorization: Bearer <token>` get 401.
    let token: String?
    /// Whether agent-sandbox's extensions API group is there (its CRDs installed).
    let servesSandboxClaims: Bool

    static let kinds: [String: String] = ["pods": "Pod", "networkpolicies": "NetworkPolicy", "sandboxclaims": "SandboxClaim",
                                          "sandboxtemplates": "SandboxTemplate", "sandboxes": "Sandbox"]
    private let lock = NIOLock()
    private var objects: [String: [String: [String: Any]]] = ["pods": [:], "networkpolicies": [:]]
    private var version = 1
    private var watchers: [(kind: String, name: String, channel: any Channel)] = []
    private var recordedRequests: [Recorded] = []
    private var channel: (any Channel)!

    var baseURL: String { "http://127.0.0.1:\(channel.localAddress!.port!)" }
    var recorded: [Recorded] { lock.withLock { recordedRequests } }

    init(token: String? = nil, servesSandboxClaims: Bool = false) throws {
        self.token = token
        self.servesSandboxClaims = servesSandboxClaims
        if servesSandboxClaims {
            for kind in ["sandboxclaims", "sandboxtemplates", "sandboxes"] { objects[kind] = [:] }
        }
        channel = try ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            // Weak: a client (a late delete, the next test's sweep) may connect after the test
            // let go of the server and before its channel closed; that connection is refused.
            .childChannelInitializer { [weak self] channel in
                guard let self else { return channel.close() }
                return channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.pipeline.addHandler(Handler(api: self))
                }
            }
            .bind(host: "127.0.0.1", port: 0).wait()
    }

    // The last reference may go with a connection's handler, on the event loop: nothing here may wait.
    deinit {
        channel.close(promise: nil)
    }

    /// Names of the objects of `kind` ("pods", "networkpolicies") there now.
    func names(_ kind: String) -> [String] {
        lock.withLock { objects[kind, default: [:]].keys.sorted() }
    }

    func object(_ kind: String, _ name: String) -> [String: Any]? {
        lock.withLock { objects[kind]?[name] }
    }

    /// Puts an object in place as if someone had created it earlier (no controller call).
    func seed(_ kind: String, _ object: [String: Any]) {
        lock.withLock {
            let name = (object["metadata"] as? [String: Any])?["name"] as? String ?? "unnamed"
            objects[kind, default: [:]][name] = stamped(object)
        }
    }

    /// Replaces a pod's (or a claim's) status, as the kubelet (or agent-sandbox's controller)
    /// does, and tells its watchers.
    func updateStatus(pod name: String, kind: String = "pods", _ status: [String: Any]) {
        let event: Data? = lock.withLock {
            guard var object = objects[kind]?[name] else { return nil }
            object["status"] = status
            object = stamped(object)
            objects[kind]?[name] = object
            return Self.event("MODIFIED", object)
        }
        if let event { notify(kind, name, event) }
    }

    /// Removes an object without telling the controller.
    func remove(_ kind: String, _ name: String) {
        lock.withLock { _ = objects[kind]?.removeValue(forKey: name) }
    }

    private func stamped(_ object: [String: Any]) -> [String: Any] {
        var object = object
        var metadata = object["metadata"] as? [String: Any] ?? [:]
        version += 1
        metadata["resourceVersion"] = String(version)
        object["metadata"] = metadata
        return object
    }

    static func event(_ type: String, _ object: [String: Any]) -> Data {
        (try! JSONSerialization.data(withJSONObject: ["type": type, "object": object])) + Data("\n".utf8)
    }

    private func notify(_ kind: String, _ name: String, _ event: Data) {
        let channels = lock.withLock { watchers.filter { $0.kind == kind && $0.name == name }.map(\.channel) }
        for channel in channels {
            channel.writeAndFlush(HTTPServerResponsePart.body(.byteBuffer(channel.allocator.buffer(bytes: event))), promise: nil)
        }
    }

    /// The answer to one request: status and body, or nil for a watch the handler keeps open.
    fileprivate func handle(_ head: HTTPRequestHead, body: Data, channel: any Channel) -> (Int, Data)? {
        let authorization = head.headers.first(name: "Authorization")
        lock.withLock { recordedRequests.append(Recorded(method: head.method.rawValue, uri: head.uri, authorization: authorization, body: body)) }
        if let token, authorization != "Bearer \(token)" {
            return (401, Self.status(401, "Unauthorized"))
        }
        let (path, query) = Self.split(head.uri)
        if path == "/apis/extensions.agents.x-k8s.io/v1alpha1" && head.method == .GET {
            guard servesSandboxClaims else { return (404, Self.status(404, "the server could not find the requested resource")) }
            let resources = ["sandboxclaims", "sandboxtemplates", "sandboxwarmpools"].map { ["name": $0, "namespaced": true] }
            return (200, try! JSONSerialization.data(withJSONObject: ["kind": "APIResourceList", "groupVersion": "extensions.agents.x-k8s.io/v1alpha1",
                                                                      "resources": resources]))
        }
        // /api/v1/namespaces/NS/pods[/NAME], /apis/GROUP/VERSION/namespaces/NS/KIND[/NAME]
        let parts = path.split(separator: "/").map(String.init)
        guard let index = parts.firstIndex(of: "namespaces"), parts.count > index + 2 else {
            return (404, Self.status(404, "no such path \(path)"))
        }
        let kind = parts[index + 2]
        guard lock.withLock({ objects[kind] != nil }) else { return (404, Self.status(404, "no such kind \(kind)")) }
        let name = parts.count > index + 3 ? parts[index + 3] : nil
        switch (head.method, name) {
        case (.POST, nil):
            guard var object = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any],
                  let objectName = (object["metadata"] as? [String: Any])?["name"] as? String else {
                return (400, Self.status(400, "not an object with a name"))
            }
            let expectedKind = Self.kinds[kind] ?? "?"
            guard object["kind"] as? String == expectedKind else { return (400, Self.status(400, "kind must be \(expectedKind)")) }
            let created: [String: Any]? = lock.withLock {
                guard objects[kind]?[objectName] == nil else { return nil }
                if kind == "pods" { object["status"] = ["phase": "Pending"] }
                object = stamped(object)
                objects[kind]?[objectName] = object
                return object
            }
            guard let created else { return (409, Self.status(409, "\(objectName) already exists")) }
            notify(kind, objectName, Self.event("ADDED", created))
            if kind == "pods" || kind == "sandboxclaims", let controller {
                let json = try! JSONSerialization.data(withJSONObject: created)
                let event = kind == "pods" ? "created" : "claim created"
                DispatchQueue.global().async { controller(self, event, objectName, json) }
            }
            return (201, try! JSONSerialization.data(withJSONObject: created))
        case (.GET, nil) where query["watch"] == "true":
            guard let selector = query["fieldSelector"], selector.hasPrefix("metadata.name=") else {
                return (400, Self.status(400, "this fake watches one object by metadata.name"))
            }
            let watched = String(selector.dropFirst("metadata.name=".count))
            let current: [String: Any]? = lock.withLock {
                watchers.append((kind, watched, channel))
                return objects[kind]?[watched]
            }
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: "application/json")
            headers.add(name: "Transfer-Encoding", value: "chunked")
            channel.write(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers)), promise: nil)
            if let current {
                let event = Self.event("ADDED", current)
                channel.write(HTTPServerResponsePart.body(.byteBuffer(channel.allocator.buffer(bytes: event))), promise: nil)
            }
            channel.flush()
            return nil
        case (.GET, nil):
            let selector = query["labelSelector"] ?? ""
            let items: [[String: Any]] = lock.withLock {
                objects[kind, default: [:]].values.filter { Self.matches(selector, $0) }
            }
            return (200, try! JSONSerialization.data(withJSONObject: ["kind": "List", "items": items]))
        case (.GET, let name?):
            guard let object = self.object(kind, name) else { return (404, Self.status(404, "\(name) not found")) }
            return (200, try! JSONSerialization.data(withJSONObject: object))
        case (.DELETE, let name?):
            let removed: [String: Any]? = lock.withLock { objects[kind]?.removeValue(forKey: name) }
            guard let removed else { return (404, Self.status(404, "\(name) not found")) }
            notify(kind, name, Self.event("DELETED", removed))
            if kind == "pods" || kind == "sandboxclaims", let controller {
                let json = try! JSONSerialization.data(withJSONObject: removed)
                let event = kind == "pods" ? "deleted" : "claim deleted"
                DispatchQueue.global().async { controller(self, event, name, json) }
            }
            return (200, Self.status(200, "deleted"))
        default:
            return (405, Self.status(405, "not supported by this fake"))
        }
    }

    fileprivate func closed(_ channel: any Channel) {
        lock.withLock { watchers.removeAll { $0.channel === channel } }
    }

    static func matches(_ selector: String, _ object: [String: Any]) -> Bool {
        let labels = (object["metadata"] as? [String: Any])?["labels"] as? [String: String] ?? [:]
        return selector.split(separator: ",").allSatisfy { term in
            let pair = term.split(separator: "=", maxSplits: 1).map(String.init)
            return pair.count == 2 ? labels[pair[0]] == pair[1] : labels[pair[0]] != nil
        }
    }

    static func split(_ uri: String) -> (String, [String: String]) {
        let pieces = uri.split(separator: "?", maxSplits: 1).map(String.init)
        var query: [String: String] = [:]
        if pieces.count == 2 {
            for pair in pieces[1].split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? String($0) }
                query[kv[0]] = kv.count == 2 ? kv[1] : ""
            }
        }
        return (pieces[0], query)
    }

    static func status(_ code: Int, _ message: String) -> Data {
        try! JSONSerialization.data(withJSONObject: ["kind": "Status", "apiVersion": "v1", "code": code, "message": message])
    }

    private final class Handler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        /// Strong: a watch may outlive the test's own reference to the server.
        let api: FakeKubernetesAPI
        var head: HTTPRequestHead?
        var body = Data()

        init(api: FakeKubernetesAPI) { self.api = api }

        func channelInactive(context: ChannelHandlerContext) {
            api.closed(context.channel)
            context.fireChannelInactive()
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let h):
                head = h
                body = Data()
            case .body(let buffer):
                body.append(contentsOf: buffer.readableBytesView)
            case .end:
                guard let head else { return }
                guard let (status, data) = api.handle(head, body: body, channel: context.channel) else { return }
                var headers = HTTPHeaders()
                headers.add(name: "Content-Type", value: "application/json")
                headers.add(name: "Content-Length", value: String(data.count))
                context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .init(statusCode: status), headers: headers))), promise: nil)
                context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: data)))), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            }
        }
    }
}
