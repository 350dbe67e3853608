import DoerStore
import ServiceLifecycle

/// Keeps a replica in step with the others on its PostgreSQL store, for as long as the
/// server runs: it follows the NOTIFY channels (new events wake this replica's followers
/// of that session; queue changes wake its worker), and at every tick it also runs the
/// worker and wakes every follower, so that a notification lost with a connection costs a
/// tick of delay and never an event or a run.
struct ReplicaService: Service {
    let hub: SessionHub
    let listener: PostgresNotificationListener
    let settings: ReplicaSettings

    func run() async throws {
        let hub = hub, listener = listener, settings = settings
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await listener.run(retrySeconds: settings.pollSeconds, connected: {
                    await hub.wakeAll()
                    await hub.pump()
                }, receive: { notification in
                    switch notification {
                    case .event(let sessionID, _): await hub.wake(sessionID)
                    case .runs: await hub.pump()
                    }
                })
            }
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(Int(settings.tickSeconds * 1000)))
                    await hub.pump()
                    await hub.wakeAll()
                }
            }
            // Returns at graceful shutdown, throws when cancelled: either way the server is stopping.
            try? await gracefulShutdown()
            group.cancelAll()
        }
    }
}
