// doer-sandbox-runner: the program a kubernetes sandbox pod runs. It serves one run over
// HTTP (RunnerServer in DoerSandbox): the workspace and the command come in, the run goes
// through doer-sandbox-init with its limits, and the result and the changed files go back.
// It exits once that answer is sent, so the pod ends with its run.
import DoerSandbox
import Foundation

let usage = """
    usage: doer-sandbox-runner [--host ADDRESS] [--port N] [--workspace DIR] [--staging DIR]
      --host       address to listen on (default 0.0.0.0)
      --port       port to listen on (default 8787; 0 picks a free one, printed on stdout)
      --workspace  where the workspace is written and the command runs (default /workspace)
      --staging    where the run's private copy of the workspace lives (default /tmp/doer-runner)
      --uid, --gid the host ids the command runs as when the runner is root (default 65534): its
                   processes count toward that uid's process limit, shared with whatever else runs as it
    """

var host = "0.0.0.0"
var port = 8787
var workspace = "/workspace"
var staging = "/tmp/doer-runner"
var uid: UInt32 = 65534
var gid: UInt32 = 65534
var arguments = CommandLine.arguments.dropFirst()
while let flag = arguments.popFirst() {
    guard flag != "--help", flag != "-h" else { print(usage); exit(0) }
    guard let value = arguments.popFirst() else {
        FileHandle.standardError.write(Data("doer-sandbox-runner: \(flag) needs a value\n\(usage)\n".utf8))
        exit(64)
    }
    switch flag {
    case "--host": host = value
    case "--port":
        guard let number = Int(value), (0...65535).contains(number) else {
            FileHandle.standardError.write(Data("doer-sandbox-runner: --port must be 0 to 65535\n".utf8))
            exit(64)
        }
        port = number
    case "--workspace": workspace = value
    case "--staging": staging = value
    case "--uid", "--gid":
        guard let id = UInt32(value), id > 0 else {
            FileHandle.standardError.write(Data("doer-sandbox-runner: \(flag) must be a positive number\n".utf8))
            exit(64)
        }
        if flag == "--uid" { uid = id } else { gid = id }
    default:
        FileHandle.standardError.write(Data("doer-sandbox-runner: unknown option \(flag)\n\(usage)\n".utf8))
        exit(64)
    }
}

do {
    try FileManager.default.createDirectory(atPath: workspace, withIntermediateDirectories: true)
    let server = try await RunnerServer.start(host: host, port: port, workspace: URL(fileURLWithPath: workspace, isDirectory: true),
                                              stagingRoot: URL(fileURLWithPath: staging, isDirectory: true), runAs: (uid, gid))
    FileHandle.standardOutput.write(Data("doer-sandbox-runner listening on \(host):\(server.port)\n".utf8))
    await server.served()
    await server.close()
} catch {
    FileHandle.standardError.write(Data("doer-sandbox-runner: \(error)\n".utf8))
    exit(1)
}
