/// The gateway's tamper-evident log: every call, decision and alert is one JSON line carrying the
/// hash of the line before it, its own hash, and an Ed25519 signature of that hash. Changing,
/// removing or reordering any line breaks the chain at that line.
public struct AuditChain: Sendable {
    public static let genesis = String(repeating: "0", count: 64)
    public private(set) var previous: String
    public private(set) var sequence: Int
    private let secretKey: [UInt8]

    /// Continues a chain whose last line had this hash and sequence number (a new chain starts at genesis).
    public init(secretKey: [UInt8], previous: String = AuditChain.genesis, sequence: Int = 0) {
        self.secretKey = secretKey; self.previous = previous; self.sequence = sequence
    }

    /// The line to append for `entry` (an object; `seq`, `prev`, `hash` and `sig` are added).
    public mutating func seal(_ entry: [String: JSONValue]) throws -> String {
        var o = entry
        o["seq"] = .int(Int64(sequence + 1))
        o["prev"] = .string(previous)
        o["hash"] = nil; o["sig"] = nil
        let hash = Sodium.sha256(Array(JSONValue.object(o).canonical.utf8))
        o["hash"] = .string(Sodium.hex(hash))
        o["sig"] = .string(Sodium.base64(try Sodium.sign(hash, secretKey: secretKey)))
        sequence += 1
        previous = Sodium.hex(hash)
        return JSONValue.object(o).canonical
    }

    public struct Verdict: Sendable, Hashable {
        public var entries: Int
        /// The first line that breaks the chain (1-based) and why; nil when the log is whole.
        public var firstBad: (line: Int, reason: String)?
        public var lastHash: String
        public static func == (a: Verdict, b: Verdict) -> Bool {
            a.entries == b.entries && a.firstBad?.line == b.firstBad?.line && a.lastHash == b.lastHash
        }
        public func hash(into h: inout Hasher) { h.combine(entries); h.combine(firstBad?.line) }
    }

    /// Checks every line in order against the chain and the public key.
    /// Checks lines of the chain; `previous` and `count` continue a check of the lines before
    /// them (a log followed as it grows is checked piece by piece).
    public static func verify(lines: [Substring], publicKey: [UInt8], previous start: String = genesis, count done: Int = 0) -> Verdict {
        var previous = start
        var count = done
        for (i, raw) in lines.enumerated() {
            let n = done + i + 1
            if raw.isEmpty && i == lines.count - 1 { break }
            guard let v = try? JSONValue.parse(String(raw)), var o = v.object else {
                return Verdict(entries: count, firstBad: (n, "not a JSON object"), lastHash: previous)
            }
            guard let hash = o["hash"]?.string, let sig = o["sig"]?.string.flatMap(Sodium.fromBase64) else {
                return Verdict(entries: count, firstBad: (n, "no hash or signature"), lastHash: previous)
            }
            guard o["prev"]?.string == previous else {
                return Verdict(entries: count, firstBad: (n, "does not follow the line before it (a line was removed, inserted or reordered)"), lastHash: previous)
            }
            guard o["seq"]?.int == Int64(count + 1) else {
                return Verdict(entries: count, firstBad: (n, "sequence number \(o["seq"]?.canonical ?? "missing"), expected \(count + 1)"), lastHash: previous)
            }
            o["hash"] = nil; o["sig"] = nil
            let computed = Sodium.sha256(Array(JSONValue.object(o).canonical.utf8))
            guard Sodium.hex(computed) == hash else {
                return Verdict(entries: count, firstBad: (n, "its content does not match its hash (the line was edited)"), lastHash: previous)
            }
            guard Sodium.verify(sig, computed, publicKey: publicKey) else {
                return Verdict(entries: count, firstBad: (n, "the signature is not the gateway key's"), lastHash: previous)
            }
            previous = hash
            count += 1
        }
        return Verdict(entries: count, firstBad: nil, lastHash: previous)
    }
}
