/// Text a run chose — file names, link targets, lines of its files — made safe to show a
/// person. A name or a line holding `ESC [1A ESC [2K` or a carriage return redraws the
/// terminal over what came before it, an OSC sequence sets a title or a clipboard, a
/// newline in a name starts a line that looks like Doer's own, and a bidirectional override
/// (Trojan Source) shows code in another order than it runs: each would let the person
/// approving a change see something other than what will be applied. Such characters are
/// shown as escapes (`\x1b`, `\u{202e}`); everything printable, in any script, is kept.
///
/// ```swift
/// ShownText.escape("a\u{1B}[2Kb")  // "a\\x1b[2Kb"
/// ShownText.escape("naïve.py")     // "naïve.py"
/// ```
public enum ShownText {
    /// `text` with every control, bidirectional and invisible formatting character escaped.
    /// With `keepTabs`, tabs stay as they are (indentation in a file's lines); a name
    /// never keeps one.
    public static func escape(_ text: String, keepTabs: Bool = false) -> String {
        escaping(text) { scalar, _ in hidden(scalar, keepTabs: keepTabs) }
    }

    /// `text` with the scalars `shows(scalar, next)` picks written as escapes.
    private static func escaping(_ text: String, _ shows: (Unicode.Scalar, Unicode.Scalar?) -> Bool) -> String {
        let scalars = Array(text.unicodeScalars)
        guard scalars.indices.contains(where: { shows(scalars[$0], $0 + 1 < scalars.count ? scalars[$0 + 1] : nil) }) else { return text }
        var out = String.UnicodeScalarView()
        for (index, scalar) in scalars.enumerated() {
            if shows(scalar, index + 1 < scalars.count ? scalars[index + 1] : nil) {
                out.append(contentsOf: (scalar.value < 0x100 ? "\\x" + hex(scalar.value, 2) : "\\u{" + hex(scalar.value, 4) + "}").unicodeScalars)
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }

    /// One line of a file for a diff: escaped like a name, except that tabs are kept and a
    /// single carriage return at the very end (a CRLF file's line) stays, as it moves
    /// nothing a person needs to see.
    public static func line(_ line: String) -> String {
        if line.hasSuffix("\r") {
            return escape(String(line.unicodeScalars.dropLast()), keepTabs: true) + "\r"
        }
        return escape(line, keepTabs: true)
    }

    /// A command's output, or other text a run or a model wrote (a command line, a plan step,
    /// a reason), for a terminal: escaped like a file's line, except that its line breaks
    /// (`\n`, `\r\n`) stay. A command that prints `ESC ]52;c;…` would otherwise set the
    /// person's clipboard, one that prints `ESC ]4;2;…` repaint the diff's added lines black,
    /// and `ESC [?1049h` clear the screen, right before the person is asked to approve.
    public static func output(_ text: String) -> String {
        escaping(text) { scalar, next in
            !(scalar == "\n" || scalar == "\r" && next == "\n") && hidden(scalar, keepTabs: true)
        }
    }

    /// Whether `scalar` could move the cursor, change the terminal, reorder or hide text.
    public static func hidden(_ scalar: Unicode.Scalar, keepTabs: Bool) -> Bool {
        switch scalar.value {
        case 0x09: return !keepTabs
        case 0x00...0x1F, 0x7F...0x9F: return true  // C0, DEL, C1 (0x9b is a CSI of its own)
        case 0x061C, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069: return true  // bidirectional controls
        case 0x200B...0x200D, 0x2060...0x2064, 0xFEFF, 0x00AD, 0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180E,
             0x3164, 0xFFA0, 0xFFF9...0xFFFB: return true  // invisible or zero-width
        case 0x2028, 0x2029: return true  // line and paragraph separators
        case 0xE0000...0xE007F: return true  // tag characters
        default: return false
        }
    }

    private static func hex(_ value: UInt32, _ width: Int) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
