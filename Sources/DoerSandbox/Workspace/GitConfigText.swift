/// The `key = value` lines of a git configuration file, read the way git reads them:
/// `[section "subsection"]` and `[section.subsection]` headers, a key on the header's own
/// line, bare keys (true), quotes, backslash escapes, a backslash at the end of a line
/// going on to the next, and `#` or `;` comments outside quotes.
///
/// ```swift
/// GitConfigText.entries("[core]\n\thooksPath = \".githooks\" # shared\n")   // [("core.hooksPath", ".githooks")]
/// ```
enum GitConfigText {
    /// Keys as `section.subsection.name`: section lowercased, subsection as written (a
    /// dotted header's lowercased, as git does), name as written. Nil for a bare key.
    static func entries(_ text: String) -> [(key: String, value: String?)] {
        var reader = Reader(bytes: Array(text.utf8))
        return reader.entries()
    }

    private struct Reader {
        let bytes: [UInt8]
        var index = 0
        var section = ""
        var found: [(key: String, value: String?)] = []

        init(bytes: [UInt8]) {
            self.bytes = bytes
            if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { index = 3 }
        }

        var current: UInt8? { index < bytes.count ? bytes[index] : nil }

        static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0B || byte == 0x0C }
        static func isKey(_ byte: UInt8) -> Bool {
            (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || byte == UInt8(ascii: "-")
        }

        mutating func skipLine() {
            while let byte = current, byte != 0x0A { index += 1 }
        }

        mutating func entries() -> [(key: String, value: String?)] {
            while let byte = current {
                if byte == 0x0A || Self.isSpace(byte) {
                    index += 1
                } else if byte == UInt8(ascii: "#") || byte == UInt8(ascii: ";") {
                    skipLine()
                } else if byte == UInt8(ascii: "[") {
                    // An unreadable header leaves no section: what follows is not attributed
                    // to the one before it.
                    if !header() { section = ""; skipLine() }
                } else if Self.isKey(byte) {
                    keyValue()
                } else {
                    skipLine()
                }
            }
            return found
        }

        /// Reads `[section]`, `[section "sub"]` or `[section.sub]`.
        mutating func header() -> Bool {
            index += 1
            var name: [UInt8] = []
            while let byte = current, Self.isKey(byte) || byte == UInt8(ascii: ".") {
                name.append(byte)
                index += 1
            }
            var subsection: [UInt8]?
            if let byte = current, Self.isSpace(byte) {
                while let byte = current, Self.isSpace(byte) { index += 1 }
                guard current == UInt8(ascii: "\"") else { return false }
                index += 1
                var sub: [UInt8] = []
                while let byte = current, byte != UInt8(ascii: "\"") {
                    guard byte != 0x0A else { return false }
                    if byte == UInt8(ascii: "\\") {
                        index += 1
                        guard let escaped = current, escaped != 0x0A else { return false }
                        sub.append(escaped)
                    } else {
                        sub.append(byte)
                    }
                    index += 1
                }
                guard current == UInt8(ascii: "\"") else { return false }
                index += 1
                subsection = sub
            }
            guard current == UInt8(ascii: "]"), !name.isEmpty else { return false }
            index += 1
            let text = String(decoding: name, as: UTF8.self).lowercased()
            section = subsection.map { text + "." + String(decoding: $0, as: UTF8.self) } ?? text
            return true
        }

        /// Reads `name`, `name = value`, with a value going on past escaped line ends.
        mutating func keyValue() {
            var name: [UInt8] = []
            while let byte = current, Self.isKey(byte) {
                name.append(byte)
                index += 1
            }
            while let byte = current, Self.isSpace(byte) { index += 1 }
            let key = section + "." + String(decoding: name, as: UTF8.self)
            guard !section.isEmpty else { skipLine(); return }
            guard current == UInt8(ascii: "=") else {
                if current == nil || current == 0x0A || current == UInt8(ascii: "#") || current == UInt8(ascii: ";") {
                    found.append((key, nil))
                }
                skipLine()
                return
            }
            index += 1
            while let byte = current, Self.isSpace(byte) { index += 1 }
            var value: [UInt8] = []
            var quoted = false
            // Spaces outside quotes count only once something follows them.
            var pendingSpaces: [UInt8] = []
            while let byte = current, byte != 0x0A {
                index += 1
                if !quoted && (byte == UInt8(ascii: "#") || byte == UInt8(ascii: ";")) { skipLine(); break }
                if !quoted && Self.isSpace(byte) { pendingSpaces.append(byte); continue }
                value += pendingSpaces
                pendingSpaces = []
                if byte == UInt8(ascii: "\"") { quoted.toggle(); continue }
                guard byte == UInt8(ascii: "\\") else { value.append(byte); continue }
                guard let escaped = current else { break }
                index += 1
                switch escaped {
                case 0x0A: continue
                case UInt8(ascii: "n"): value.append(0x0A)
                case UInt8(ascii: "t"): value.append(0x09)
                case UInt8(ascii: "b"): _ = value.popLast()
                default: value.append(escaped)
                }
            }
            found.append((key, String(decoding: value, as: UTF8.self)))
        }
    }
}
