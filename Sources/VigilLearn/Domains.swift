/// Names as the learner sees them. Every function here reads the name's UTF-8 bytes in place:
/// they run once or more for every DNS query a device makes.
public enum Domains {
    /// The registrable zone of a name ("a.b.example.co.uk" -> "example.co.uk"), lower-cased,
    /// without a trailing dot; nil for empty names and reverse-lookup names are kept whole.
    public static func zone(_ name: String) -> String? {
        var name = name
        return name.withUTF8 { b -> String? in
            let end = trimmedEnd(b)
            guard end > 0 else { return nil }
            // Dots from the end, at most four.
            var dots: (Int, Int, Int, Int) = (-1, -1, -1, -1)
            var found = 0
            var i = end - 1
            while i >= 0, found < 4 {
                if b[i] == UInt8(ascii: ".") {
                    switch found { case 0: dots.0 = i; case 1: dots.1 = i; case 2: dots.2 = i; default: dots.3 = i }
                    found += 1
                }
                i -= 1
            }
            func from(_ start: Int) -> String { lowered(b, start, end) }
            guard found >= 2 else { return from(0) }
            let tldLength = end - dots.0 - 1
            if tldLength == 4, equalsFolded(b, dots.0 + 1, end, "arpa") {
                return found >= 4 ? from(dots.3 + 1) : from(0)
            }
            if tldLength == 2, isSecondLevel(b, dots.1 + 1, dots.0) { return found >= 3 ? from(dots.2 + 1) : from(0) }
            return from(dots.1 + 1)
        }
    }

    /// The length in bytes of the part of `name` left of its zone ("x1.y2" of
    /// "x1.y2.example.com"), and the entropy of its bytes with ASCII case folded, without
    /// making the lower-cased copy.
    public static func subdomainShape(_ name: String, zone: String) -> (length: Int, entropy: Double) {
        var name = name
        return name.withUTF8 { b in
            let length = trimmedEnd(b) - zone.utf8.count - 1
            guard length > 0 else { return (0, 0) }
            return (length, Stats.entropy(UnsafeBufferPointer(rebasing: b[0..<length]), foldCase: true))
        }
    }

    /// Reverse-lookup and link-local zones, which say nothing about tunnels or DGAs.
    public static func isReverseOrLocal(_ zone: String) -> Bool {
        var zone = zone
        return zone.withUTF8 { b in
            (b.count >= 5 && equalsFolded(b, b.count - 5, b.count, ".arpa"))
                || (b.count >= 6 && equalsFolded(b, b.count - 6, b.count, ".local"))
        }
    }

    /// Everything before the first dot ("example" of "example.com").
    public static func firstLabel(_ name: String) -> Substring {
        guard let dot = name.utf8.firstIndex(of: UInt8(ascii: ".")) else { return Substring(name) }
        return name[..<dot]
    }

    /// Second-level labels under which registries sell names (co.uk, com.au, ...).
    private static func isSecondLevel(_ b: UnsafeBufferPointer<UInt8>, _ from: Int, _ to: Int) -> Bool {
        switch to - from {
        case 2: return ["co", "ac", "or", "ne", "go"].contains { equalsFolded(b, from, to, $0) }
        case 3: return ["com", "net", "org", "gov", "edu", "mil"].contains { equalsFolded(b, from, to, $0) }
        default: return false
        }
    }

    /// Bytes `from..<to` equal `lower` (lower-case ASCII) ignoring ASCII case.
    private static func equalsFolded(_ b: UnsafeBufferPointer<UInt8>, _ from: Int, _ to: Int, _ lower: StaticString) -> Bool {
        guard lower.utf8CodeUnitCount == to - from else { return false }
        let l = lower.utf8Start
        for k in 0..<(to - from) where Stats.lowerASCII(b[from + k]) != l[k] { return false }
        return true
    }

    /// The end of a name without its trailing dots.
    private static func trimmedEnd(_ b: UnsafeBufferPointer<UInt8>) -> Int {
        var end = b.count
        while end > 0, b[end - 1] == UInt8(ascii: ".") { end -= 1 }
        return end
    }

    private static func lowered(_ b: UnsafeBufferPointer<UInt8>, _ from: Int, _ to: Int) -> String {
        String(unsafeUninitializedCapacity: to - from) { out in
            for k in 0..<(to - from) { out[k] = Stats.lowerASCII(b[from + k]) }
            return to - from
        }
    }
}
