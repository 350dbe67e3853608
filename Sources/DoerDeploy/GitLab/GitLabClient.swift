public import DoerCore
import Foundation

/// The GitLab REST API (v4) calls a deploy needs: open a merge request, start a pipeline on
/// a branch, read a pipeline.
public struct GitLabClient: Sendable {
    public var apiURL: String
    public var project: String
    var token: String
    var tokenEnv: String
    var transport = HTTPTransport()

    public init(settings: DeploySettings, environment: [String: String]) throws(DeployError) {
        guard let project = settings.gitlabProject else {
            throw .configuration("which GitLab project? set deploy.gitlab_project = \"group/name\" (or its numeric id) in config.toml")
        }
        guard let token = settings.gitlabToken(environment: environment) else {
            throw .configuration("no GitLab token: set \(settings.gitlabTokenEnv) (a token with api scope), or deploy.gitlab_token_env to the variable that holds it")
        }
        apiURL = settings.gitlabAPIURL.hasSuffix("/") ? String(settings.gitlabAPIURL.dropLast()) : settings.gitlabAPIURL
        self.project = project
        self.token = token
        tokenEnv = settings.gitlabTokenEnv
    }

    public func createMergeRequest(source: String, target: String, title: String, description: String) async throws(DeployError) -> GitHubClient.PullRequest {
        let object = try await send("POST", "/projects/\(projectPath)/merge_requests",
                                    body: ["source_branch": source, "target_branch": target, "title": title,
                                           "description": description],
                                    what: "creating the merge request", expect: [201])
        guard let number = object["iid"] as? Int, let url = object["web_url"] as? String else {
            throw .http(what: "creating the merge request", status: 201, body: "an answer without iid and web_url")
        }
        return GitHubClient.PullRequest(number: number, url: url)
    }

    public func createPipeline(ref: String, variables: [String: String]) async throws(DeployError) -> CIRun {
        var body: [String: Any] = ["ref": ref]
        if !variables.isEmpty {
            body["variables"] = variables.keys.sorted().map { ["key": $0, "value": variables[$0]!] }
        }
        return Self.run(try await send("POST", "/projects/\(projectPath)/pipeline", body: body,
                                       what: "starting a pipeline on \(ref)", expect: [201]))
    }

    public func pipeline(id: String) async throws(DeployError) -> CIRun {
        Self.run(try await send("GET", "/projects/\(projectPath)/pipelines/\(id)", body: nil,
                                what: "reading pipeline \(id)", expect: [200]))
    }

    /// GitLab's statuses mapped onto the ones Doer shows (queued, in_progress, completed).
    static func run(_ object: [String: Any]) -> CIRun {
        let id = (object["id"] as? Int).map(String.init) ?? (object["id"] as? String)
        let status = object["status"] as? String ?? "unknown"
        let conclusion: String? = switch status {
        case "success": "success"
        case "failed": "failure"
        case "canceled": "cancelled"
        case "skipped": "skipped"
        default: nil
        }
        let shown = conclusion != nil ? "completed" : (status == "running" ? "in_progress" : "queued")
        return CIRun(target: "gitlab", id: id, url: object["web_url"] as? String, status: shown, conclusion: conclusion)
    }

    private var projectPath: String {
        project.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? project
    }

    private func send(_ method: String, _ path: String, body: [String: Any]?, what: String,
                      expect: Set<Int>) async throws(DeployError) -> [String: Any] {
        var data: Data?
        if let body {
            do {
                data = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
            } catch {
                throw .configuration("cannot encode the request for \(what): \(error)")
            }
        }
        var headers = [("PRIVATE-TOKEN", token), ("Accept", "application/json")]
        if data != nil { headers.append(("Content-Type", "application/json")) }
        let response = try await transport.send(method, apiURL + path, headers: headers, body: data, what: what)
        let object = (try? JSONSerialization.jsonObject(with: response.body)) as? [String: Any]
        guard expect.contains(response.status), let object else {
            let message = (object?["message"]).map { "\($0)" } ?? (object?["error"] as? String) ?? response.text
            let hint = response.status == 401 ? "; the token in \(tokenEnv) is not valid"
                : response.status == 404 ? "; check that \(project) exists and the token may access it" : ""
            throw .http(what: what, status: response.status, body: message + hint)
        }
        return object
    }
}
