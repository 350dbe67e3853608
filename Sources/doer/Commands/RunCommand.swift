import ArgumentParser
import DoerCore
import DoerLanguages
import DoerSandbox
import DoerStore
import Foundation

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a source file in the sandbox; the language comes from its extension.",
        discussion: "Exits with the program's exit code (128+signal when it was killed)."
    )

    @Argument(help: "The file to run (any language of `doer languages`).")
    var file: String

    @Argument(parsing: .postTerminator, help: "Arguments for the program, after --.")
    var arguments: [String] = []

    @OptionGroup var options: SandboxOptions

    func run() async throws {
        do {
            let (configuration, sandboxConfiguration, limits, workspace) = try options.resolve()
            let network = try options.networkPolicy(configuration)
            options.announce(network)
            let language = try LanguageCatalogue.language(forFile: file)
            let fileURL = URL(fileURLWithPath: file, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
                .standardizedFileURL
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: fileURL.path, isDirectory: &isDirectory), !isDirectory.boolValue else {
                throw DoerError.fileNotFound(file)
            }
            // A file outside the workspace runs with its own folder as the workspace.
            let root = options.workspace == nil && !fileURL.path.hasPrefix(workspace.path + "/")
                ? fileURL.deletingLastPathComponent() : workspace
            guard fileURL.path.hasPrefix(root.path + "/") else {
                throw DoerError.invalidArgument("\(file) is not inside the workspace \(root.path)")
            }
            let relative = String(fileURL.path.dropFirst(root.path.count + 1))
            let sandbox = try SandboxFactory(configuration: sandboxConfiguration).make()
            let outcome = try await FileRunner(sandbox: sandbox, cache: LanguageCache(configuration: sandboxConfiguration))
                .run(relative, language: language, arguments: arguments, workspace: root,
                     stdin: StandardInput.readIfPiped(), limits: limits, mode: options.mode, network: network,
                     applyChanges: !options.discardChanges)
            let recorder = try AuditSupport.recorder(configuration, session: nil)
            if let build = outcome.failedBuild {
                try recorder.recordSandboxRun(command: outcome.command, workspace: root, result: build)
                if !options.json { FileHandle.standardError.write(Data("doer: \(relative) did not compile\n".utf8)) }
                ResultPrinter.show(build, json: options.json)
                throw ExitCode(build.termination.shellExitCode == 0 ? 1 : build.termination.shellExitCode)
            }
            guard let result = outcome.run else { throw ExitCode(1) }
            try recorder.recordSandboxRun(command: outcome.command, workspace: root, result: result)
            ResultPrinter.show(result, json: options.json)
            throw ExitCode(result.commandExitCode)
        } catch let error as DoerError {
            fail(error)
        }
    }
}

enum StandardInput {
    /// Doer passes its stdin on when it is a pipe or a file, never a terminal.
    static func readIfPiped() -> Data {
        guard isatty(0) == 0 else { return Data() }
        var info = stat()
        guard fstat(0, &info) == 0, (info.st_mode & S_IFMT) == S_IFIFO || (info.st_mode & S_IFMT) == S_IFREG else {
            return Data()
        }
        return FileHandle.standardInput.readDataToEndOfFile()
    }
}
