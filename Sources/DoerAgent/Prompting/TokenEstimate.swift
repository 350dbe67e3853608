import DoerCore

/// An upper estimate of how many tokens a text costs, without the model's tokenizer.
/// Byte-level BPE vocabularies (Qwen2.5, GPT-4o, Llama 3) spend about one token per 3.5 to
/// 4.5 bytes of English or code; one per 3 bytes stays above that for source code (checked
/// against Qwen2.5-Coder's own tokenizer, see the tests' figures), and runs of symbols or
/// text outside ASCII, which split finer, are counted a token each.
enum TokenEstimate {
    static func tokens(_ text: String) -> Int {
        var ascii = 0
        var other = 0
        for scalar in text.unicodeScalars {
            if scalar.isASCII { ascii += 1 } else { other += scalar.value >= 0x10000 ? 3 : 1 }
        }
        return (ascii + 2) / 3 + other
    }

    /// A conversation, with a few tokens of chat-template framing per message, and the
    /// tools offered with it.
    static func tokens(_ messages: [ChatMessage], tools: [ToolDefinition] = []) -> Int {
        messages.reduce(0) { total, message in
            total + tokens(message.content) + 8 + message.toolCalls.reduce(0) { $0 + tokens($1.name + $1.arguments) + 8 }
        } + tools.reduce(0) { $0 + tokens($1.name + $1.description + $1.parametersSchema) + 10 }
    }

    /// The longest prefix of `text` (whole lines where possible) that fits in `budget` tokens.
    static func prefix(_ text: String, fitting budget: Int) -> String {
        guard tokens(text) > budget else { return text }
        var kept = ""
        var used = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let cost = tokens(String(line)) + 1
            if used + cost > budget { break }
            kept += line + "\n"
            used += cost
        }
        return kept
    }
}
