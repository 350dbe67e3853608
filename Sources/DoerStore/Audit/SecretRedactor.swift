public import Foundation

/// Removes secrets from text before it is written to the audit trail: the values of
/// environment variables whose names say they are secret, and anything shaped like a
/// token, an API key, an Authorization header or a private key.
public struct SecretRedactor: Sendable {
    /// Names of variables whose values are secret.
    static let secretNameMarkers = ["KEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL"]

    private let knownSecrets: [(name: String, value: String)]

    private static let patterns: [(NSRegularExpression, String)] = {
        let rules: [(String, String)] = [
            (#"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)"#, "[REDACTED:private-key]"),
            // Authorization headers: the scheme and its credentials.
            (#"(?i)(authorization\s*[:=]\s*)("[^"]*"|'[^']*'|(basic|bearer|token|digest)\s+[^\s;,'"]+|[^\s;,'"]+)"#, "$1[REDACTED]"),
            (#"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]{6,}"#, "Bearer [REDACTED]"),
            (#"\bsk-[A-Za-z0-9_-]{8,}"#, "[REDACTED:sk]"),
            (#"\bgh[pousr]_[A-Za-z0-9]{16,}"#, "[REDACTED:github]"),
            (#"\bgithub_pat_[A-Za-z0-9_]{16,}"#, "[REDACTED:github]"),
            (#"\bglpat-[A-Za-z0-9_-]{16,}"#, "[REDACTED:gitlab]"),
            (#"\bxox[abprs]-[A-Za-z0-9-]{10,}"#, "[REDACTED:slack]"),
            (#"\bAKIA[0-9A-Z]{16}\b"#, "[REDACTED:aws]"),
            // NAME=value and "name": "value" where the name says it is secret.
            (#"(?i)\b([A-Z0-9_.-]*(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL)[A-Z0-9_]*)(\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s"',;&]+)"#,
             "$1$3[REDACTED]"),
            (#"(?i)("[A-Z0-9_.-]*(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL)[A-Z0-9_]*"\s*:\s*)"[^"]*""#, "$1\"[REDACTED]\""),
            // Credentials inside URLs: https://user:password@host
            (#"(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@]+):[^/\s@]+@"#, "$1:[REDACTED]@"),
        ]
        return rules.map { (try! NSRegularExpression(pattern: $0.0), $0.1) }
    }()

    /// `environment` supplies the secret values to look for (the process's own by default).
    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        knownSecrets = environment
            .filter { Self.isSecretName($0.key) && $0.value.count >= 4 }
            .map { (name: $0.key, value: $0.value) }
            // Longest first, so a secret that contains another is replaced whole.
            .sorted { $0.value.count > $1.value.count }
    }

    public static func isSecretName(_ name: String) -> Bool {
        let upper = name.uppercased()
        return secretNameMarkers.contains { upper.contains($0) }
    }

    public func redact(_ text: String) -> String {
        var result = text
        for secret in knownSecrets where result.contains(secret.value) {
            result = result.replacingOccurrences(of: secret.value, with: "[REDACTED:\(secret.name)]")
        }
        for (expression, template) in Self.patterns {
            let range = NSRange(result.startIndex..., in: result)
            result = expression.stringByReplacingMatches(in: result, range: range, withTemplate: template)
        }
        return result
    }

    /// Every string in the value, and every value stored under a key that names a secret.
    public func redact(_ value: AuditValue) -> AuditValue {
        switch value {
        case .string(let text): return .string(redact(text))
        case .array(let values): return .array(values.map(redact))
        case .object(let object):
            var out: [String: AuditValue] = [:]
            for (key, item) in object {
                if Self.isSecretName(key), case .string = item {
                    out[key] = "[REDACTED]"
                } else {
                    out[key] = redact(item)
                }
            }
            return .object(out)
        case .int, .bool, .null: return value
        }
    }
}
