import Foundation

/// What a request says in words about empty input — "An empty list raises ValueError",
/// "anything else, an empty string included, raises ValueError", "an empty list gives an
/// empty string" — as asserts on the function it is about. No call is written out, so
/// `StatedExamples` sees none; yet these are stated rules, the ones a model's own tests skip
/// most often, and with one function of one parameter there is only one way to read them.
///
/// The function is the one the request names with a single parameter (`median(values)`);
/// with several, the one the sentence names. Anything less certain is left to the model.
enum EmptyInputExamples {
    static func asserts(in task: String) -> [String] {
        let text = task.replacingOccurrences(of: "\n", with: " ")
        let signatures = Self.signatures(in: text)
        guard !signatures.isEmpty else { return [] }
        var asserts: [String] = []
        func add(_ assert: String) { if !asserts.contains(assert) { asserts.append(assert) } }
        for rule in rules(in: text) {
            guard let literal = Self.literal(forEmpty: rule.noun),
                  let function = function(for: rule.sentence, among: signatures) else { continue }
            let call = "\(function)(\(literal))"
            switch rule.claim {
            case .raises(let error):
                add("with pytest.raises(\(error)):\n        \(call)")
            case .equals(let value):
                add("assert (\(call)) == (\(value)), 'stated in the request: \(function) of an empty \(rule.noun) should be \(value.replacingOccurrences(of: "'", with: "\\'"))'")
            }
        }
        return asserts
    }

    private enum Claim {
        case raises(String)
        case equals(String)
    }

    private struct Rule {
        var noun: String
        var claim: Claim
        var sentence: String
    }

    private static let noun = "(list|array|sequence|string|str|text|word|dict|dictionary|mapping|tuple|set)"
    private static let error = "([A-Z][A-Za-z0-9_]*(?:Error|Exception))"
    private static let raise = "(?:raises|raise|should\\s+raise|must\\s+raise|will\\s+raise)"
    /// Words between "an empty list" and "raises" that would make the error someone else's.
    private static let elsewhere = try! NSRegularExpression(pattern: "\\b(return|returns|give|gives|yield|is|are|otherwise|else|but|not|never|and|or|while|whereas)\\b",
                                                            options: .caseInsensitive)
    private static let value = "(an?\\s+empty\\s+(?:string|list|dict|dictionary|tuple|set)|none|zero|0|0\\.0|true|false|''|\"\")"

    private static func rules(in text: String) -> [Rule] {
        var rules: [Rule] = []
        // "An empty list raises ValueError", "an empty string included, raises ValueError"
        for match in matches("\\ban?\\s+empty\\s+\(noun)\\b([^.;:!?]{0,30}?)\\s*\\b\(raise)\\s+\(error)", in: text)
        where elsewhere.firstMatch(in: match.groups[1], range: NSRange(match.groups[1].startIndex..., in: match.groups[1])) == nil {
            rules.append(Rule(noun: match.groups[0], claim: .raises(match.groups[2]), sentence: match.sentence))
        }
        // "raises ValueError for an empty string", "if the list is empty, raise ValueError"
        for match in matches("\\b\(raise)\\s+\(error)\\s+(?:for|on|when\\s+given|given|if\\s+given|with|when\\s+passed)\\s+an?\\s+empty\\s+\(noun)\\b", in: text) {
            rules.append(Rule(noun: match.groups[1], claim: .raises(match.groups[0]), sentence: match.sentence))
        }
        for match in matches("\\b(?:if|when)\\s+(?:the|its)\\s+\(noun)\\s+is\\s+empty,?\\s+(?:it\\s+|then\\s+)?\(raise)\\s+\(error)", in: text) {
            rules.append(Rule(noun: match.groups[0], claim: .raises(match.groups[1]), sentence: match.sentence))
        }
        // "an empty list gives an empty string", "returns 0 for an empty list"
        for match in matches("\\ban?\\s+empty\\s+\(noun)\\s+(?:gives|returns|yields|becomes|produces|maps\\s+to|should\\s+(?:give|return|be))\\s+\(value)(?![\\w'\"])", in: text) {
            rules.append(Rule(noun: match.groups[0], claim: .equals(pythonValue(match.groups[1])), sentence: match.sentence))
        }
        for match in matches("\\b(?:returns|gives|is)\\s+\(value)\\s+(?:for|on|when\\s+given|given)\\s+an?\\s+empty\\s+\(noun)\\b", in: text) {
            rules.append(Rule(noun: match.groups[1], claim: .equals(pythonValue(match.groups[0])), sentence: match.sentence))
        }
        return rules
    }

    private static func pythonValue(_ words: String) -> String {
        let lower = words.lowercased().replacingOccurrences(of: "\\s+", with: " ", options: .regularExpression)
        switch lower {
        case "none": return "None"
        case "true": return "True"
        case "false": return "False"
        case "zero": return "0"
        case "\"\"", "''": return "''"
        default:
            if lower.hasSuffix("empty string") { return "''" }
            if lower.hasPrefix("a") && lower.contains("empty") { return literal(forEmpty: String(lower.split(separator: " ").last ?? "")) ?? "None" }
            return lower
        }
    }

    /// Python's empty value of a noun: `[]` for a list, `''` for a string.
    static func literal(forEmpty noun: String) -> String? {
        switch noun.lowercased() {
        case "list", "array", "sequence": "[]"
        case "string", "str", "text", "word": "''"
        case "dict", "dictionary", "mapping": "{}"
        case "tuple": "()"
        case "set": "set()"
        default: nil
        }
    }

    /// Functions written with their parameters (`median(values)`, `top_words(text, n)`), by
    /// name, with how many parameters each has.
    /// (-1 when the request writes one name with different counts.)
    private static func signatures(in text: String) -> [String: Int] {
        var found: [String: Int] = [:]
        for (name, parameters) in RequestFocus.signatures(in: text) {
            if let known = found[name], known != parameters.count { found[name] = -1 } else { found[name] = parameters.count }
        }
        return found
    }

    /// The one-parameter function the sentence is about: the only function the request
    /// names, or the only one of them the sentence names.
    private static func function(for sentence: String, among signatures: [String: Int]) -> String? {
        if signatures.count == 1, let only = signatures.first, only.value == 1 { return only.key }
        let named = signatures.filter { name, _ in sentence.range(of: "\\b\(NSRegularExpression.escapedPattern(for: name))\\b", options: .regularExpression) != nil }
        guard named.count == 1, let only = named.first, only.value == 1 else { return nil }
        return only.key
    }

    private struct Match {
        var groups: [String]
        var sentence: String
    }

    private static func matches(_ pattern: String, in text: String) -> [Match] {
        guard let regex = try? NSRegularExpression(pattern: pattern, options: [.caseInsensitive]) else { return [] }
        return regex.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap { result in
            guard let whole = Range(result.range, in: text) else { return nil }
            let groups = (1..<result.numberOfRanges).map { index in
                Range(result.range(at: index), in: text).map { String(text[$0]) } ?? ""
            }
            return Match(groups: groups, sentence: RequestFocus.sentence(around: whole, in: text))
        }
    }
}
