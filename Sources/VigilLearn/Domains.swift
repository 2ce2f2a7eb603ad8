/// Names as the learner sees them.
public enum Domains {
    /// Second-level labels under which registries sell names (co.uk, com.au, ...).
    static let secondLevel: Set<Substring> = ["co", "com", "net", "org", "gov", "ac", "edu", "or", "ne", "go", "mil"]

    /// The registrable zone of a name ("a.b.example.co.uk" -> "example.co.uk"), lower-cased,
    /// without a trailing dot; nil for empty names and reverse-lookup names are kept whole.
    public static func zone(_ name: String) -> String? {
        var bytes = Array(name.utf8)
        while bytes.last == UInt8(ascii: ".") { bytes.removeLast() }
        guard !bytes.isEmpty else { return nil }
        for i in bytes.indices where bytes[i] >= 65 && bytes[i] <= 90 { bytes[i] |= 0x20 }
        // Dots from the end, at most four.
        var dots: [Int] = []
        var i = bytes.count - 1
        while i >= 0, dots.count < 4 { if bytes[i] == UInt8(ascii: ".") { dots.append(i) }; i -= 1 }
        func from(_ start: Int) -> String { String(decoding: bytes[start...], as: UTF8.self) }
        guard dots.count >= 2 else { return from(0) }
        let tldLength = bytes.count - dots[0] - 1
        if tldLength == 4, bytes[(dots[0] + 1)...].elementsEqual("arpa".utf8) {
            return dots.count >= 4 ? from(dots[3] + 1) : from(0)
        }
        let sld = Substring(decoding: bytes[(dots[1] + 1)..<dots[0]], as: UTF8.self)
        if tldLength == 2, secondLevel.contains(sld) { return dots.count >= 3 ? from(dots[2] + 1) : from(0) }
        return from(dots[1] + 1)
    }

    /// The part of `name` left of its zone ("x1.y2.example.com" -> "x1.y2"), or "".
    public static func subdomain(_ name: String, zone: String) -> Substring {
        var n = Substring(name.lowercased())
        while n.utf8.last == UInt8(ascii: ".") { n = n.dropLast() }
        let zoneBytes = zone.utf8.count
        guard n.utf8.count > zoneBytes + 1 else { return "" }
        return Substring(n.utf8.dropLast(zoneBytes + 1))
    }
}
