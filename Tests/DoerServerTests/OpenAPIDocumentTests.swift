import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@Suite("docs/openapi.yaml matches the routes")
struct OpenAPIDocumentTests {
    static let document = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("docs/openapi.yaml")

    /// (method, path) of every operation in the document.
    static func operations() throws -> [(String, String)] {
        var found: [(String, String)] = []
        var path: String?
        for line in try String(contentsOf: document, encoding: .utf8).split(separator: "\n") {
            if line.hasPrefix("  /"), line.hasSuffix(":") {
                path = String(line.dropFirst(2).dropLast())
            } else if line.hasPrefix("    "), !line.hasPrefix("     "), let path {
                let key = line.trimmingCharacters(in: .whitespaces).split(separator: ":").first.map(String.init) ?? ""
                if ["get", "post", "put", "delete", "patch"].contains(key) { found.append((key.uppercased(), path)) }
            } else if !line.hasPrefix(" ") {
                path = nil
            }
        }
        return found
    }

    @Test("every documented operation is served (an unrouted request would be an empty 404)")
    func documentedRoutesExist() async throws {
        let operations = try Self.operations()
        #expect(operations.count >= 19)
        let harness = try ServerHarness()
        let ada = try harness.token("ada")
        try await harness.test { client in
            let id = try #require(try await client.call(.post, "/v1/sessions", token: ada,
                                                        json: #"{"title": "t", "files": {"a.txt": "x"}}"#).json["id"] as? String)
            for (method, path) in operations {
                let uri = path.replacingOccurrences(of: "{id}", with: id).replacingOccurrences(of: "{approval}", with: "none")
                    .replacingOccurrences(of: "{deploy}", with: "none")
                    .replacingOccurrences(of: "{path}", with: "a.txt") + (path.hasSuffix("/events") ? "?follow=false" : "")
                let response = try await client.call(HTTPRequest.Method(method)!, uri, token: ada, json: method == "POST" ? "{}" : nil)
                let unrouted = response.status == .notFound && response.body.readableBytes == 0
                #expect(!unrouted && response.status != .methodNotAllowed, "\(method) \(path) → \(response.status)")
            }
            let undocumented = try await client.call(.get, "/v1/nothing-here", token: ada)
            #expect(undocumented.status == .notFound && undocumented.body.readableBytes == 0, "the check can tell an unrouted path")
        }
    }
}
