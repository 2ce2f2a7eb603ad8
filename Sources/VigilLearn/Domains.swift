/// Names as the learner sees them.
public enum Domains {
    /// Second-level labels under which registries sell names (co.uk, com.au, ...).
    static let secondLevel: Set<Substring> = ["co", "com", "net", "org", "gov", "ac", "edu", "or", "ne", "go", "mil"]

    /// The registrable zone of a name ("a.b.example.co.uk" -> "example.co.uk"), lower-cased,
    /// without a trailing dot; nil for empty names and reverse-lookup names are kept whole.
    public static func zone(_ name: String) -> String? {
        var n = Substring(name.lowercased())
        while n.hasSuffix(".") { n = n.dropLast() }
        guard !n.isEmpty else { return nil }
        let labels = n.split(separator: ".", omittingEmptySubsequences: true)
        guard labels.count > 2 else { return String(n) }
        if n.hasSuffix(".arpa") { return labels.count > 4 ? labels.suffix(4).joined(separator: ".") : String(n) }
        let tld = labels[labels.count - 1], sld = labels[labels.count - 2]
        let keep = tld.count == 2 && secondLevel.contains(sld) ? 3 : 2
        return labels.suffix(keep).joined(separator: ".")
    }

    /// The part of `name` left of its zone ("x1.y2.example.com" -> "x1.y2"), or "".
    public static func subdomain(_ name: String, zone: String) -> Substring {
        var n = Substring(name.lowercased())
        while n.hasSuffix(".") { n = n.dropLast() }
        guard n.count > zone.count + 1 else { return "" }
        return n.dropLast(zone.count + 1)
    }
}
