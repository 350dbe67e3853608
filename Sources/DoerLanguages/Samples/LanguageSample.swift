import Foundation

/// A hello-world file and a tiny project with one passing and one failing test, per language:
/// what `doer bench languages` measures and what the conformance tests run.
public struct LanguageSample: Sendable {
    public var language: String
    /// File name and content of a program that prints `helloOutput`.
    public var helloFile: String
    public var helloSource: String
    public var helloOutput: String
    /// The project's files (path -> content).
    public var project: [String: String]
    /// Test names exactly as the report gives them.
    public var passingTest: String
    public var failingTest: String
    /// Text the failing test's message must contain.
    public var failureMessage: String
}
