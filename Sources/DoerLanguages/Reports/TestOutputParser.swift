import Foundation

extension TestOutputFormat {
    /// Reads a test step's stdout in this format.
    public func parse(_ text: String) -> ParsedTests {
        switch self {
        case .tap: TAPParser.parse(text)
        case .junitXML: JUnitXMLParser.parse(text)
        case .goTestJSON: GoTestJSONParser.parse(text)
        case .rustLibtest: RustLibtestParser.parse(text)
        case .minitest: MinitestParser.parse(text)
        case .xctest: XCTestParser.parse(text)
        }
    }
}
