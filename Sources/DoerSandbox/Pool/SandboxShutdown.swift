public import DoerCore

extension Sandbox {
    /// Ends what the sandbox started ahead of time (its warm pool's processes, cgroups and
    /// staging folders) and waits for what is still starting; runs after it start cold.
    /// A long-lived process (`doer serve`) calls it when it stops, so a stop or SIGTERM
    /// leaves nothing behind.
    public func shutDown() async {
        await (self as? SandboxEngine)?.shutDownPool()
    }
}
