import ArgumentParser
import DoerCore
import DoerLanguages
import DoerProcess
import Foundation

struct LanguagesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "languages",
        abstract: "The languages Doer runs and tests, and whether their toolchains are installed here.",
        subcommands: [List.self, Install.self],
        defaultSubcommand: List.self
    )
}

extension LanguagesCommand {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List the catalogue.")

        @Flag(help: "Print the catalogue as JSON.") var json = false

        func run() async throws {
            let rows = LanguageCatalogue.all.map { language -> [String: Any] in
                let missing = LanguageToolchains.missing(language)
                return [
                    "name": language.name, "display_name": language.displayName,
                    "extensions": language.extensions, "manifests": language.manifests,
                    "test_framework": language.test?.framework ?? NSNull(),
                    "packages": LanguageToolchains.packages(for: [language], onlyMissing: false),
                    "installed": missing.isEmpty, "missing": missing.map(\.path),
                ]
            }
            if json {
                let data = try JSONSerialization.data(withJSONObject: rows, options: [.sortedKeys, .prettyPrinted])
                FileHandle.standardOutput.write(data + Data("\n".utf8))
                return
            }
            print("language     installed  test framework       extensions          Debian packages")
            for language in LanguageCatalogue.all {
                let installed = LanguageToolchains.isInstalled(language)
                let packages = LanguageToolchains.packages(for: [language], onlyMissing: false)
                let columns: [(String, Int)] = [
                    (language.name, 13), (installed ? "yes" : "no", 11), (language.test?.framework ?? "-", 21),
                    (language.extensions.map { "." + $0 }.joined(separator: " "), 20),
                    (packages.isEmpty ? (language.toolchain.manualInstall ?? "-") : packages.joined(separator: " "), 0),
                ]
                print(columns.map { text, width in width == 0 ? text : text.padding(toLength: width, withPad: " ", startingAt: 0) }.joined())
            }
            let missing = LanguageCatalogue.all.filter { !LanguageToolchains.isInstalled($0) }
            if !missing.isEmpty {
                print("install the missing ones with: doer languages install \(missing.map(\.name).joined(separator: " "))")
            }
        }
    }
}

extension LanguagesCommand {
    struct Install: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "install",
            abstract: "Install languages' toolchains and test frameworks with apt-get (needs root).")

        @Argument(help: "Languages to install (names from `doer languages`), or `all`.")
        var names: [String]

        @Flag(help: "Print the apt-get command without running it.") var dryRun = false

        func validate() throws {
            if names.isEmpty { throw ValidationError("name at least one language, e.g. doer languages install go rust") }
        }

        func run() async throws {
            do {
                let languages = names == ["all"] ? LanguageCatalogue.all
                    : try names.map { name throws(DoerError) in try LanguageCatalogue.language(named: name) }
                for note in LanguageToolchains.manual(for: languages) {
                    FileHandle.standardError.write(Data("doer: not from apt — \(note)\n".utf8))
                }
                let packages = LanguageToolchains.packages(for: languages)
                guard !packages.isEmpty else {
                    print("nothing to install: \(languages.map(\.name).joined(separator: ", ")) already installed")
                    return
                }
                let command = LanguageToolchains.aptCommand(packages)
                print(command.joined(separator: " "))
                if dryRun { return }
                guard geteuid() == 0 else {
                    throw DoerError.invalidArgument("installing packages needs root; run: sudo apt-get update && sudo \(command.joined(separator: " "))")
                }
                // apt-get's progress goes to stderr, where a person watches it.
                let aptGet = ProcessRunner(environment: .inherited(setting: ["DEBIAN_FRONTEND": "noninteractive"]), showOutput: true)
                for step in [["apt-get", "update", "-qq"], command] {
                    let output: ProcessOutput
                    do { output = try await aptGet.run("/usr/bin/apt-get", Array(step.dropFirst())) } catch {
                        throw DoerError.invalidArgument("cannot run apt-get: \(error)")
                    }
                    guard output.succeeded else {
                        throw DoerError.invalidArgument("`\(step.joined(separator: " "))` failed with \(output.statusDescription)")
                    }
                }
                let still = languages.filter { !LanguageToolchains.isInstalled($0) }
                if !still.isEmpty {
                    throw DoerError.invalidArgument("still missing after install: \(still.map(\.name).joined(separator: ", "))")
                }
            } catch let error as DoerError {
                fail(error)
            }
        }
    }
}
