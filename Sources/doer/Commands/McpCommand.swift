import ArgumentParser
import DoerCore
import Foundation

struct McpCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mcp",
        abstract: "Serve Doer's tools (execute_code, run_tests, run_task) over the Model Context Protocol on stdio.",
        discussion: """
            Point an MCP client at the command `doer mcp`. Nothing is printed to stdout but the protocol. \
            The server is the program doer-mcp, installed beside doer (or named by DOER_MCP); doer hands over to it.
            """
    )

    @Flag(help: "Let run_task apply the agent's passing changes to the workspace (off: it only returns the diff).")
    var apply = false
    @Option(help: "Model turns per candidate for run_task.") var maxIterations = 6
    @Option(help: ArgumentHelp("A folder workspaces may be in, at any depth (repeat for several); by default the folder the server starts in.",
                               valueName: "dir"))
    var root: [String] = []
    @Option(help: "Replay this JSON file of canned model replies instead of a real model; also DOER_SCRIPTED_MODEL.")
    var scriptedModel: String?

    func validate() throws {
        guard maxIterations > 0 else { throw ValidationError("--max-iterations must be at least 1") }
    }

    func run() throws {
        guard let server = CompanionExecutable.locate("doer-mcp", environmentVariable: "DOER_MCP") else {
            let looked = CompanionExecutable.candidates("doer-mcp", environmentVariable: "DOER_MCP")
            fail(.invalidArgument("doer-mcp not found (looked at \(looked.joined(separator: ", "))); "
                + "build it with `swift build --product doer-mcp` or set DOER_MCP"))
        }
        var arguments = [server, "--max-iterations", String(maxIterations)]
        if apply { arguments.append("--apply") }
        if let scriptedModel { arguments += ["--scripted-model", scriptedModel] }
        for folder in root {
            // Relative to where `doer mcp` was started; checked by the server, which says what is wrong.
            arguments += ["--root", URL(fileURLWithPath: folder, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath)).path]
        }
        // exec: the client's stdin and stdout go straight to the server, with nothing between.
        let argv = arguments.map { strdup($0) } + [nil]
        execv(server, argv)
        fail(.invalidArgument("could not start \(server): \(String(cString: strerror(errno)))"))
    }
}
