import Foundation
import VigilCore

/// Incidents as a Markdown document an analyst can paste into a ticket. Text that came from
/// the network (host names, domains, alert titles) is escaped so it cannot form links,
/// HTML or tables.
public enum IncidentMarkdown {
    public static func document(_ incidents: [Incident], title: String, inputs: [String] = []) -> String {
        var out = "# \(escape(title))\n\n"
        if !inputs.isEmpty { out += "Inputs: \(inputs.map { "`\($0.replacingOccurrences(of: "`", with: "'"))`" }.joined(separator: ", "))\n\n" }
        if incidents.isEmpty { return out + "No incidents.\n" }
        out += "| priority | incident | start (UTC) | devices | title |\n|---:|---|---|---:|---|\n"
        for i in incidents {
            out += "| \(Int(i.priority.rounded())) | \(i.id) | \(i.start.iso8601) | \(i.devices.count) | \(escape(i.title)) |\n"
        }
        for i in incidents { out += "\n" + section(i) }
        return out
    }

    public static func section(_ i: Incident) -> String {
        var out = "## \(i.id): \(escape(i.title))\n\n"
        out += "- **Priority** \(Int(i.priority.rounded())) (severity \(Int(i.severity.rounded())), confidence \(String(format: "%.2f", i.confidence)))\n"
        out += "- **When** \(i.start.iso8601) to \(i.end.iso8601)\n"
        out += "- **Devices** \(i.devices.map { d in i.deviceNames[d].map { "\(escape(d)) (\(escape($0)))" } ?? escape(d) }.joined(separator: ", "))\n"
        if !i.endpoints.isEmpty { out += "- **Endpoints** \(i.endpoints.map(escape).joined(separator: ", "))\n" }
        if !i.users.isEmpty { out += "- **Users** \(i.users.map(escape).joined(separator: ", "))\n" }
        if !i.tactics.isEmpty { out += "- **ATT&CK** \(i.tactics.joined(separator: " → ")): \(i.techniques.map { "\($0) \(Attack.name(of: $0))" }.joined(separator: ", "))\n" }
        out += "\n### What happened\n\n"
        if let r = i.rephrasing {
            for p in r.narrative { out += escape(p) + "\n\n" }
            out += "_Reworded by \(escape(r.model)) from the deterministic write-up below; every address, name, time and number was checked against it._\n\n"
            out += "#### Deterministic write-up\n\n"
        }
        for p in i.narrative { out += escape(p) + "\n\n" }
        if !i.steps.isEmpty {
            out += "### Investigation\n\n"
            for (n, s) in i.steps.enumerated() { out += "\(n + 1). **\(escape(s.question))** \(escape(s.finding))\n" }
            out += "\n"
        }
        out += "### Timeline\n\n| time (UTC) | device | source | score | tactic | what |\n|---|---|---|---:|---|---|\n"
        for e in i.timeline {
            out += "| \(e.time.iso8601) | \(escape(e.device)) | \(escape(e.source)) | \(Int(e.score.rounded())) | \(e.tactic ?? "") | \(escape(e.text)) |\n"
        }
        return out
    }

    /// Backslash-escapes Markdown's active characters and turns HTML brackets into entities.
    static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.count)
        for c in s {
            switch c {
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\\", "`", "*", "_", "[", "]", "|", "#", "!": out += "\\\(c)"
            case "\n", "\r": out += " "
            default: out.append(c)
            }
        }
        return out
    }
}
