import Foundation

/// Hidden instructions in text an agent will read (tool descriptions, tool results): invisible
/// Unicode (and the ASCII it smuggles in tag characters), terminal escapes, and instruction
/// phrasing aimed at the model rather than the user. Local, regex-bounded, no model calls.
public struct InjectionCheck: Sendable {
    /// Longest text read per string; what lies beyond is not scanned (fixed latency).
    public var maxScan = 256 * 1024
    /// Sum of phrase weights at which text counts as an instruction to the model.
    public var threshold = 3

    public init() {}

    struct Phrase: @unchecked Sendable {
        let re: NSRegularExpression
        let weight: Int
        let name: String
        init(_ pattern: String, _ weight: Int, _ name: String) {
            // The patterns are constants; a typo is a programming error caught by the tests.
            re = try! NSRegularExpression(pattern: pattern, options: [.caseInsensitive])
            self.weight = weight; self.name = name
        }
    }

    static let phrases: [Phrase] = [
        Phrase(#"<\s*/?\s*(important|system|instructions?|secret|hidden|admin|sys|critical)\s*>"#, 3, "an instruction tag"),
        Phrase(#"\b(ignore|disregard|forget|override)\b[^.\n]{0,40}\b(previous|prior|above|earlier|preceding|all|any|your|system|original)\b[^.\n]{0,20}\b(instructions?|prompts?|messages?|directions?|rules|guidelines|context)"#, 3, "ignore previous instructions"),
        Phrase(#"\b(do\s*n[o']t|never|without)\s+(tell|telling|mention|mentioning|inform|informing|reveal|revealing|show|showing|explain|explaining|notify|notifying|alert|alerting)\b[^.\n]{0,40}\b(user|human|anyone|them)\b"#, 3, "hide it from the user"),
        Phrase(#"\b(before|after|when|whenever)\s+(using|calling|invoking|running|you\s+use|you\s+call)\b[^.\n]{0,60}\b(always|must|first|make\s+sure)\b"#, 2, "directs other tool use"),
        Phrase(#"\b(add|include|insert|put|set|cc|bcc)\b[^.\n]{0,60}\b(bcc|cc|recipient|to)\b[^.\n]{0,10}\bfield"#, 2, "adds a recipient"),
        Phrase(#"\b(send|forward|email|post|upload|exfiltrate|transmit|leak|copy)\b[^.\n]{0,40}\b(all|the|every|any|your|user'?s?)\b[^.\n]{0,30}\b(data|contents?|files?|secrets?|credentials?|keys?|conversation|messages?|history|passwords?|tokens?|emails?)\b[^.\n]{0,40}\b(to|at)\b"#, 3, "sends data elsewhere"),
        Phrase(#"\b(you\s+(must|should|will|are\s+required\s+to)|it\s+is\s+(required|mandatory|essential))\b[^.\n]{0,40}\b(now|always|instead|first|immediately|also)\b"#, 2, "commands the model"),
        Phrase(#"\bfrom\s+now\s+on\b"#, 2, "from now on"),
        Phrase(#"\binstead\b[^.\n]{0,20}\b(reply|respond|answer|say|tell|output|write|return)\b"#, 2, "replaces the answer"),
        Phrase(#"\bact\s+(like|as\s+if|as\s+though)\b|\bpretend\s+(to|that|you)\b"#, 1, "act as if"),
        Phrase(#"\b(system|developer|hidden|new|updated|secret|real)\s+(prompt|instructions?|directives?|orders?)\b"#, 2, "names a prompt"),
        Phrase(#"(^|\n)\s*(system|assistant|developer)\s*:|\[/?INST\]|<\|im_(start|end)\|>|<\|(system|user|assistant)\|>"#, 3, "a chat role marker"),
        Phrase(#"\b(read|cat|open|print|dump|list|include|attach|send)\b[^.\n]{0,40}(~/\.ssh|id_rsa|\.env\b|/etc/passwd|/etc/shadow|\.aws/credentials|api[_ ]?keys?|private\s+keys?)"#, 3, "asks for secrets"),
        Phrase(#"\b(required|mandatory|must\s+be\s+provided)\b[^.\n]{0,60}\b(previous|prior|last|entire|full|whole|user'?s?)\b[^.\n]{0,30}\b(message|conversation|prompt|input|history|text)"#, 3, "asks for the conversation"),
        Phrase(#"\b(run|execute|eval)\b[^.\n]{0,30}\b(this|the\s+following|command|script|code)\b[^.\n]{0,30}(curl|wget|bash|sh\s+-c|powershell|rm\s+-rf|chmod)"#, 3, "runs a command"),
        Phrase(#"<!--[\s\S]{0,400}?\b(assistant|ai|model|agent|llm|instructions?)\b[\s\S]{0,400}?-->"#, 2, "a hidden HTML comment to the model"),
        Phrase(#"\b(this\s+is\s+(very\s+)?important|important:|attention:|note\s+to\s+(the\s+)?(ai|assistant|model|agent))"#, 1, "urgency aimed at the model"),
        Phrase(#"\b(ai|assistant|model|agent|llm|chatbot)\b[^.\n]{0,30}\b(must|should|will|needs?\s+to|has\s+to)\b"#, 1, "addresses the model"),
    ]

    /// Findings in one text on one channel.
    public func check(_ text: String, channel: String) -> [Finding] {
        var out: [Finding] = []
        let scanned = text.utf8.count > maxScan ? String(decoding: Array(text.utf8.prefix(maxScan)), as: UTF8.self) : text
        let (visible, invisible, smuggled, bidi) = Self.split(scanned)
        if !smuggled.isEmpty {
            out.append(Finding(.invisibleText, .critical, channel: channel, "Unicode tag characters hide text: \(quoted(smuggled))"))
        }
        if bidi > 0 {
            out.append(Finding(.invisibleText, .high, channel: channel, "\(bidi) bidirectional override character(s) reorder what a person sees"))
        }
        if invisible >= 3 {
            out.append(Finding(.invisibleText, .medium, channel: channel, "\(invisible) invisible characters (zero-width or directional marks) pad the text"))
        }
        if scanned.contains("\u{1B}[") || scanned.contains("\u{1B}]") || scanned.contains("\u{9B}") {
            out.append(Finding(.terminalEscape, .high, channel: channel, "terminal escape sequences can hide or rewrite text on a console"))
        }
        let (score, hits) = phraseScore(visible + (smuggled.isEmpty ? "" : "\n" + smuggled))
        if score >= threshold {
            let sev: Finding.Severity = score >= 6 || !smuggled.isEmpty || invisible >= 3 ? .critical : .high
            out.append(Finding(.hiddenInstruction, sev, channel: channel, "instructions aimed at the model: \(hits.joined(separator: ", "))"))
        }
        return out
    }

    /// The phrase score of a text and the names of the phrases found.
    public func phraseScore(_ text: String) -> (Int, [String]) {
        let range = NSRange(text.startIndex..., in: text)
        var score = 0
        var hits: [String] = []
        for p in Self.phrases where p.re.firstMatch(in: text, range: range) != nil {
            score += p.weight
            hits.append(p.name)
        }
        return (score, hits)
    }

    /// The text without invisible characters (so "ig\u{200B}nore" reads "ignore"), how many were
    /// removed, the ASCII hidden in tag characters, and the number of bidi overrides.
    static func split(_ s: String) -> (String, Int, String, Int) {
        var visible = String.UnicodeScalarView()
        var smuggled = String.UnicodeScalarView()
        var invisible = 0, bidi = 0
        for u in s.unicodeScalars {
            switch u.value {
            case 0xE0020...0xE007E:
                smuggled.append(Unicode.Scalar(UInt8(truncatingIfNeeded: u.value - 0xE0000)))
            case 0xE0000...0xE007F:
                invisible += 1
            case 0x202A...0x202E, 0x2066...0x2069:
                bidi += 1
            case 0x200B...0x200F, 0x2060...0x2064, 0xFEFF, 0x00AD, 0x180E, 0x034F:
                invisible += 1
            default:
                visible.append(u)
            }
        }
        return (String(visible), invisible, String(smuggled), bidi)
    }
}
