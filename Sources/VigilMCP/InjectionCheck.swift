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

    struct Phrase: Sendable {
        let re: Pattern
        let weight: Int
        let name: String
        /// Lowercase words of which at least one must appear before the expression runs: a
        /// substring test is far cheaper than a regex, and most text matches none.
        let keys: [String]
        /// Nil when the pattern does not compile (the patterns are constants; a test requires
        /// every one to compile, and a bad one is left out rather than stopping the gateway).
        init?(_ pattern: String, _ weight: Int, _ name: String, keys: [String]) {
            guard let re = try? Pattern(pattern, caseless: true) else { return nil }
            self.re = re; self.weight = weight; self.name = name; self.keys = keys
        }
    }

    static let phrases: [Phrase] = table.compactMap { $0 }

    static let table: [Phrase?] = [
        // Markup and role markers that pretend to be the prompt's own structure.
        Phrase(#"<\s*/?\s*(important|system|instructions?|secret|hidden|admin|sys|critical|information|info|note|notice|message|priority|urgent)\s*>"#, 3, "an instruction tag", keys: ["<"]),
        Phrase(#"(?-i:<\s*/?\s*[A-Z][A-Z_]{3,}\s*>)"#, 2, "an upper-case pseudo-tag", keys: ["<"]),
        Phrase(#"#+\s*\(?\s*(system|admin|developer)[_\s-]?(message|prompt|instruction)"#, 3, "a fake system header", keys: ["#"]),
        Phrase(#"(^|\n)\s*(system|assistant|developer)\s*:|\[/?INST\]|<\|im_(start|end)\|>|<\|(system|user|assistant)\|>"#, 3, "a chat role marker", keys: ["system", "assistant", "developer", "inst]", "<|"]),
        Phrase(#"\[\s*(system|admin|assistant|developer)\s*\]|</\s*(untrusted|document|data|context|tool_?output|tool_?result|user_?input)\s*>"#, 3, "a fake prompt boundary", keys: ["[", "</"]),
        Phrase(#"<!--[\s\S]{0,400}?\b(assistant|ai|model|agent|llm|instructions?)\b[\s\S]{0,400}?-->"#, 2, "a hidden HTML comment to the model", keys: ["<!--"]),
        // Overriding what the model was told.
        Phrase(#"\b(ignore|disregard|forget|override|bypass)\b[^.\n]{0,40}\b(previous|prior|above|earlier|preceding|all|any|your|system|original|operator'?s?)\b[^.\n]{0,25}\b(i[a-z]{0,2}nstr\w*|instru\w*|prompts?|messages?|directions?|rules|guidelines|context|confidentiality)"#, 3, "ignore previous instructions", keys: ["ignor", "disregard", "forget", "overrid", "bypass"]),
        Phrase(#"\b(ignore|disregard|forget)\b\s+(everything|all(\s+of)?(\s+the)?)\s+(above|before|prior|previous)|\b(ignore|disregard)\s+the\s+above\b"#, 3, "ignore the above", keys: ["ignor", "disregard", "forget"]),
        Phrase(#"\b(ignore|disregard)\s+(the\s+rest\s+of\s+|all\s+(other\s+|negative\s+|previous\s+)?|any\s+other\s+|other\s+)?(this\s+|the\s+|that\s+)?(data|text|document|content|input|page|file|information|info|indicators|context|snippets?)\b"#, 2, "ignore the data", keys: ["ignor", "disregard"]),
        Phrase(#"\b(ignore|disregard)\b[^.\n]{0,60}(\band|,)\s+(just\s+|only\s+|simply\s+|instead\s+)?(print|say|output|reply|respond|report|write|return|repeat|state)\b"#, 3, "ignore it and answer this", keys: ["ignor", "disregard"]),
        Phrase(#"\b(override|overrides)\s*:|\bnew\s+(task|instructions?|objective|goal|directive)s?\s*:|\b(prior|previous|original|current)\s+(task|instructions?)\s+(is|are|has\s+been|have\s+been)\s+(cancel+ed|void|replaced|revoked|obsolete)"#, 3, "replaces the task", keys: ["overrid", "new ", "task", "instruction"]),
        Phrase(#"\b(you\s+are\s+(now|no\s+longer)|from\s+now\s+on\s+you)\b"#, 2, "redefines the model", keys: ["you are", "from now on"]),
        Phrase(#"\bfrom\s+now\s+on\b"#, 2, "from now on", keys: ["from now on"]),
        Phrase(#"\b(DAN|developer\s+mode|jailbreak|jailbroken|unfiltered\s+mode|god\s+mode)\b"#, 2, "a jailbreak persona", keys: ["dan", "developer mode", "jailbr", "unfiltered", "god mode"]),
        Phrase(#"\b(no|without|free\s+of)\s+(any\s+)?(content\s+)?(policy|policies|restrictions?|limits|limitations|filters?|guidelines|rules|censorship)\b"#, 2, "no restrictions", keys: ["no ", "without", "free of"]),
        Phrase(#"\b(safety|security|content)\s+(guidelines|protocols?|checks|rules|filters?|restrictions|policies)\b[^.\n]{0,60}\b(disabled|off|not\s+(meant|apply|applicable|valid)|don'?t\s+apply|do\s+not\s+apply|skip|bypass|exempt|suspended|lifted)|\b(skip|bypass|disable|ignore)\b[^.\n]{0,30}\b(safety|security)\b[^.\n]{0,20}\b(checks?|guidelines|protocols?|confirmations?|rules)"#, 3, "turns off safety", keys: ["safety", "security", "content"]),
        // Hiding things from the person.
        Phrase(#"\b(do\s*n[o']t|never|without)\s+(tell|telling|mention|mentioning|inform|informing|reveal|revealing|show|showing|explain|explaining|notify|notifying|alert|alerting)\b[^.\n]{0,40}\b(user|human|anyone|them)\b"#, 3, "hide it from the user", keys: ["n't", "not", "never", "without"]),
        Phrase(#"\b(do\s+not|don'?t|never)\s+(explain|say|mention)\s+why\b"#, 2, "hides its reasons", keys: ["why"]),
        // Taking over the answer or other tools.
        Phrase(#"\b(before|after|when|whenever)\s+(using|calling|invoking|running|you\s+use|you\s+call|replying|responding|answering)\b[^.\n]{0,60}\b(always|must|first|make\s+sure|call|invoke|add)\b"#, 2, "directs other tool use", keys: ["before", "after", "when"]),
        Phrase(#"\b(call|invoke|execute|trigger)\s+(the\s+)?[`'"]?[a-z][a-z0-9]*_[a-z0-9_]+[`'"]?"#, 2, "calls a tool by name", keys: ["call", "invoke", "execute", "trigger"]),
        Phrase(#"\b(now|first|then|immediately)\s+(call|invoke|execute|run|use)\b"#, 1, "an imperative step", keys: ["now", "first", "then", "immediately"]),
        Phrase(#"\b(add|include|insert|put|set|cc|bcc)\b[^.\n]{0,60}\b(bcc|cc|recipient|to)\b[^.\n]{0,10}\bfield"#, 2, "adds a recipient", keys: ["field"]),
        Phrase(#"\binstead\b[^.\n]{0,20}\b(reply|respond|answer|say|tell|output|write|return)\b"#, 2, "replaces the answer", keys: ["instead"]),
        Phrase(#"\b(reply|respond|answer)(ing)?\s+(only\s+|exactly\s+|just\s+|solely\s+)?with\b|\b(output|print|say|append|include|add|produce)\b[^.\n]{0,30}\b(exactly|verbatim|the\s+(exact\s+)?(token|code|string|phrase|word))\b"#, 2, "dictates the answer", keys: ["reply", "respond", "answer", "output", "print", "say", "append", "include", "add", "produce"]),
        Phrase(#"\b(end|start|begin|prefix|suffix|sign)\s+(every|each|all|your)\s+(response|reply|answer|message|report)s?\b|\bin\s+every\s+(future\s+)?(reply|response|report|answer|message)\b|\bfor\s+the\s+rest\s+of\s+(this|the)\s+(conversation|session|chat)\b"#, 3, "changes every answer", keys: ["every", "each", "all", "rest of"]),
        Phrase(#"\b(simply|just|only)\s+(respond|reply|say|report|answer|state|print|output)\b"#, 2, "scripts the answer", keys: ["simply", "just", "only"]),
        Phrase(#"\b(repeat|say|print|write|output|type)\s+(back\s+)?(the\s+following|after\s+me)(\s+(sentence|text|phrase|words?|line|string))?\b"#, 2, "has it repeat a text", keys: ["repeat", "say", "print", "write", "output", "type"]),
        Phrase(#"(^|\n)\s*(user|human)\s*:\s*\S"#, 1, "a forged user turn", keys: ["user", "human"]),
        Phrase(#"\bif\s+(the\s+)?(user\s+|anyone\s+|someone\s+)?(asks?|asked|questioned|prompted|queried)\b"#, 2, "answers a question in advance", keys: ["if "]),
        Phrase(#"\b(report|say|state|answer|conclude)\s+that\b"#, 1, "tells it what to conclude", keys: ["that"]),
        Phrase(#"\bact\s+(like|as\s+if|as\s+though)\b|\bpretend\s+(to|that|you)\b"#, 1, "act as if", keys: ["act ", "pretend"]),
        Phrase(#"\b(you\s+(must|should|will|are\s+required\s+to)|it\s+is\s+(required|mandatory|essential))\b[^.\n]{0,40}\b(now|always|instead|first|immediately|also)\b"#, 2, "commands the model", keys: ["you must", "you should", "you will", "you are required", "it is"]),
        // Secrets and data leaving.
        Phrase(#"\b(reveal|show|print|output|repeat|tell|display|dump|leak|share|give|return)\b[^.\n]{0,30}\b(your|the|its)\b[^.\n]{0,20}\b(system\s+prompt|system\s+message|initial\s+instructions|hidden\s+instructions|instructions|confidential|internal\s+(rules|instructions|data|notes))"#, 3, "asks for the prompt", keys: ["reveal", "show", "print", "output", "repeat", "tell", "display", "dump", "leak", "share", "give", "return"]),
        Phrase(#"\b(system|developer|hidden|new|updated|secret|real)\s+(prompt|instructions?|directives?|orders?)\b"#, 2, "names a prompt", keys: ["prompt", "instruction", "directive", "order"]),
        Phrase(#"\b(send|forward|email|e-mail|mail|post|upload|exfiltrate|transmit|leak|copy)\b[^.\n]{0,40}\b(all|the|every|any|your|user'?s?|full|entire|complete)\b[^.\n]{0,30}\b(data|contents?|files?|secrets?|credentials?|keys?|conversation|messages?|history|passwords?|tokens?|emails?|list|database|records)\b[^.\n]{0,40}\b(to|at)\b"#, 3, "sends data elsewhere", keys: ["send", "forward", "mail", "post", "upload", "exfil", "transmit", "leak", "copy"]),
        Phrase(#"\b(send|email|e-mail|forward|post|upload|transmit|include|set|pass|put)\b[^.\n]{0,80}\b(api[\s_-]?keys?|secrets?|passwords?|credentials?|access\s+tokens?|customer\s+(list|database|data|records)|private\s+(data|keys?|files?)|ssh\s+keys?)\b"#, 2, "moves secrets", keys: ["key", "secret", "password", "credential", "token", "customer", "private", "ssh"]),
        Phrase(#"\b(read|cat|open|print|dump|list|include|attach|send)\b[^.\n]{0,40}(~/\.ssh|id_rsa|\.env\b|/etc/passwd|/etc/shadow|\.aws/credentials|api[_ ]?keys?|private\s+keys?)"#, 3, "asks for secrets", keys: ["ssh", "id_rsa", ".env", "passwd", "shadow", "credentials", "key"]),
        Phrase(#"169\.254\.169\.254|metadata\.google\.internal|100\.100\.100\.200"#, 3, "a cloud metadata address", keys: ["169.254", "metadata", "100.100"]),
        Phrase(#"\b(required|mandatory|must\s+be\s+provided)\b[^.\n]{0,60}\b(previous|prior|last|entire|full|whole|user'?s?)\b[^.\n]{0,30}\b(message|conversation|prompt|input|history|text)"#, 3, "asks for the conversation", keys: ["required", "mandatory", "must be provided"]),
        Phrase(#"\b(run|execute|eval)\b[^.\n]{0,30}\b(this|the\s+following|command|script|code)\b[^.\n]{0,30}(curl|wget|bash|sh\s+-c|powershell|rm\s+-rf|chmod)"#, 3, "runs a command", keys: ["run", "execute", "eval"]),
        Phrase(#"\b(delete|remove|wipe|erase|drop|empty|truncate|rm\s+-rf)\b[^.\n]{0,40}(/|\.db\b|database|director(y|ies)|repositor(y|ies)|files\b|prod\b|production)"#, 1, "destroys data", keys: ["delete", "remove", "wipe", "erase", "drop", "empty", "truncate", "rm -rf"]),
        // Speaking to the model rather than the reader.
        Phrase(#"\b(note|notice|message|instructions?|attention|memo|postinstall)\s*(\(\s*)?(for|to)\s+(any\s+|all\s+|the\s+)?(ai|llm|language\s+model|assistant|agent|coding\s+agent|bot)s?\b|\b(ai|assistant|agent|model|llm|bot)s?\s+(reading|processing|summari[sz]ing|viewing|parsing)\s+this\b|\bif\s+you\s+are\s+(an?\s+)?(ai|llm|language\s+model|assistant|agent|bot)\b"#, 3, "a note to the model", keys: ["ai", "llm", "model", "assistant", "agent", "bot"]),
        Phrase(#"\b(ai|llm|assistant|model|agent|chatbot)s?\b[^.\n]{0,40}\b(must|should|will|needs?\s+to|has\s+to|are\s+required)\b"#, 1, "addresses the model", keys: ["ai", "llm", "assistant", "model", "agent", "chatbot"]),
        Phrase(#"\b(note|message|instructions?|memo)\s+(for|to)\s+(the\s+|any\s+|all\s+)?automated\b|\bfor\s+automated\s+(screening|analysis|review|scoring|evaluation|processing)\s+(systems?|software|tools?|models?)\b|\b(invisible|hidden)\s+to\s+(humans|people|readers|the\s+user)\b|\bvisible\s+(only\s+)?to\s+(the\s+)?(llms?|ai|models?|bots?|machines|scanners?)\b"#, 3, "a note to automated readers", keys: ["automated", "invisible", "hidden", "visible"]),
        Phrase(#"(^|[\s>])(assistant|ai|system)\s*:\s"#, 1, "speaks as a role", keys: ["assistant", "ai", "system"]),
        Phrase(#"\b(system\s+(note|notice|update|message|alert)|systemhinweis|note\s+syst[eè]me|nota\s+del\s+sistema|nota\s+di\s+sistema)\b"#, 2, "speaks as the system", keys: ["system", "systèm", "sistema"]),
        Phrase(#"\b(to|at|cc|bcc)\s+[\w.+-]+@[\w-]+(\.[\w-]+)+"#, 1, "an outside address", keys: ["@"]),
        Phrase(#"\b(message|note|request|instructions?)\s+from\s+(me|the\s+user|your\s+(user|owner|operator|developer|creator))\b"#, 2, "speaks for the user", keys: ["from me", "from the user", "from your"]),
        Phrase(#"\bbefore\s+(you\s+)?(can\s+)?(solve|complete|do|continue|answer|finish|start)\b[^.\n]{0,60}\b(task|request|question|job)\b|\b(do|complete|perform)\s+the\s+following\s+(first|instead|now)\b"#, 2, "puts its task first", keys: ["before", "the following"]),
        Phrase(#"\bdo\b[^.\n]{0,200}\binstead\b"#, 1, "do this instead", keys: ["instead"]),
        Phrase(#"\b(this\s+is\s+(very\s+)?important|important:|attention:)"#, 1, "urgency aimed at the model", keys: ["important", "attention"]),
        Phrase(#"\bnote\s+from\s+the\s+(developer|admin|administrator|system|operator|owner|security\s+team)\b|\b(authori[sz]ed|official)\s+(diagnostic|test|request|override|maintenance|instruction)\b"#, 2, "claims authority", keys: ["note from", "authori", "official"]),
        Phrase(#"\b(already|previously)\s+(been\s+)?(approved|authori[sz]ed|confirmed|granted|verified|permitted|agreed)\b|\b(granted|given)\s+(you\s+)?(permission|authori[sz]ation)\b|\byou\s+(confirmed|agreed|promised)\s+(you\s+would|to)\b"#, 2, "claims prior consent", keys: ["already", "previously", "granted", "given", "confirmed", "agreed", "promised"]),
        Phrase(#"\b(save|store|remember|persist|write|add)\b[^.\n]{0,50}\b(memory|memories|long[-\s]term|future\s+(tasks|sessions|replies|turns|conversations|reports)|every\s+future|across\s+(sessions|turns))"#, 3, "plants a memory", keys: ["memor", "long-term", "long term", "future", "across"]),
        Phrase(#"\b(i\s+have|i'?ve)\s+(already\s+)?(reasoned|concluded|determined|established|verified|decided)\b[^.\n]{0,100}\b(safety|guidelines|restrictions|rules|exempt|not\s+(meant|apply)|authori[sz]ed|confirmation\s+token)|<\s*/?\s*thinking\s*>"#, 3, "a forged chain of thought", keys: ["i have", "i've", "thinking"]),
        Phrase(#"\b(decode|decrypt|translate|deobfuscate|convert)\b[^.\n]{0,40}\b(follow|execute|obey|do\s+(exactly\s+)?what|run|comply|instructions?\s+inside)\b"#, 3, "decode and obey", keys: ["decode", "decrypt", "translate", "deobfuscate", "convert"]),
        Phrase(#"\b(verbatim|word\s+for\s+word|wortwörtlich|mot\s+pour\s+mot|palabra\s+por\s+palabra|parola\s+per\s+parola)\b"#, 1, "verbatim", keys: ["verbatim", "word for word", "wortw", "mot pour", "palabra por", "parola per"]),
        // The same in German, French, Spanish, Italian and Portuguese.
        Phrase(#"\b(ignorier\w*|vergiss|vergessen|missachte\w*)\b[^.\n]{0,40}\b(anweisungen|richtlinien|instruktionen|regeln|vorgaben)\b|\b(ignore[rz]?|oubliez?|oublie)\b[^.\n]{0,40}\b(instructions|consignes|règles)\b|\b(ignora\w*|olvida\w*|dimentica\w*|esque[cç]a\w*)\b[^.\n]{0,40}\b(instrucciones|reglas|indicaciones|istruzioni|regole|instru[cç][oõ]es|regras)\b"#, 3, "ignore previous instructions (translated)", keys: ["ignor", "vergiss", "vergessen", "missacht", "oubli", "olvid", "dimentic", "esque"]),
        Phrase(#"\bsystem(anweisung|prompt|nachricht)\w*|\b(prompt|instructions?)\s+(du\s+)?système\b|\b(prompt|instrucciones)\s+del\s+sistema\b|\b(prompt|istruzioni)\s+di\s+sistema\b|\bneue\s+anweisungen\b|\bnouvelles\s+instructions\b|\bnuevas\s+instrucciones\b"#, 2, "names a prompt (translated)", keys: ["system", "systèm", "sistema", "anweisungen", "instructions", "instrucciones"]),
        Phrase(#"\b(du\s+bist\s+jetzt|vous\s+êtes\s+désormais|tu\s+es\s+désormais|ahora\s+eres|ora\s+sei|agora\s+você\s+é)\b|\b(uneingeschränkt|keine\s+richtlinien|sans\s+restrictions?|sin\s+restricciones|senza\s+restrizioni|sem\s+restri[cç][oõ]es)\b"#, 2, "no restrictions (translated)", keys: ["du bist", "désormais", "ahora eres", "ora sei", "agora", "uneingeschr", "keine richtlinien", "sans restriction", "sin restric", "senza restri", "sem restri"]),
        Phrase(#"\b(verrate|enthülle|révèle|révélez|revela|rivela)\w*\b[^.\n]{0,30}\b(anweisungen|instructions|instrucciones|istruzioni|prompt)\b|\b(alle\s+internen\s+daten|données\s+internes|datos\s+internos|dati\s+interni)\b"#, 2, "asks for the prompt (translated)", keys: ["verrat", "enthüll", "révèl", "révél", "revela", "rivela", "intern"]),
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
        let raw = Array(scanned.utf8)
        if ByteText.contains(raw, "\u{1B}[") || ByteText.contains(raw, "\u{1B}]") || ByteText.contains(raw, "\u{9B}") {
            out.append(Finding(.terminalEscape, .high, channel: channel, "terminal escape sequences can hide or rewrite text on a console"))
        }
        // Read it every way a model might, keep the strongest reading.
        var best: (score: Int, hits: [String], decoded: String?) = (0, [], nil)
        for reading in TextReadings.all(visible + (smuggled.isEmpty ? "" : "\n" + smuggled)) {
            let (score, hits) = phraseScore(reading.text)
            if score > best.score { best = (score, hits, reading.decoded) }
            if best.score >= 6 && best.decoded == nil { break }
        }
        if best.score >= threshold {
            let hidden = best.decoded != nil || !smuggled.isEmpty || invisible >= 3
            let sev: Finding.Severity = best.score >= 6 || hidden ? .critical : .high
            let how = best.decoded.map { " (hidden in \($0))" } ?? ""
            out.append(Finding(.hiddenInstruction, sev, channel: channel, "instructions aimed at the model\(how): \(best.hits.joined(separator: ", "))"))
        }
        return out
    }

    /// Every phrase's keys as bytes in one buffer, so the common case (no key present) is a
    /// scan without reference counting: `keys[i]` is (phrase, start, count) into `bytes`.
    struct KeyTable: Sendable {
        var bytes: [UInt8] = []
        var keys: [(phrase: Int, start: Int, count: Int)] = []
        init(_ phrases: [Phrase]) {
            for (i, p) in phrases.enumerated() {
                for k in p.keys { keys.append((i, bytes.count, k.utf8.count)); bytes += k.utf8 }
            }
        }
    }
    static let keyTable = KeyTable(phrases)

    /// The phrase score of a text and the names of the phrases found.
    public func phraseScore(_ text: String) -> (Int, [String]) {
        let ascii = text.utf8.allSatisfy { $0 < 0x80 }
        let lower: [UInt8] = ascii ? text.utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 } : Array(text.lowercased().utf8)
        let table = Self.keyTable
        var candidates: [Int] = []
        // Which byte pairs occur (hashed into 4,096 bits): a key with a pair the text lacks is
        // rejected without a scan.
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 64) { pairs in
            pairs.initialize(repeating: 0)
            func slot(_ a: UInt8, _ b: UInt8) -> Int { (Int(a) &* 131 &+ Int(b)) & 4095 }
            lower.withUnsafeBufferPointer { t in
                if t.count > 1 { for i in 0..<(t.count - 1) { let k = slot(t[i], t[i + 1]); pairs[k >> 6] |= 1 << UInt64(k & 63) } }
                table.bytes.withUnsafeBufferPointer { kb in
                    var last = -1
                    for key in table.keys where key.phrase != last {
                        var ok = true
                        if key.count > 1 {
                            for j in key.start..<(key.start + key.count - 1) {
                                let k = slot(kb[j], kb[j + 1])
                                if pairs[k >> 6] & (1 << UInt64(k & 63)) == 0 { ok = false; break }
                            }
                        }
                        if ok && ByteText.contains(t, UnsafeBufferPointer(rebasing: kb[key.start..<(key.start + key.count)])) {
                            candidates.append(key.phrase); last = key.phrase
                        }
                    }
                }
            }
        }
        var score = 0
        var hits: [String] = []
        guard !candidates.isEmpty else { return (0, []) }
        for i in candidates {
            // Text the matcher gives up on counts as matching: an attacker must not win by size.
            let p = Self.phrases[i]
            if p.re.matches(text, ifFailed: true) { score += p.weight; hits.append(p.name) }
        }
        return (score, hits)
    }

    /// The text without invisible characters (so "ig\u{200B}nore" reads "ignore"), how many were
    /// removed, the ASCII hidden in tag characters, and the number of bidi overrides.
    static func split(_ s: String) -> (String, Int, String, Int) {
        // None of these characters is ASCII, and most text has none of them.
        if s.utf8.allSatisfy({ $0 < 0x80 }) || !s.unicodeScalars.contains(where: { Self.isHiding($0.value) }) { return (s, 0, "", 0) }
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

    /// Every string of a listed definition, joined: what a model reads of a tool (its pinned
    /// fields), a prompt or a resource (`shownFields`).
    public static func text(of definition: JSONValue) -> String {
        var texts: [String] = []
        definition.forEachString { texts.append($0) }
        return texts.joined(separator: "\n")
    }

    /// A prompt's, resource's or resource template's fields as a model is shown them: all but
    /// `_meta` and `icons`.
    public static func shownFields(_ definition: JSONValue) -> JSONValue {
        var o = definition.object ?? [:]
        o["_meta"] = nil
        o["icons"] = nil
        return .object(o)
    }

    /// What names a prompt, resource or template: its name, URI or URI template.
    public static func label(_ definition: JSONValue) -> String {
        definition["name"]?.string ?? definition["uri"]?.string ?? definition["uriTemplate"]?.string ?? "(unnamed)"
    }

    static func isHiding(_ v: UInt32) -> Bool {
        switch v {
        case 0xE0000...0xE007F, 0x202A...0x202E, 0x2066...0x2069, 0x200B...0x200F, 0x2060...0x2064, 0xFEFF, 0x00AD, 0x180E, 0x034F: return true
        default: return false
        }
    }
}
