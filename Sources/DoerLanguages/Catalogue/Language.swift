import DoerCore
import Foundation

/// How to run a source file of one language inside the sandbox.
public struct Language: Sendable, Hashable {
    public var name: String
    public var extensions: [String]
    /// The Debian package that provides the toolchain.
    public var toolchainPackage: String
    /// The program the toolchain must provide (checked on the host).
    public var toolchainProgram: String
    /// The sandboxed command for `file` (relative to the workspace) with `arguments`.
    public var runCommand: @Sendable (_ file: String, _ arguments: [String]) -> [String]

    public static func == (a: Language, b: Language) -> Bool { a.name == b.name }
    public func hash(into hasher: inout Hasher) { hasher.combine(name) }
}
