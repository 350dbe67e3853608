import Crypto
import DoerCore
import DoerDeploy
import DoerStore
import DoerTestSupport
import Foundation
import Testing

/// A receiver that accepts only requests signed with its own secret, as a real one would.
func signatureCheckingReceiver(secret: String, statusURL: String? = nil) throws -> FixtureServer {
    try FixtureServer { request in
        if request.method == "GET" {
            return .init(status: 200, json: #"{"status":"completed","conclusion":"success"}"#)
        }
        let code = HMAC<SHA256>.authenticationCode(for: request.data, using: SymmetricKey(data: Data(secret.utf8)))
        let expected = "sha256=" + code.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
        guard request.header("X-Doer-Signature") == expected else {
            return .init(status: 401, json: #"{"error":"bad signature"}"#)
        }
        if let statusURL { return .init(status: 202, json: #"{"id":"run-7","status":"queued","status_url":"\#(statusURL)"}"#) }
        return .init(status: 200, json: "{}")
    }
}

@Suite("webhook CI trigger")
struct WebhookTests {
    let context = DeployContext(branch: "doer/x", commit: "abc123", session: "s-1", remoteURL: "file:///r.git")

    @Test("a correctly signed body is accepted; the signature is HMAC-SHA256 of the exact bytes sent")
    func accepted() async throws {
        let receiver = try signatureCheckingReceiver(secret: "right")
        let run = try await WebhookTarget(url: receiver.baseURL + "/hook", secret: "right").trigger(context)
        #expect(run.status == "delivered")
        #expect(run.succeeded)
        let request = try #require(receiver.recorded.first)
        #expect(request.method == "POST")
        #expect(request.uri == "/hook")
        #expect(request.header("Content-Type") == "application/json")
        let body = try #require(try JSONSerialization.jsonObject(with: request.data) as? [String: String])
        #expect(body == ["event": "deploy", "branch": "doer/x", "commit": "abc123", "session": "s-1", "repository": "file:///r.git"])
    }

    @Test("a wrong secret: the receiver rejects it and Doer reports the rejection")
    func wrongSecret() async throws {
        let receiver = try signatureCheckingReceiver(secret: "right")
        let error = await #expect(throws: DeployError.self) {
            try await WebhookTarget(url: receiver.baseURL + "/hook", secret: "wrong").trigger(context)
        }
        guard case .http(_, let status, let body) = error else { Issue.record("unexpected \(String(describing: error))"); return }
        #expect(status == 401)
        #expect(body.contains("secret matches"))
    }

    @Test("a status URL in the answer is polled until the run completes")
    func status() async throws {
        let statusServer = try signatureCheckingReceiver(secret: "s")
        let receiver = try signatureCheckingReceiver(secret: "s", statusURL: statusServer.baseURL + "/runs/7")
        let target = WebhookTarget(url: receiver.baseURL, secret: "s")
        let run = try await target.trigger(context)
        #expect(run.status == "queued")
        #expect(run.id == "run-7")
        let now = try await target.status(of: run)
        #expect(now.status == "completed")
        #expect(now.conclusion == "success")
        #expect(statusServer.recorded.first?.uri == "/runs/7")
    }

    @Test("an unreachable receiver is a clear error")
    func unreachable() async throws {
        let port = try freePort()
        await #expect(throws: DeployError.self) {
            try await WebhookTarget(url: "http://127.0.0.1:\(port)/hook", secret: "s", timeoutSeconds: 2).trigger(context)
        }
    }

    @Test("a whole deploy with the webhook records the trigger after the push")
    func deployWithWebhook() async throws {
        let receiver = try signatureCheckingReceiver(secret: "hook-secret")
        let fixture = try GitFixture()
        let log = try auditLog(in: fixture.scratch)
        var settings = DeploySettings()
        settings.webhookURL = receiver.baseURL + "/hook"
        try fixture.write("a.txt", "a")
        let deployer = Deployer(settings: settings, audit: log, actor: "tester", approver: ScriptedApprover(approved: true),
                                environment: ["DOER_WEBHOOK_SECRET": "hook-secret"])
        let report = try await deployer.deploy(DeployRequest(workspace: fixture.work, branch: "doer/hooked", ci: "webhook"))
        #expect(report.ciRun?.status == "delivered")
        let records = try log.records()
        #expect(records.map(\.kind) == ["approval", "git.commit", "git.push", "ci.trigger"])
        #expect(records.last?.details["target"] == "webhook")
        #expect(records.last?.details["commit"]?.stringValue == report.commit)
        // The secret is never in the trail.
        #expect(!(try log.records().contains { $0.canonicalJSON.contains("hook-secret") }))
    }

    @Test("with the wrong secret the deploy fails after the push, which stays recorded")
    func deployWrongSecret() async throws {
        let receiver = try signatureCheckingReceiver(secret: "right")
        let fixture = try GitFixture()
        let log = try auditLog(in: fixture.scratch)
        var settings = DeploySettings()
        settings.webhookURL = receiver.baseURL + "/hook"
        settings.webhookSecret = "wrong"
        try fixture.write("a.txt", "a")
        let deployer = Deployer(settings: settings, audit: log, actor: "tester", approver: ScriptedApprover(approved: true), environment: [:])
        await #expect(throws: DeployError.self) {
            try await deployer.deploy(DeployRequest(workspace: fixture.work, branch: "doer/hooked", ci: "webhook"))
        }
        #expect(try log.records().map(\.kind) == ["approval", "git.commit", "git.push"])
        #expect(try log.verify().intact)
    }
}
