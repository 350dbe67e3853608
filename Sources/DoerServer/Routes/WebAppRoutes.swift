import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The browser app: a few static files, read once at start, served with a strict
/// content security policy (no inline scripts, nothing from other origins).
struct WebAppRoutes: Sendable {
    struct Asset: Sendable {
        var body: ByteBuffer
        var contentType: String
    }

    let assets: [String: Asset]

    init() {
        var assets: [String: Asset] = [:]
        let types = ["html": "text/html; charset=utf-8", "js": "text/javascript; charset=utf-8",
                     "css": "text/css; charset=utf-8", "svg": "image/svg+xml"]
        if let folder = Bundle.module.url(forResource: "Resources", withExtension: nil),
           let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) {
            for name in names {
                guard let type = types[(name as NSString).pathExtension],
                      let data = FileManager.default.contents(atPath: folder.appendingPathComponent(name).path) else { continue }
                assets[name] = Asset(body: ByteBuffer(bytes: data), contentType: type)
            }
        }
        self.assets = assets
    }

    static let securityHeaders: HTTPFields = [
        .contentSecurityPolicy: "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
        HTTPField.Name("X-Content-Type-Options")!: "nosniff",
        HTTPField.Name("Referrer-Policy")!: "no-referrer",
    ]

    func register(on router: Router<ServerRequestContext>) {
        router.get("/") { _, _ in try serve("index.html") }
        router.get("/ui/:file") { _, context in try serve(try context.parameters.require("file")) }
        router.get("/healthz") { _, _ in Response(status: .ok, headers: [.contentType: "application/json"],
                                                   body: .init(byteBuffer: ByteBuffer(string: "{\"status\":\"ok\"}"))) }
    }

    private func serve(_ name: String) throws -> Response {
        guard let asset = assets[name] else { throw HTTPError(.notFound, message: "no such file") }
        var headers = Self.securityHeaders
        headers[.contentType] = asset.contentType
        headers[.cacheControl] = "no-cache"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: asset.body))
    }
}
