public import DoerCore
import Foundation

/// The GitHub REST API calls a deploy needs: open a pull request, dispatch a workflow,
/// read a workflow run. The API root is configurable (GitHub Enterprise, local fixtures).
public struct GitHubClient: Sendable {
    public struct PullRequest: Sendable, Hashable {
        public var number: Int
        public var url: String
    }

    public var apiURL: String
    public var repository: String
    var token: String
    var tokenEnv: String
    var transport = HTTPTransport()

    public init(settings: DeploySettings, environment: [String: String], remoteURL: String?) throws(DeployError) {
        guard let repository = settings.githubRepository ?? remoteURL.flatMap(Self.repository(fromRemote:)) else {
            throw .configuration("which GitHub repository? set deploy.github_repository = \"owner/name\" in config.toml, or push to a github.com remote")
        }
        guard let token = settings.githubToken(environment: environment) else {
            throw .configuration("no GitHub token: set \(settings.githubTokenEnv) (a token allowed to open pull requests and run workflows), or deploy.github_token_env to the variable that holds it")
        }
        self.apiURL = settings.githubAPIURL.hasSuffix("/") ? String(settings.githubAPIURL.dropLast()) : settings.githubAPIURL
        self.repository = repository
        self.token = token
        self.tokenEnv = settings.githubTokenEnv
    }

    /// owner/name from git@github.com:owner/name.git, https://github.com/owner/name(.git), ssh://git@github.com/owner/name.
    public static func repository(fromRemote url: String) -> String? {
        guard let range = url.range(of: "github.com") else { return nil }
        var rest = url[range.upperBound...]
        guard let separator = rest.first, separator == ":" || separator == "/" else { return nil }
        rest = rest.dropFirst()
        var text = String(rest)
        if text.hasSuffix(".git") { text = String(text.dropLast(4)) }
        if text.hasSuffix("/") { text = String(text.dropLast()) }
        let parts = text.split(separator: "/")
        return parts.count == 2 ? text : nil
    }

    public func createPullRequest(head: String, base: String, title: String, body: String) async throws(DeployError) -> PullRequest {
        let response = try await send("POST", "/repos/\(repository)/pulls",
                                      body: ["title": title, "head": head, "base": base, "body": body],
                                      what: "creating the pull request", expect: [201])
        guard let object = Self.object(response.body), let number = object["number"] as? Int,
              let url = object["html_url"] as? String else {
            throw .http(what: "creating the pull request", status: response.status, body: "an answer without number and html_url: \(response.text)")
        }
        return PullRequest(number: number, url: url)
    }

    public func dispatchWorkflow(_ workflow: String, ref: String, inputs: [String: String]) async throws(DeployError) {
        var body: [String: Any] = ["ref": ref]
        if !inputs.isEmpty { body["inputs"] = inputs }
        _ = try await send("POST", "/repos/\(repository)/actions/workflows/\(Self.escape(workflow))/dispatches",
                           body: body, what: "dispatching workflow \(workflow)", expect: [204])
    }

    /// The newest dispatched run of `workflow` on `branch`, if GitHub lists one yet.
    public func latestRun(workflow: String, branch: String) async throws(DeployError) -> CIRun? {
        let path = "/repos/\(repository)/actions/workflows/\(Self.escape(workflow))/runs?event=workflow_dispatch&branch=\(Self.escape(branch))&per_page=1"
        let response = try await send("GET", path, body: nil, what: "listing runs of \(workflow)", expect: [200])
        guard let object = Self.object(response.body), let runs = object["workflow_runs"] as? [[String: Any]] else {
            throw .http(what: "listing runs of \(workflow)", status: response.status, body: "no workflow_runs in \(response.text)")
        }
        return runs.first.map(Self.run)
    }

    public func run(id: String) async throws(DeployError) -> CIRun {
        let response = try await send("GET", "/repos/\(repository)/actions/runs/\(Self.escape(id))", body: nil,
                                      what: "reading workflow run \(id)", expect: [200])
        guard let object = Self.object(response.body) else {
            throw .http(what: "reading workflow run \(id)", status: response.status, body: response.text)
        }
        return Self.run(object)
    }

    private static func run(_ object: [String: Any]) -> CIRun {
        let id = (object["id"] as? Int).map(String.init) ?? (object["id"] as? String)
        return CIRun(target: "github", id: id, url: object["html_url"] as? String,
                     status: object["status"] as? String ?? "unknown", conclusion: object["conclusion"] as? String)
    }

    private func send(_ method: String, _ path: String, body: [String: Any]?, what: String,
                      expect: Set<Int>) async throws(DeployError) -> HTTPTransport.Response {
        var data: Data?
        if let body {
            do {
                data = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
            } catch {
                throw .configuration("cannot encode the request for \(what): \(error)")
            }
        }
        var headers = [("Accept", "application/vnd.github+json"), ("Authorization", "Bearer \(token)"),
                       ("X-GitHub-Api-Version", "2022-11-28")]
        if data != nil { headers.append(("Content-Type", "application/json")) }
        let response = try await transport.send(method, apiURL + path, headers: headers, body: data, what: what)
        guard expect.contains(response.status) else {
            let message = (Self.object(response.body)?["message"] as? String) ?? response.text
            switch response.status {
            case 401: throw .http(what: what, status: 401, body: "\(message); the token in \(tokenEnv) is not valid")
            case 403, 404: throw .http(what: what, status: response.status,
                                       body: "\(message); check that \(repository) exists and the token may access it")
            default: throw .http(what: what, status: response.status, body: message)
            }
        }
        return response
    }

    private static func object(_ data: Data) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
    }

    private static func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/?&=#"))) ?? text
    }
}
