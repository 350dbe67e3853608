import Crypto
public import DoerCore
public import Foundation

/// A generic webhook: a JSON POST describing the pushed commit, signed with
/// `X-Doer-Signature: sha256=<hex HMAC-SHA256 of the body>` so the receiver can check it
/// came from someone holding the secret. If the receiver answers with a JSON `status_url`,
/// that is where the status is read.
public struct WebhookTarget: DeployTarget {
    public let name = "webhook"
    let url: String
    let secret: String
    var transport = HTTPTransport()

    public init(settings: DeploySettings, environment: [String: String]) throws(DeployError) {
        guard let url = settings.webhookURL else {
            throw .configuration("no webhook: set deploy.webhook_url in config.toml")
        }
        guard let secret = settings.resolvedWebhookSecret(environment: environment) else {
            throw .configuration("no webhook secret: set \(settings.webhookSecretEnv) or deploy.webhook_secret")
        }
        self.init(url: url, secret: secret)
    }

    /// `timeoutSeconds` bounds each request, connecting included.
    public init(url: String, secret: String, timeoutSeconds: Int64 = 30) {
        self.url = url
        self.secret = secret
        transport = HTTPTransport(timeoutSeconds: timeoutSeconds)
    }

    public static func signature(of body: Data, secret: String) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(secret.utf8)))
        return "sha256=" + code.map { byte in (byte < 16 ? "0" : "") + String(byte, radix: 16) }.joined()
    }

    public func trigger(_ context: DeployContext) async throws(DeployError) -> CIRun {
        var payload: [String: Any] = ["event": "deploy", "branch": context.branch, "commit": context.commit,
                                      "repository": context.remoteURL]
        if let session = context.session { payload["session"] = session }
        let body: Data
        do {
            body = try JSONSerialization.data(withJSONObject: payload, options: [.sortedKeys])
        } catch {
            throw .configuration("cannot encode the webhook body: \(error)")
        }
        let response = try await transport.send("POST", url, headers: [
            ("Content-Type", "application/json"), ("X-Doer-Signature", Self.signature(of: body, secret: secret)),
            ("X-Doer-Event", "deploy"),
        ], body: body, what: "the webhook \(url)")
        guard (200..<300).contains(response.status) else {
            let hint = response.status == 401 || response.status == 403
                ? "; the receiver rejected the signature: check that its secret matches the one Doer signs with" : ""
            throw .http(what: "the webhook \(url)", status: response.status, body: response.text + hint)
        }
        let object = (try? JSONSerialization.jsonObject(with: response.body)) as? [String: Any]
        let statusURL = object?["status_url"] as? String
        return CIRun(target: name, id: (object?["id"] as? String) ?? (object?["id"] as? Int).map(String.init),
                     url: statusURL, status: object?["status"] as? String ?? (statusURL == nil ? "delivered" : "queued"),
                     conclusion: object?["conclusion"] as? String)
    }

    public func status(of run: CIRun) async throws(DeployError) -> CIRun {
        guard let statusURL = run.url else { return run }
        let response = try await transport.send("GET", statusURL, headers: [
            ("X-Doer-Signature", Self.signature(of: Data(), secret: secret)),
        ], what: "the webhook status \(statusURL)")
        guard (200..<300).contains(response.status),
              let object = (try? JSONSerialization.jsonObject(with: response.body)) as? [String: Any] else {
            throw .http(what: "the webhook status \(statusURL)", status: response.status, body: response.text)
        }
        var updated = run
        updated.status = object["status"] as? String ?? run.status
        updated.conclusion = object["conclusion"] as? String ?? run.conclusion
        return updated
    }
}
