import Foundation
import VigilCore

/// Deterministic write-ups: the same incident always reads the same. Sentences are built
/// from the signals' own reasons (which the models wrote for people) and the ATT&CK path.
enum Narrative {
    /// What a witness found, as a headline phrase.
    static func phrase(_ s: Signal) -> String {
        switch s.source {
        case "beacon": "command-and-control beaconing"
        case "scan": "network scanning"
        case "web-probe": "web probing"
        case "brute-force": "password guessing"
        case "lateral-movement": "lateral movement"
        case "exfiltration": "data exfiltration"
        case "dns-tunnel": "DNS tunnelling"
        case "dga": "lookups of generated domains"
        case "rare-endpoint": "a rare destination"
        case "new-service": "a new service"
        case "volume": "unusual data volume"
        case "unusual-time": "activity at an unusual time"
        case "device-outlier": "behaviour unlike its own"
        case "agent-new-tool": "tools it had never called"
        case "agent-sequence": "an unusual order of tool calls"
        case "agent-argument-shape": "arguments of a new shape"
        case "agent-hour": "work at an hour it never works"
        case "agent-volume": "a burst of tool calls"
        default:
            if s.kind == .alert, s.source == "vigil-mcp", let colon = s.witness.range(of: ": "),
               let p = mcpPhrases[String(s.witness[colon.upperBound...])] {
                p
            } else if s.kind == .alert, let colon = s.witness.range(of: ": ") {
                "\(s.witness[colon.upperBound...].lowercased()) (\(s.witness[..<colon.lowerBound]))"
            } else { s.source }
        }
    }

    /// The MCP gateway's findings, as headline phrases.
    static let mcpPhrases: [String: String] = [
        "lethal-trifecta": "private data sent out after untrusted content arrived",
        "hidden-instruction": "hidden instructions to the model", "invisible-text": "hidden text in tool content",
        "rug-pull": "a tool that changed after approval", "unpinned-tool": "tools nobody approved",
        "secret": "secrets in tool arguments", "personal-data": "personal data in tool arguments",
        "policy-denied": "calls the policy refused", "rate-limited": "calls over its rate",
        "name-collision": "tool names claimed twice", "undeclared-list-changed": "an unannounced change of tools",
    ]

    static func write(_ g: GroupFacts, _ w: GroupFacts.Weight, _ steps: [InvestigationStep], _ directory: [String: DeviceInfo]) -> Incident {
        func named(_ d: String) -> String {
            let n = directory[d]?.name ?? g.signals.first { $0.devices.first == d }?.deviceName
            return n.map { "\(d) (\($0))" } ?? d
        }
        // Headline: the distinct behaviours in kill-chain order, decisive ones first.
        var phrases: [(Int, String)] = []
        let decisive = g.signals.filter(\.decisive)
        let lead = decisive.isEmpty ? g.signals : decisive
        for s in lead {
            let p = phrase(s)
            let o = s.tactics.map { Attack.order(of: $0) }.min() ?? Attack.tactics.count
            if !phrases.contains(where: { $0.1 == p }) { phrases.append((o, p)) }
        }
        phrases.sort { $0.0 < $1.0 }
        let what = phrases.prefix(3).map(\.1)
        let head = what.enumerated().map { $0.offset == 0 ? $0.element.prefix(1).uppercased() + $0.element.dropFirst() : $0.element }
            .joined(separator: ", then ")
        let shown = g.devices.prefix(3).map(named)
        let on = shown.count <= 2 ? shown.joined(separator: " and ") : shown.dropLast().joined(separator: ", ") + " and " + shown.last!
        let title = "\(head) on \(on)\(g.devices.count > 3 ? " and \(g.devices.count - 3) more" : "")"

        // Timeline: every signal, in time order.
        let timeline = g.signals.sorted { $0.first != $1.first ? $0.first < $1.first : $0.id < $1.id }.map {
            TimelineEntry(time: $0.first, kind: $0.kind == .breach ? .breach : .alert, ref: $0.id, source: $0.source,
                          device: $0.devices.first ?? $0.endpoints.first ?? "", score: ($0.score * 10).rounded() / 10,
                          tactic: $0.tactics.first, text: $0.text)
        }

        // Narrative: opening, then the story in time order (repeats of one witness on one
        // device folded), then the conclusion.
        var narrative: [String] = []
        let witnessCount = w.witnesses.count
        narrative.append("Between \(g.start.iso8601) and \(g.end.iso8601) (\(span(g.end - g.start))), "
            + "\(g.devices.count == 1 ? (g.devices[0].hasPrefix("agent:") ? "one agent" : "one device") : "\(g.devices.count) devices"), \(g.devices.prefix(6).map(named).joined(separator: ", ")), "
            + "produced \(g.signals.count) signal(s) from \(witnessCount) independent witness(es)"
            + (g.subjectEndpoints.isEmpty ? "." : ", involving \(g.subjectEndpoints.prefix(4).joined(separator: ", ")).")) 
        var folded: [String: Int] = [:]
        for s in timeline {
            let key = "\(s.source)|\(s.device)"
            folded[key, default: 0] += 1
            if folded[key]! > 1 { continue }
            let more = g.signals.filter { $0.source == s.source && ($0.devices.first ?? "") == s.device }.count - 1
            let tactic = s.tactic.map { " [\($0)]" } ?? ""
            narrative.append("\(s.time.iso8601)\(tactic): \(s.text)\(more > 0 ? " (and \(more) more like it)" : "")")
        }
        let path = g.tactics.isEmpty ? "" : "The activity follows the ATT&CK path \(g.tactics.joined(separator: " → ")). "
        var why: [String] = []
        why.append("the strongest signal scored \(Int(w.severity.rounded()))")
        why.append(witnessCount == 1 ? "one witness saw it" : "\(witnessCount) independent witnesses agree (\(w.witnesses.prefix(4).map(\.name).joined(separator: ", ")))")
        if g.tactics.count > 1 { why.append("it moved through \(g.tactics.count) tactics") }
        if g.devices.count > 1 { why.append("it spans \(g.devices.count) devices") }
        if !w.servers.isEmpty { why.append("it involves server(s) \(w.servers.joined(separator: ", "))") }
        let conclusion = path + "Priority \(Int(w.priority.rounded())) because " + list(why) + String(format: " (confidence %.2f).", w.confidence)
        narrative.append(conclusion)

        var summary = "\(title). "
        if let first = timeline.first, let s = g.signals.first(where: { $0.id == first.ref }) {
            summary += "It began at \(first.time.iso8601) with \(phrase(s)). "
        }
        summary += conclusion
        let names = Dictionary(g.devices.compactMap { d in (directory[d]?.name ?? g.signals.first { $0.devices.first == d }?.deviceName).map { (d, $0) } }, uniquingKeysWith: { a, _ in a })
        return Incident(
            id: "INC-" + stableID(g.signals.min { ($0.first, $0.id) < ($1.first, $1.id) }?.id ?? ""),
            title: title, priority: w.priority, severity: (w.severity * 10).rounded() / 10, confidence: (w.confidence * 100).rounded() / 100,
            start: g.start, end: g.end, devices: g.devices, deviceNames: names, endpoints: g.subjectEndpoints, users: g.users,
            techniques: g.techniques, tactics: g.tactics, summary: summary, narrative: narrative,
            breaches: g.signals.filter { $0.kind == .breach }.map(\.id), alerts: g.signals.filter { $0.kind == .alert }.map(\.id),
            timeline: timeline, steps: steps, conclusion: conclusion)
    }

    /// "a, b and c".
    static func list(_ items: [String]) -> String {
        items.count <= 1 ? items.joined() : items.dropLast().joined(separator: ", ") + " and " + items.last!
    }

    /// A short, stable id from a signal id (FNV-1a, base 36).
    static func stableID(_ s: String) -> String {
        var h = FNV1a.hash(s.utf8)
        let digits = Array("0123456789abcdefghijklmnopqrstuvwxyz")
        var out = ""
        for _ in 0..<8 { out.append(digits[Int(h % 36)]); h /= 36 }
        return out
    }

    static func span(_ d: Duration) -> String {
        let s = max(0, d.seconds)
        if s < 90 { return "\(Int(s.rounded())) s" }
        if s < 5400 { return "\(Int((s / 60).rounded())) min" }
        if s < 172_800 { return String(format: "%.1f h", s / 3600) }
        return String(format: "%.1f days", s / 86_400)
    }

    static func bytes(_ b: UInt64) -> String {
        let v = Double(b)
        if v < 1000 { return "\(b) B" }
        if v < 1e6 { return String(format: "%.1f KB", v / 1e3) }
        if v < 1e9 { return String(format: "%.1f MB", v / 1e6) }
        return String(format: "%.2f GB", v / 1e9)
    }
}
