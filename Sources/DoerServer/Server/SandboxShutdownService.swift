import DoerSandbox
import ServiceLifecycle

/// Ends what the sandbox keeps ready (the warm pool's sandboxes and their folders) when
/// the server stops, by SIGTERM, Ctrl-C or its service group's shutdown. It runs after
/// the HTTP server has finished its last requests.
struct SandboxShutdownService: Service {
    let sandbox: any Sandbox

    func run() async throws {
        // Returns at graceful shutdown, throws when cancelled: either way the server is stopping.
        try? await gracefulShutdown()
        await sandbox.shutDown()
    }
}
