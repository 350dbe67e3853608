import ArgumentParser
@testable import doer
import Testing

@Suite("doer bench server options")
struct BenchServerCommandTests {
    @Test("without --replicas the replicas series is off and the single-server series runs as before")
    func replicasOffByDefault() throws {
        let command = try BenchCommand.Server.parse([])
        #expect(command.replicaCounts.isEmpty)
        #expect(!command.replicasOnly)
        #expect(command.sseClients == 200 && command.executions == 50 && command.executionSlots == 8 && command.rounds == 3)
    }

    @Test("--replicas and its options reach the replicas series; the clients are --sse-clients")
    func replicasWiring() throws {
        let command = try BenchCommand.Server.parse(["--replicas", "1,2", "--replicas-only", "--sse-clients", "40",
                                                     "--replica-sessions", "10", "--replica-runs", "3", "--replica-rounds", "2"])
        #expect(command.replicasOnly)
        #expect(command.replicaCounts == [1, 2])
        #expect(command.sseClients == 40 && command.replicaSessions == 10 && command.replicaRuns == 3 && command.replicaRounds == 2)
        // The benchmark the command runs, by its fields (this target does not import DoerBench).
        #expect(String(describing: command.replicaBenchmark).hasPrefix(
            "ReplicaBenchmark(replicaCounts: [1, 2], clients: 40, sessions: 10, runsPerReplica: 3, rounds: 2,"),
            "\(command.replicaBenchmark)")
        let defaults = try BenchCommand.Server.parse(["--replicas", "2, 1"])
        #expect(defaults.replicaCounts == [2, 1], "in the order given")
        #expect(String(describing: defaults.replicaBenchmark).hasPrefix(
            "ReplicaBenchmark(replicaCounts: [2, 1], clients: 200, sessions: 20, runsPerReplica: 4, rounds: 1,"))
    }

    @Test("bad replica options are refused, saying what is wrong", arguments: [
        (["--replicas", "0,2"], "--replicas takes replica counts from 1 to 8"),
        (["--replicas", "1,x"], "--replicas takes replica counts from 1 to 8"),
        (["--replicas", "1,,2"], "--replicas takes replica counts from 1 to 8"),
        (["--replicas", "2,2"], "--replicas names a count twice"),
        (["--replicas-only"], "--replicas-only needs --replicas"),
        (["--replicas", "1,2", "--replica-sessions", "0"], "must be positive"),
    ])
    func badReplicaOptions(arguments: [String], message: String) {
        do {
            _ = try BenchCommand.Server.parse(arguments)
            Issue.record("\(arguments) was accepted")
        } catch {
            #expect(BenchCommand.Server.message(for: error).contains(message), "\(BenchCommand.Server.message(for: error))")
        }
    }
}
