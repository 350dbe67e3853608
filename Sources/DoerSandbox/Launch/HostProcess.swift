public import DoerCore
import Glibc

/// Starts a program as a plain child process, the way the sandbox starts bwrap (the same
/// spawner thread, the same spawn call), and waits for it. No namespaces, no limits, no
/// captured output: it is the yardstick sandboxed runs are measured against, and must never
/// run untrusted code.
public enum HostProcess {
    /// Runs `command` (an absolute path first) to its end and returns how it ended.
    /// `environment` is the child's whole environment ("NAME=value"); `identity` switches to
    /// that uid and gid before exec (root only), as the sandbox does for bwrap.
    public static func run(_ command: [String], environment: [String] = [],
                           identity: (uid: UInt32, gid: UInt32)? = nil) throws(DoerError) -> Termination {
        guard let executable = command.first else { throw .invalidArgument("no command to run") }
        let process = try SpawnedProcess.spawn(SpawnSpec(executable: executable, arguments: Array(command.dropFirst()),
                                                         environment: environment, identity: identity, controlChannel: false))
        defer { process.closeAll() }
        // Standard input at its end at once, as `< /dev/null` gives it: a program that reads
        // it (`doer sandbox` passes piped input on) must not wait for more.
        close(process.stdinFD)
        process.stdinFD = -1
        // Its output is not read (that would be work the yardstick does not do): it stays in
        // the pipes, so what runs here must print less than a pipe holds (64 KiB).
        let status = process.reap().status
        if status & 0x7f == 0 { return .exited((status >> 8) & 0xff) }
        return .signaled(status & 0x7f)
    }
}
