import Foundation

/// Secrets and personal data in what an agent sends out (tool arguments). Local and bounded:
/// well-known credential shapes, checksummed numbers (Luhn for cards, mod-97 for IBANs) so a
/// long order number is not a card.
public struct LeakCheck: Sendable {
    public var maxScan = 256 * 1024
    public init() {}

    struct Shape: Sendable {
        let re: Pattern
        let name: String
        let kind: Finding.Kind
        let valid: (@Sendable (String) -> Bool)?
        /// Substrings of which one must occur before the expression runs (empty: always run).
        let keys: [String]
        /// Nil when the pattern does not compile (constants; a test requires every one to).
        init?(_ pattern: String, _ name: String, _ kind: Finding.Kind = .secret, keys: [String], valid: (@Sendable (String) -> Bool)? = nil) {
            guard let re = try? Pattern(pattern) else { return nil }
            self.re = re; self.name = name; self.kind = kind; self.valid = valid; self.keys = keys
        }
    }

    static let shapes: [Shape] = table.compactMap { $0 }

    static let table: [Shape?] = [
        Shape(#"-----BEGIN (RSA |EC |DSA |OPENSSH |PGP |ENCRYPTED )?PRIVATE KEY( BLOCK)?-----"#, "a private key", keys: ["-----BEGIN"]),
        Shape(#"\b(AKIA|ASIA)[0-9A-Z]{16}\b"#, "an AWS access key id", keys: ["AKIA", "ASIA"]),
        Shape(#"(?i)aws_secret_access_key\s*[=:]\s*['"]?[A-Za-z0-9/+=]{40}"#, "an AWS secret key", keys: ["ws_secret", "WS_SECRET"]),
        Shape(#"\b(ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36}\b|\bgithub_pat_[A-Za-z0-9_]{40,}"#, "a GitHub token", keys: ["gh", "github_pat_"]),
        Shape(#"\bglpat-[A-Za-z0-9_\-]{20}\b"#, "a GitLab token", keys: ["glpat-"]),
        Shape(#"\bxox[abprs]-[A-Za-z0-9-]{10,}"#, "a Slack token", keys: ["xox"]),
        Shape(#"\bAIza[0-9A-Za-z_\-]{35}\b"#, "a Google API key", keys: ["AIza"]),
        Shape(#"\b(sk|rk)_live_[0-9A-Za-z]{20,}"#, "a Stripe live key", keys: ["_live_"]),
        Shape(#"\bsk-(proj-|ant-)?[A-Za-z0-9_\-]{32,}"#, "an AI provider API key", keys: ["sk-"]),
        Shape(#"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"#, "a JSON web token", keys: ["eyJ"]),
        Shape(#"(?i)\b(password|passwd|pwd|secret|api[_-]?key|access[_-]?token|auth[_-]?token)\b["']?\s*[=:]\s*["']?[^\s"',;]{8,}"#, "a credential assignment", keys: ["=", ":"]),
        Shape(#"(?i)\b[a-z][a-z0-9+.-]*://[^\s:/@]+:[^\s:/@]{3,}@"#, "a password in a URL", keys: ["@"]),
        Shape(#"\b(?:\d[ -]?){12,18}\d\b"#, "a payment card number", .personalData, keys: [], valid: { LeakCheck.luhn($0) }),
        Shape(#"\b(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}\b"#, "a US social security number", .personalData, keys: ["-"]),
        Shape(#"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b"#, "an IBAN", .personalData, keys: [], valid: { LeakCheck.iban($0) }),
    ]

    /// Findings in every string of an argument value.
    public func check(_ value: JSONValue, channel: String) -> [Finding] {
        var out: [Finding] = []
        var seen = Set<String>()
        value.forEachString { s in
            for f in check(s, channel: channel) where seen.insert(f.detail).inserted { out.append(f) }
        }
        return out
    }

    public func check(_ text: String, channel: String) -> [Finding] {
        let scanned = text.utf8.count > maxScan ? String(decoding: Array(text.utf8.prefix(maxScan)), as: UTF8.self) : text
        var out: [Finding] = []
        let bytes = Array(scanned.utf8)
        let digits = bytes.reduce(0) { $0 + ($1 >= 0x30 && $1 <= 0x39 ? 1 : 0) }
        for shape in Self.shapes {
            if !shape.keys.isEmpty, !shape.keys.contains(where: { ByteText.contains(bytes, $0) }) { continue }
            // Cards and IBANs need a dozen digits.
            if shape.kind == .personalData, digits < (shape.keys.isEmpty ? 12 : 9) { continue }
            var at = 0
            search: while at <= bytes.count {
                switch shape.re.firstMatch(in: scanned, from: at) {
                case .none: break search
                case .failed:
                    // Text the matcher gives up on is reported, not passed.
                    out.append(Finding(shape.kind, .high, channel: channel, "\(shape.name)? (the text was too complex to check)"))
                    break search
                case .found(let r):
                    at = r.upperBound
                    if r.isEmpty { at += 1; while at < bytes.count && bytes[at] & 0xC0 == 0x80 { at += 1 } }
                    let hit = String(decoding: bytes[r], as: UTF8.self)
                    if let valid = shape.valid, !valid(hit) { continue }
                    out.append(Finding(shape.kind, .high, channel: channel, "\(shape.name) (\(Self.redact(hit)))"))
                    break search
                }
            }
        }
        return out
    }

    /// Enough of the value to recognise it, never enough to reuse it.
    static func redact(_ s: String) -> String {
        let chars = Array(s)
        guard chars.count > 8 else { return String(repeating: "*", count: chars.count) }
        return String(chars.prefix(4)) + String(repeating: "*", count: min(12, chars.count - 6)) + String(chars.suffix(2))
    }

    static func luhn(_ s: String) -> Bool {
        let digits = s.compactMap(\.wholeNumberValue)
        guard (13...19).contains(digits.count), Set(digits).count > 1 else { return false }
        var sum = 0
        for (i, d) in digits.reversed().enumerated() {
            if i % 2 == 1 { let x = d * 2; sum += x > 9 ? x - 9 : x } else { sum += d }
        }
        return sum % 10 == 0
    }

    static func iban(_ s: String) -> Bool {
        let compact = s.filter { $0 != " " }
        guard (15...34).contains(compact.count) else { return false }
        let moved = compact.dropFirst(4) + compact.prefix(4)
        var rem = 0
        for c in moved {
            if let d = c.wholeNumberValue { rem = (rem * 10 + d) % 97 }
            else if let a = c.asciiValue, (65...90).contains(a) { rem = (rem * 100 + Int(a) - 55) % 97 }
            else { return false }
        }
        return rem == 1
    }
}
