public import DoerCore
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// Reads JUnit XML as pytest, PHPUnit and testthat write it.
public enum JUnitXMLParser {
    public static func parse(_ text: String) -> ParsedTests {
        // The report is the last XML document on stdout; anything before it is chatter.
        guard let start = text.range(of: "<?xml") ?? text.range(of: "<testsuite") else { return ParsedTests() }
        let delegate = Delegate()
        let parser = XMLParser(data: Data(text[start.lowerBound...].utf8))
        parser.delegate = delegate
        _ = parser.parse()
        return ParsedTests(tests: delegate.results)
    }

    private final class Delegate: NSObject, XMLParserDelegate {
        var results: [TestCaseResult] = []
        private var current: TestCaseResult?
        private var outcomeText = ""
        private var collecting = false
        private var outcomeMessage: String?

        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?,
                    qualifiedName: String?, attributes: [String: String] = [:]) {
            switch name {
            case "testcase":
                let suite = attributes["classname"].flatMap { $0.isEmpty ? nil : $0 } ?? attributes["class"] ?? attributes["file"]
                current = TestCaseResult(name: attributes["name"] ?? "?", suite: suite, status: .passed,
                                         durationMs: attributes["time"].flatMap(Double.init).map { $0 * 1000 })
            case "failure", "error":
                current?.status = name == "failure" ? .failed : .errored
                outcomeMessage = attributes["message"]
                outcomeText = ""
                collecting = true
            case "skipped":
                current?.status = .skipped
            default:
                break
            }
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            if collecting { outcomeText += string }
        }

        func parser(_ parser: XMLParser, foundCDATA CDATABlock: Data) {
            if collecting { outcomeText += String(decoding: CDATABlock, as: UTF8.self) }
        }

        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            switch name {
            case "failure", "error":
                collecting = false
                let message = (outcomeMessage.flatMap { $0.isEmpty ? nil : $0 } ?? outcomeText)
                // A message attribute is often the first line only; the body has the rest.
                let full = outcomeText.count > message.count && outcomeText.contains(message) ? outcomeText : message
                if current?.message == nil { current?.message = full.trimmedMessage() }
            case "testcase":
                if let current { results.append(current) }
                current = nil
            default:
                break
            }
        }
    }
}
