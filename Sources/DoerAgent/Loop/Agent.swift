public import DoerCore
public import DoerModels
public import DoerSandbox
public import Foundation

/// The agent: give it a task and a workspace, read its events.
///
/// ```swift
/// let agent = Agent(provider: provider, sandbox: sandbox, configuration: AgentConfiguration(candidates: 2))
/// for await event in agent.run(task: "add a slugify() helper with tests", workspace: projectURL) {
///     print(event)
/// }
/// ```
///
/// Candidates work on private copies; only the winner's changes reach the workspace, and
/// only under the approval policy. Cancelling the consuming task stops everything.
public struct Agent: Sendable {
    public let provider: any ModelProvider
    public let sandbox: any Sandbox
    public let configuration: AgentConfiguration
    public let approvals: any ApprovalHandler

    public init(provider: any ModelProvider, sandbox: any Sandbox, configuration: AgentConfiguration,
                approvals: any ApprovalHandler = DenyAllApprovals()) {
        self.provider = provider
        self.sandbox = sandbox
        self.configuration = configuration
        self.approvals = approvals
    }

    /// Runs the task. With `resume`, the candidates start from the files and the last
    /// failure an earlier run of the same session reached (see `ResumePoint`).
    public func run(task: String, workspace: URL, resumingFrom resume: ResumePoint? = nil) -> AsyncStream<AgentEvent> {
        let (stream, continuation) = AsyncStream<AgentEvent>.makeStream(bufferingPolicy: .unbounded)
        let work = Task {
            let summary = await execute(task: task, workspace: workspace, resume: resume) { continuation.yield($0) }
            continuation.yield(.done(summary))
            continuation.finish()
        }
        continuation.onTermination = { _ in work.cancel() }
        return stream
    }

    private func execute(task: String, workspace: URL, resume: ResumePoint?, emit: @escaping @Sendable (AgentEvent) -> Void) async -> RunSummary {
        let started = ContinuousClock.now
        let meter = TokenMeter()
        func summary(_ outcome: RunSummary.Outcome, winner: Int? = nil, iterations: Int = 0, changes: [FileChange] = [],
                     applied: Bool = false, diff: String = "", message: String) async -> RunSummary {
            RunSummary(outcome: outcome, winner: winner, iterations: iterations, changedFiles: changes, applied: applied,
                       diff: diff, usage: await meter.total, durationMs: (ContinuousClock.now - started).milliseconds,
                       message: message)
        }
        do {
            try configuration.validate()
        } catch {
            return await summary(.error, message: error.description)
        }
        emit(.started(task: task, workspace: workspace.path, candidates: configuration.candidates))

        var copies: [WorkspaceCopy] = []
        defer { copies.forEach { $0.discard() } }
        do {
            for _ in 0..<configuration.candidates {
                copies.append(try WorkspaceCopy(copying: workspace, stagingRoot: configuration.stagingRoot))
            }
        } catch {
            return await summary(.error, message: error.description)
        }
        let instructions = copies[0].read("AGENTS.md")
        let files = copies[0].files()
        // Indexed before any candidate writes: the first copy is still the workspace as it was.
        let repository = await RepositoryContext.build(task: task, workspace: workspace, copy: copies[0], sandbox: sandbox,
                                                       configuration: configuration)
        // The workspace's own tests that fail before any change are left out of every run;
        // the examples in the docstrings the request points at are tested like stated ones.
        let documented = DocumentedExamples.asserts(task: task, files: files, read: copies[0].read)
        let uncollected = UncollectedTests.find(files: files, read: copies[0].read)
        let strategy = await KnownFailures.excluding(from: TestStrategy.choose(files: files, task: task, documented: documented, uncollected: uncollected,
                                                                         read: copies[0].read),
                                                     task: task, files: files,
                                                     workspace: copies[0].directory, sandbox: sandbox, configuration: configuration)
        var written: Plan?
        if resume?.plan == nil && Planner.wantsModelPlan(task: task, files: files, mode: configuration.planning) {
            do {
                written = try await Planner.modelPlan(task: task, files: files, strategy: strategy,
                                                      provider: MeteredProvider(provider, meter: meter), configuration: configuration)
            } catch {
                if Task.isCancelled { return await summary(.cancelled, message: "cancelled") }
                return await summary(.error, message: "the model could not write a plan: \((error as? ModelError)?.description ?? "\(error)")")
            }
        }
        let plan = written ?? resume?.plan ?? Planner.plan(task: task, files: files, strategy: strategy)
        emit(.plan(plan))
        let resumed = resume?.candidates ?? []
        for (index, state) in resumed.prefix(copies.count).enumerated() {
            for action in state.actions { Self.replay(action, on: copies[index]) }
        }

        // Network for the candidates' commands is an effect outside the sandbox: a person says yes first.
        var effective = configuration
        var notes: [String] = []
        if configuration.network.access != .none && configuration.approval != .never {
            let request = ApprovalRequest(id: UUID().uuidString, summary: "let the candidates' commands reach the network "
                                          + "(\(configuration.network.description))", diff: "", files: [])
            emit(.approvalRequested(request))
            let approvedBy = await approvals.decide(request)
            emit(.approvalAnswered(id: request.id, approved: approvedBy != nil, by: approvedBy ?? "nobody"))
            if approvedBy == nil {
                effective.network = .none
                notes.append("network not approved: commands ran without it")
            }
        }

        let budget = Budget(meter: meter, tokens: configuration.tokenBudget, seconds: configuration.timeBudgetSeconds, started: started)
        let independent = IndependentTest.applies(to: strategy)
            ? IndependentTest(task: task, workspace: workspace, strategy: strategy, provider: MeteredProvider(provider, meter: meter),
                              sandbox: sandbox, configuration: configuration, repository: repository) : nil
        let requestEvidence = RequestEvidence(task: task, workspace: workspace, strategy: strategy, sandbox: sandbox,
                                              configuration: configuration, independent: independent)
        var race = await race(task: task, strategy: strategy, plan: written, resumed: resumed, instructions: instructions,
                              copies: copies, repository: repository, configuration: effective, meter: meter, budget: budget,
                              evidence: requestEvidence, originalFiles: files, emit: emit)
        if Task.isCancelled {
            return await summary(.cancelled, iterations: race.iterations, message: "cancelled")
        }
        // Correct code whose own model-written assertion was wrong is not thrown away: the
        // candidates' code is judged against each other's tests and the stated examples.
        var crossChecked: String?
        if race.winner == nil && !race.gaveUp.isEmpty {
            let verdict = await CrossCheck(strategy: strategy, workspace: workspace, sandbox: sandbox, configuration: effective)
                .choose(among: race.gaveUp, copies: copies)
            if Task.isCancelled {
                return await summary(.cancelled, iterations: race.iterations, message: "cancelled")
            }
            if let verdict, let chosen = verdict.winner {
                race.winner = chosen
                crossChecked = verdict.note
            } else if let verdict {
                race.reason += "; " + verdict.note
            }
        }
        guard let winner = race.winner else {
            return await summary(race.outcome, iterations: race.iterations, message: ([race.reason] + notes).joined(separator: "; "))
        }
        let copy = copies[winner]
        let changes = Self.applicableChanges(in: copy, strategy: strategy)
        let diff = copy.diff(changes)
        let costs = race.costs.sorted { $0.key < $1.key }.map { "candidate \($0.key): \($0.value.totalTokens) tokens" }
        let how: String = crossChecked ?? (race.iterations == 0 ? "candidate \(winner) passed with the files restored from the session"
                                           : "candidate \(winner) passed after \(race.iterations) iteration(s)")
        let message = how
            + (costs.count > 1 ? " (" + costs.joined(separator: ", ") + ")" : "")
            + notes.map { "; " + $0 }.joined()
        guard !changes.isEmpty else {
            emit(.evidence(ChangeEvidence(kind: .none, verified: false, command: strategy.command.joined(separator: " "),
                                          summary: "nothing changed, so nothing shows the request was done")))
            return await summary(.unverified, winner: winner, iterations: race.iterations,
                                 message: message + "; nothing changed, so nothing shows the request was done")
        }
        // Passing tests are a claim; the evidence is a test that failed before the change
        // (the winner's loop found it already, unless the cross-check chose the winner).
        let evidence: ChangeEvidence
        if let found = race.evidence {
            evidence = found
        } else {
            evidence = await requestEvidence.check(winner: copy, changes: changes, originalFiles: files)
        }
        emit(.evidence(evidence))
        let outcome: RunSummary.Outcome = evidence.verified ? .passed : .unverified
        let shown = evidence.verified ? message + "; evidence: " + evidence.summary
            : message.replacingOccurrences(of: " passed ", with: "'s tests passed ") + "; UNVERIFIED: " + evidence.summary
        var approvedBy: String?
        if configuration.approval == .never {
            // Nobody looks at an unattended apply, so only a verified change is applied.
            approvedBy = outcome == .passed ? "policy:never" : nil
        } else {
            let what = "apply \(changes.count) changed file(s) to \(workspace.path)"
            let request = ApprovalRequest(id: UUID().uuidString,
                                          summary: outcome == .passed ? what : "UNVERIFIED — " + what + " (" + shown + ")",
                                          diff: diff, files: changes)
            emit(.approvalRequested(request))
            approvedBy = await approvals.decide(request)
            emit(.approvalAnswered(id: request.id, approved: approvedBy != nil, by: approvedBy ?? "nobody"))
        }
        guard approvedBy != nil else {
            let reason = configuration.approval == .never ? "not applied: an unverified change is never applied unattended"
                : "changes not applied (no approval)"
            return await summary(outcome, winner: winner, iterations: race.iterations, changes: changes, diff: diff,
                                 message: shown + "; " + reason)
        }
        emit(.undoPoint(WorkspaceBackup.take(of: changes, in: workspace)))
        do {
            let warnings = try copy.apply(changes)
            emit(.changesApplied(files: changes))
            return await summary(outcome, winner: winner, iterations: race.iterations, changes: changes, applied: true, diff: diff,
                                 message: ([shown] + warnings).joined(separator: "; "))
        } catch {
            return await summary(.error, winner: winner, iterations: race.iterations, changes: changes, diff: diff,
                                 message: "could not apply the changes: \(error.description)")
        }
    }

    /// How one candidate's loop ended. A struct rather than a tuple holding a `Result`:
    /// optimised builds handed back a garbage index through the tuple.
    private struct CandidateFinish: Sendable {
        var index: Int
        var outcome: CandidateLoop.Outcome?
        var error: (any Error)?
    }

    private struct RaceResult {
        var winner: Int?
        var outcome: RunSummary.Outcome
        var iterations: Int
        var reason: String
        var costs: [Int: TokenUsage]
        /// The candidates that gave up (each copy then holds its best attempt), for the cross-check.
        var gaveUp: [Int] = []
        /// The winner's evidence, when its loop checked it.
        var evidence: ChangeEvidence?
    }

    /// What a candidate's copy would apply: its changes without Doer's own test files and
    /// tool caches.
    static func applicableChanges(in copy: WorkspaceCopy, strategy: TestStrategy) -> [FileChange] {
        copy.changes().filter { !strategy.writtenFiles.keys.contains($0.path) && !ToolCaches.contains($0.path) }
    }

    /// Puts a recorded write or edit back on a copy. An edit that no longer applies is
    /// skipped: the candidate's next turn sees the files as they are.
    private static func replay(_ action: Action, on copy: WorkspaceCopy) {
        switch action {
        case .writeFile(let path, let content):
            try? copy.write(path, content)
        case .editFile(let path, let search, let replace):
            guard let current = copy.read(path), current.components(separatedBy: search).count == 2 else { return }
            try? copy.write(path, current.replacingOccurrences(of: search, with: replace))
        case .runCommand:
            break
        }
    }

    /// Runs the candidates at once; the first to pass wins and the rest are cancelled,
    /// which stops their model streams and their sandboxed runs.
    private func race(task: String, strategy: TestStrategy, plan: Plan?, resumed: [ResumePoint.CandidateState],
                      instructions: String?, copies: [WorkspaceCopy], repository: RepositoryContext, configuration: AgentConfiguration,
                      meter: TokenMeter, budget: Budget, evidence: RequestEvidence, originalFiles: [String],
                      emit: @escaping @Sendable (AgentEvent) -> Void) async -> RaceResult {
        var meters: [Int: TokenMeter] = [:]
        for index in copies.indices { meters[index] = TokenMeter() }
        let result = await withTaskGroup(of: CandidateFinish.self) { group -> RaceResult in
            for (index, copy) in copies.enumerated() {
                let candidateMeter = meters[index]!
                let loop = CandidateLoop(
                    index: index, task: task, strategy: strategy, plan: plan,
                    resumed: index < resumed.count ? resumed[index] : nil, projectInstructions: instructions,
                    provider: MeteredProvider(MeteredProvider(provider, meter: candidateMeter), meter: meter),
                    sandbox: sandbox, configuration: configuration, copy: copy, emit: emit,
                    budgetLeft: { await budget.allowsMore() }, repository: repository,
                    context: ContextBudget(window: configuration.contextWindow ?? provider.contextWindow, reply: configuration.maxTokensPerTurn),
                    evidence: evidence, originalFiles: originalFiles)
                let candidate = index
                group.addTask {
                    do {
                        return CandidateFinish(index: candidate, outcome: try await loop.run(), error: nil)
                    } catch {
                        return CandidateFinish(index: candidate, outcome: nil, error: error)
                    }
                }
            }
            var best = RaceResult(winner: nil, outcome: .failedTests, iterations: 0, reason: "no candidate passed", costs: [:])
            var unproven: RaceResult?
            var reasons: [String] = []
            while let finish = await group.next() {
                let index = finish.index
                switch (finish.outcome, finish.error) {
                case (.passed(let iterations, let found)?, _):
                    emit(.candidateStatus(candidate: index, status: .passed(iteration: iterations)))
                    // A pass without evidence waits for the others: one of them may show the request done.
                    if let found, !found.verified, copies.count > 1 {
                        if unproven == nil {
                            unproven = RaceResult(winner: index, outcome: .passed, iterations: iterations, reason: "", costs: [:], evidence: found)
                        }
                        continue
                    }
                    group.cancelAll()
                    for other in copies.indices where other != index {
                        emit(.candidateStatus(candidate: other, status: .cancelled))
                    }
                    best = RaceResult(winner: index, outcome: .passed, iterations: iterations, reason: "", costs: [:], evidence: found)
                    return best
                case (.gaveUp(let outcome, let iterations, let reason)?, _):
                    emit(.candidateStatus(candidate: index, status: .failed(reason: reason)))
                    best.outcome = outcome
                    best.iterations = max(best.iterations, iterations)
                    reasons.append("candidate \(index): \(reason)")
                    best.gaveUp.append(index)
                case (nil, let failure):
                    let error: any Error = failure ?? CancellationError()
                    let reason = (error as? ModelError)?.description ?? (error as? DoerError)?.description ?? "\(error)"
                    if !(error is CancellationError) && (error as? ModelError) != .cancelled && (error as? DoerError) != .cancelled {
                        emit(.candidateStatus(candidate: index, status: .failed(reason: reason)))
                    }
                    best.outcome = .error
                    reasons.append("candidate \(index): \(reason)")
                }
            }
            if let unproven { return unproven }
            best.reason = reasons.joined(separator: "; ")
            return best
        }
        var withCosts = result
        for (index, candidateMeter) in meters { withCosts.costs[index] = await candidateMeter.total }
        return withCosts
    }
}

/// The shared token and time budget of a run.
struct Budget: Sendable {
    let meter: TokenMeter
    let tokens: Int?
    let seconds: Double?
    let started: ContinuousClock.Instant

    func allowsMore() async -> Bool {
        if let seconds, (ContinuousClock.now - started).milliseconds > seconds * 1000 { return false }
        if let tokens, await meter.total.totalTokens >= tokens { return false }
        return true
    }
}

