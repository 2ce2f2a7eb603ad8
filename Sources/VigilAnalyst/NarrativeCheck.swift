import VigilCore

/// An optional local language model may reword an incident's narrative; it never decides
/// anything. A rewording is kept only when it carries exactly the facts of the deterministic
/// write-up: every address, domain, time, number and ATT&CK id, and none that is not there.
public enum NarrativeCheck {
    /// What the model is told.
    public static let instructions = """
        You reword security incident write-ups for busy analysts. Rewrite the text so it reads \
        clearly and briefly, in the same order, one paragraph for each paragraph of the text, \
        separated by blank lines. Copy every \
        IP address, domain name, time stamp, number and ATT&CK id exactly as written. Do not add \
        facts, causes, advice or conclusions that are not in the text. Answer with the text only.
        """

    /// The text the model rewords: the narrative's paragraphs, separated by blank lines.
    public static func prompt(_ i: Incident) -> String { i.narrative.joined(separator: "\n\n") }

    public enum Verdict: Hashable, Sendable {
        case accepted([String])
        case refused(String)
    }

    /// Accepts `candidate` as a rewording of `original` only if both carry the same facts, and
    /// each paragraph the facts of the write-up's paragraph in its place: a small model seen
    /// here moved "involves server(s) X" onto the other device, a fact the text did hold but
    /// not there.
    public static func check(original: [String], candidate: String) -> Verdict {
        let text = candidate.trimmingCharacters(in: .whitespacesAndNewlines)
        let source = original.joined(separator: "\n\n")
        guard !text.isEmpty else { return .refused("the model answered nothing") }
        guard text.count <= source.count * 2 + 200 else { return .refused("the rewording is more than twice as long as the write-up") }
        let want = facts(source), got = facts(text)
        let missing = want.subtracting(got), added = got.subtracting(want)
        if !added.isEmpty { return .refused("it adds \(added.sorted().prefix(5).joined(separator: ", ")), which the write-up does not say") }
        if !missing.isEmpty { return .refused("it drops \(missing.sorted().prefix(5).joined(separator: ", "))") }
        let paragraphs = Self.paragraphs(text, count: original.count)
        guard paragraphs.count == original.count else {
            return .refused("it has \(paragraphs.count) paragraphs where the write-up has \(original.count)")
        }
        for (k, (theirs, ours)) in zip(paragraphs, original).enumerated() {
            // A paragraph may leave out what an earlier one named ("it" for the device).
            if let moved = facts(theirs).subtracting(facts(ours)).sorted().first {
                return .refused("it puts \(moved) in paragraph \(k + 1), where the write-up does not")
            }
        }
        return .accepted(paragraphs)
    }

    /// The answer's paragraphs: separated by blank lines, or, when that does not give the
    /// write-up's count, one per line (models often drop the blank line).
    static func paragraphs(_ text: String, count: Int) -> [String] {
        func split(_ separator: String) -> [String] {
            text.components(separatedBy: separator).map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
        }
        let blank = split("\n\n")
        if blank.count == count { return blank }
        let lines = split("\n")
        return lines.count == count ? lines : blank
    }

    /// The checkable tokens of a text: anything holding a digit (addresses, times, counts,
    /// technique ids, sizes) and dotted names (domains), without surrounding punctuation.
    static func facts(_ text: String) -> Set<String> {
        var out: Set<String> = []
        for raw in text.split(whereSeparator: { $0.isWhitespace || "()[]{},;\"'`<>".contains($0) }) {
            var t = Substring(raw)
            while let last = t.last, ".:!?…→".contains(last) { t = t.dropLast() }
            while let first = t.first, ".:→".contains(first) { t = t.dropFirst() }
            guard !t.isEmpty else { continue }
            let hasDigit = t.contains(where: \.isNumber)
            let dotted = t.contains(".") && t.split(separator: ".").count >= 2 && t.allSatisfy { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == "_" }
            if hasDigit || dotted { out.insert(t.lowercased()) }
        }
        return out
    }
}
