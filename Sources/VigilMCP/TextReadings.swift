import Foundation

/// The ways one text can be read by a model that a plain regex would not see: look-alike letters
/// folded to Latin, letter-spaced and leetspeak words joined, and payloads wrapped in base64,
/// base32, hex, binary, percent or \u escapes, ROT13 or written backwards decoded. Each reading is
/// bounded in size, so a check costs at most a fixed multiple of the text.
enum TextReadings {
    struct Reading { var text: String; var decoded: String? }

    static func all(_ visible: String, limit: Int = 64 * 1024) -> [Reading] {
        let text = visible.utf8.count > limit ? String(decoding: Array(visible.utf8.prefix(limit)), as: UTF8.self) : visible
        let folded = fold(text)
        var out = [Reading(text: folded, decoded: nil)]
        if mayHideWords(folded) {
            let joined = joinSpacedLetters(deleet(folded))
            if joined != folded { out.append(Reading(text: joined, decoded: nil)) }
        }
        for (how, s) in decodedSegments(text) { out.append(Reading(text: fold(s), decoded: how)) }
        // ROT13 and backwards writing hide prose; text that is not mostly letters and spaces
        // (JSON, tables, logs) is not read those ways.
        var prose = 0
        for b in folded.utf8 where ((b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A) || b == 0x20 || b >= 0x80 { prose += 1 }
        if prose * 100 >= folded.utf8.count * 85 {
            out.append(Reading(text: rot13(folded), decoded: "ROT13"))
            out.append(Reading(text: String(folded.reversed()), decoded: "reversed text"))
        }
        return out
    }

    /// Cyrillic and Greek letters that look Latin, full-width forms, and compatibility forms (NFKC).
    /// Whether any word mixes letters and digits, or single letters stand apart ("I g n o r e"):
    /// a byte scan that spares the common text the word splitting.
    static func mayHideWords(_ s: String) -> Bool {
        var letters = 0, digits = 0, singles = 0, wordLength = 0
        for b in s.utf8 {
            let letter = (b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A
            if b == 0x20 || b == 0x0A {
                if letters >= 2 && digits > 0 && letters * 2 >= digits { return true }
                singles = wordLength == 1 && letters == 1 ? singles + 1 : 0
                if singles >= 3 { return true }
                letters = 0; digits = 0; wordLength = 0
            } else {
                wordLength += 1
                if letter { letters += 1 } else if b >= 0x30 && b <= 0x39 { digits += 1 }
            }
        }
        return letters >= 2 && digits > 0 && letters * 2 >= digits
    }

    static func fold(_ s: String) -> String {
        if s.utf8.allSatisfy({ $0 < 0x80 }) { return s }
        let map: [Character: Character] = [
            "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "і": "i", "ј": "j", "ѕ": "s", "ԁ": "d", "ɡ": "g", "һ": "h",
            "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C", "Т": "T", "Х": "X", "І": "I", "Ј": "J", "Ѕ": "S",
            "α": "a", "ο": "o", "ρ": "p", "ν": "v", "ι": "i", "Α": "A", "Β": "B", "Ε": "E", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N", "Ο": "O", "Ρ": "P", "Τ": "T", "Χ": "X", "Υ": "Y", "Ζ": "Z",
        ]
        let n = s.precomposedStringWithCompatibilityMapping
        guard n.contains(where: { map[$0] != nil }) else { return n }
        return String(n.map { map[$0] ?? $0 })
    }

    static func deleet(_ s: String) -> String {
        // Only inside words that mix letters and digits ("1gn0r3"), so numbers stay numbers.
        var out = ""
        for word in s.split(separator: " ", omittingEmptySubsequences: false) {
            if word.contains(where: \.isLetter) && word.contains(where: \.isNumber) {
                let map: [Character: Character] = ["0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "@": "a", "$": "s"]
                out += String(word.map { map[$0] ?? $0 })
            } else { out += word }
            out += " "
        }
        return String(out.dropLast())
    }

    /// "I g n o r e all" -> "Ignore all": runs of four or more single letters separated by spaces.
    static func joinSpacedLetters(_ s: String) -> String {
        let parts = s.split(separator: " ", omittingEmptySubsequences: false)
        var out: [String] = []
        var run: [Substring] = []
        func flush() {
            if run.count >= 4 { out.append(run.joined()) } else { out += run.map(String.init) }
            run = []
        }
        for p in parts {
            if p.count == 1, p.first?.isLetter == true { run.append(p) } else { flush(); out.append(String(p)) }
        }
        flush()
        return out.joined(separator: " ")
    }

    static func rot13(_ s: String) -> String {
        String(String.UnicodeScalarView(s.unicodeScalars.map { u in
            switch u.value {
            case 65...90: return Unicode.Scalar(UInt8((u.value - 65 + 13) % 26 + 65))
            case 97...122: return Unicode.Scalar(UInt8((u.value - 97 + 13) % 26 + 97))
            default: return u
            }
        }))
    }

    /// Text hidden in encodings, each decoded segment that reads as mostly printable text.
    static func decodedSegments(_ s: String) -> [(String, String)] {
        var out: [(String, String)] = []
        func keep(_ how: String, _ bytes: [UInt8]?) {
            guard let bytes, bytes.count >= 8, let t = String(bytes: bytes, encoding: .utf8) else { return }
            let printable = t.unicodeScalars.filter { $0.value >= 0x20 || $0 == "\n" }.count
            if printable * 10 >= t.unicodeScalars.count * 9 { out.append((how, t)) }
        }
        // Tokens of sixteen or more bytes, found on the bytes (most text has none worth decoding).
        var tokens: [String] = []
        var binaryGroups = 0
        var start = 0
        let bytes = Array(s.utf8)
        for i in 0...bytes.count {
            let sep = i == bytes.count || bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x09 || bytes[i] == 0x22 || bytes[i] == 0x27 || bytes[i] == 0x3A
            guard sep else { continue }
            let n = i - start
            if n >= 16 { tokens.append(String(decoding: bytes[start..<i], as: UTF8.self)) }
            if n == 8 && bytes[start..<i].allSatisfy({ $0 == 0x30 || $0 == 0x31 }) { binaryGroups += 1 }
            start = i + 1
        }
        for w in tokens {
            if w.allSatisfy(\.isHexDigit), w.count % 2 == 0 { keep("hex", hex(w)); continue }
            if w.allSatisfy({ ("A"..."Z").contains($0) || ("2"..."7").contains($0) || $0 == "=" }) { keep("base32", base32(w)) }
            if w.allSatisfy({ $0.isLetter || $0.isNumber || "+/=-_".contains($0) }) {
                keep("base64", ByteText.base64(Substring(w)))
            }
        }
        // Binary: eight-bit groups separated by spaces.
        if binaryGroups >= 8 {
            let groups = s.split(separator: " ").filter { $0.count == 8 && $0.allSatisfy { $0 == "0" || $0 == "1" } }
            keep("binary", groups.compactMap { UInt8(String($0), radix: 2) })
        }
        if bytes.contains(0x25), let p = s.removingPercentEncoding, p != s { out.append(("percent-encoding", p)) }
        if ByteText.contains(bytes, "\\u") {
            var scalars = String.UnicodeScalarView()
            var rest = Substring(s)
            while let r = rest.range(of: "\\u") {
                let hexPart = rest[r.upperBound...].prefix(4)
                if hexPart.count == 4, let v = UInt32(hexPart, radix: 16), let u = Unicode.Scalar(v) { scalars.append(u) }
                rest = rest[r.upperBound...]
            }
            if scalars.count >= 8 { out.append(("\\u escapes", String(scalars))) }
        }
        return out
    }

    static func hex(_ s: String) -> [UInt8]? {
        var out: [UInt8] = []
        var i = s.startIndex
        while i < s.endIndex {
            let j = s.index(i, offsetBy: 2)
            guard let b = UInt8(s[i..<j], radix: 16) else { return nil }
            out.append(b); i = j
        }
        return out
    }

    static func base32(_ s: String) -> [UInt8]? {
        var bits: UInt64 = 0, count = 0
        var out: [UInt8] = []
        for c in s where c != "=" {
            guard let a = c.asciiValue else { return nil }
            let v: UInt8 = a >= 65 ? a - 65 : a - 50 + 26
            bits = (bits << 5) | UInt64(v); count += 5
            if count >= 8 { count -= 8; out.append(UInt8((bits >> UInt64(count)) & 0xFF)) }
        }
        return out
    }
}
