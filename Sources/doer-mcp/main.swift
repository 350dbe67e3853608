import DoerCore
import DoerMCP
import DoerRuntime
import Foundation

// `doer mcp` parses the command line and hands over to this program (exec: the MCP client's
// stdin and stdout are this process's own) with the options it was given:
//   doer-mcp [--apply] [--max-iterations N] [--scripted-model PATH] [--root DIR]...
// The options are declared once, in `doer mcp`, for its help, man page and completions; so this
// program does not use ArgumentParser (which would also make the man page plugin run it).

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("doer mcp: error: \(message)\n".utf8))
    exit(2)
}

var apply = false
var maxIterations = 6
var scriptedModel: String?
var roots: [URL] = []
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    switch argument {
    case "--apply":
        apply = true
    case "--max-iterations":
        guard let value = arguments.popFirst(), let number = Int(value), number > 0 else { fail("--max-iterations needs a positive number") }
        maxIterations = number
    case "--root":
        guard let value = arguments.popFirst(), value.hasPrefix("/") else { fail("--root needs an absolute path") }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: value, isDirectory: &isDirectory), isDirectory.boolValue else {
            fail("--root \(value) is not a folder")
        }
        roots.append(URL(fileURLWithPath: value, isDirectory: true))
    case "--scripted-model":
        guard let value = arguments.popFirst() else { fail("--scripted-model needs a path") }
        scriptedModel = value
    default:
        fail("unknown argument '\(argument)'; start the server with `doer mcp` (see `doer mcp --help`)")
    }
}

let tools: MCPToolServer
do {
    let runtime = try Runtime(options: RuntimeOptions(scriptedModel: RuntimeOptions.scriptedModel(scriptedModel)))
    // Without --root: the folder the client started the server in (an editor starts it in its project).
    let allowed = roots.isEmpty ? [URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true)] : roots
    tools = try MCPToolServer(runtime: runtime, maxIterations: maxIterations, applyChanges: apply, roots: allowed)
} catch {
    fail(String(describing: error))
}
try await tools.runStdio()
