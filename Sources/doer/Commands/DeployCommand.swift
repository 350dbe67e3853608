import ArgumentParser
import DoerConfig
import DoerCore
import DoerDeploy
import DoerRuntime
import DoerStore
import Foundation

struct DeployCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deploy",
        abstract: "Ship the workspace: commit on a branch, push it, open a pull request, start CI — after a person approves.",
        subcommands: [Run.self, Status.self],
        defaultSubcommand: Run.self
    )
}

/// Deploy errors exit with 1 and say what to do.
private func failDeploy(_ error: any Error) -> Never {
    let text = (error as? DeployError)?.description ?? (error as? DoerError)?.description ?? "\(error)"
    FileHandle.standardError.write(Data("doer: deploy: \(text)\n".utf8))
    exit(error is DoerError ? 2 : 1)
}

extension DeployCommand {
    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "run",
            abstract: "Commit, push and optionally open a pull request and start CI (the default of `doer deploy`).",
            discussion: """
                Always asks for approval on the terminal (y/N; no answer before deploy.approval_timeout is no). \
                Without a terminal the deploy is refused unless you pass --yes yourself. Never force-pushes; \
                protected branches (deploy.protected_branches, default main and master) are refused unless \
                deploy.allow_protected = true. Every approval, commit, push, pull request and CI run is recorded \
                in the audit trail.
                """
        )

        @Option(help: "The git working tree (default: the session's workspace, or the current folder).") var workspace: String?
        @Option(help: "The remote to push to: a name or any git URL (default: deploy.remote, else origin).") var remote: String?
        @Option(help: "The branch to commit on and push (default: doer/<session>, or the current branch when not protected).") var branch: String?
        @Flag(name: .customLong("pr"), help: "Open a pull request (GitHub) or merge request (GitLab, when deploy.gitlab_project is set) into deploy.base_branch.") var pullRequest = false
        @Option(help: "Start CI after the push: github (workflow_dispatch of deploy.github_workflow), gitlab (a pipeline) or webhook.") var ci: String?
        @Option(help: "The session whose changes these are: the commit message comes from its task and plan.") var session: String?
        @Option(name: [.short, .long], help: "The commit message (default: from the session's task).") var message: String?
        @Flag(help: "Approve without a prompt. Only a person typing it counts: the agent never passes it.") var yes = false
        @Flag(help: "Do not wait for the CI run to finish.") var noWait = false

        func run() async throws {
            do {
                let directories = DataDirectory()
                let configuration = try DoerConfiguration.load(directories: directories)
                let audit = try AuditSupport.log(configuration, directories: directories)
                var request = DeployRequest(workspace: URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true))
                if let session {
                    let store = try Runtime.openStores(configuration, directories: directories).sessions
                    let record = try store.session(session)
                    request = DeployRequest(session: record, history: try SessionHistory(of: record.id, in: store))
                }
                request.remote = remote
                request.branch = branch
                request.pullRequest = pullRequest
                request.ci = ci
                request.message = message
                if let workspace {
                    request.workspace = URL(fileURLWithPath: workspace, isDirectory: true).standardizedFileURL
                }
                let user = configuration.audit.actor()
                let deployer = Deployer(
                    settings: configuration.deploy, audit: audit, actor: user,
                    approver: TerminalDeployApprover(user: user, timeoutSeconds: configuration.deploy.approvalTimeoutSeconds,
                                                     assumeYes: yes),
                    progress: { FileHandle.standardError.write(Data("doer: \($0)\n".utf8)) })
                let report = try await deployer.deploy(request)
                print("branch \(report.branch) at \(report.commit) pushed to \(SecretRedactor().redact(report.remote))")
                if let pullRequest = report.pullRequest { print("pull request #\(pullRequest.number) \(pullRequest.url)") }
                if let run = report.ciRun, let target = report.ciTarget {
                    let final = noWait ? run : try await deployer.watch(run, target: target, session: request.session,
                                                                        seconds: configuration.deploy.ciWaitSeconds)
                    print("CI \(final.summary)")
                    if final.finished && !final.succeeded { throw ExitCode(1) }
                }
            } catch let error as ExitCode {
                throw error
            } catch {
                failDeploy(error)
            }
        }
    }
}

extension DeployCommand {
    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "status",
            abstract: "Show recent deploys (approvals, pushes, pull requests, CI runs) and the latest CI run's current state."
        )

        @Option(help: "Only this session's deploys.") var session: String?
        @Option(help: "How many deploy records to show.") var limit = 20
        @Flag(help: "Do not ask the CI service for the latest run's current state.") var offline = false

        func run() async throws {
            do {
                let configuration = try DoerConfiguration.load()
                let audit = try AuditSupport.log(configuration)
                let kinds: Set<String> = [AuditKind.approval, .commit, .push, .pullRequest, .ciTrigger, .ciStatus, .deployRefused]
                    .map(\.rawValue).reduce(into: []) { $0.insert($1) }
                let records = try audit.records(session: session).filter { record in
                    kinds.contains(record.kind) && (record.kind != AuditKind.approval.rawValue || record.details["subject"]?.stringValue == "deploy")
                }
                if records.isEmpty {
                    print("no deploys recorded yet")
                    return
                }
                for record in records.suffix(limit) {
                    print("\(record.time)  \(record.kind.padding(toLength: 15, withPad: " ", startingAt: 0)) \(record.actor)  \(AuditCommand.Log.summary(record.details))")
                }
                guard !offline, let last = records.last(where: { $0.kind == AuditKind.ciTrigger.rawValue || $0.kind == AuditKind.ciStatus.rawValue }),
                      let run = Deployer.run(from: last), !run.finished || last.kind == AuditKind.ciTrigger.rawValue else { return }
                let target = try DeployTargetRegistry.make(run.target, settings: configuration.deploy,
                                                           environment: ProcessInfo.processInfo.environment,
                                                           remoteURL: last.details["remote"]?.stringValue)
                let current = try await target.status(of: run)
                print("CI now: \(current.summary)")
                if current != run {
                    try audit.append(.ciStatus, session: last.sessionID, actor: configuration.audit.actor(),
                                     details: ["target": .string(current.target), "status": .string(current.status),
                                               "id": current.id.map(AuditValue.string) ?? .null,
                                               "url": current.url.map(AuditValue.string) ?? .null,
                                               "conclusion": current.conclusion.map(AuditValue.string) ?? .null])
                }
            } catch {
                failDeploy(error)
            }
        }
    }
}
