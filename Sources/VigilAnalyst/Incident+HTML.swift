import Foundation
import VigilCore

/// Incidents as one self-contained HTML file: no scripts, no outside resources, a content
/// security policy that forbids both, every piece of text escaped (host names, domains and
/// alert titles come from attackers), an inline SVG timeline per incident (one row per device,
/// one mark per breach or alert, coloured by kill-chain stage), and, where the store knows
/// them, each device's bytes per hour around the incident against its learned normal.
public enum IncidentHTML {
    public static func document(_ incidents: [Incident], title: String, activity: [String: [DeviceActivity]] = [:]) -> String {
        var out = """
        <!doctype html><html lang="en"><head><meta charset="utf-8">
        <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
        <title>\(escape(title))</title><style>
        body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#1b1f24}
        table{border-collapse:collapse;width:100%;margin:.5em 0}td,th{border-bottom:1px solid #ddd;padding:3px 6px;text-align:left;vertical-align:top}
        .p{font-weight:600}.muted{color:#666}section{margin:2.5em 0}svg text{font:11px system-ui,sans-serif}
        </style></head><body><h1>\(escape(title))</h1>
        """
        if incidents.isEmpty { return out + "<p>No incidents.</p></body></html>\n" }
        out += "<table><tr><th>priority</th><th>incident</th><th>start (UTC)</th><th>devices</th><th>title</th></tr>"
        for i in incidents {
            out += "<tr><td class=p>\(Int(i.priority.rounded()))</td><td><a href=\"#\(escape(i.id))\">\(escape(i.id))</a></td><td>\(i.start.iso8601)</td><td>\(i.devices.count)</td><td>\(escape(i.title))</td></tr>"
        }
        out += "</table>"
        for i in incidents { out += section(i, activity: activity[i.id] ?? []) }
        return out + "</body></html>\n"
    }

    static func section(_ i: Incident, activity: [DeviceActivity] = []) -> String {
        var out = "<section id=\"\(escape(i.id))\"><h2>\(escape(i.id)): \(escape(i.title))</h2>"
        out += "<p><span class=p>Priority \(Int(i.priority.rounded()))</span> · severity \(Int(i.severity.rounded())) · confidence \(String(format: "%.2f", i.confidence)) · \(i.start.iso8601) to \(i.end.iso8601)</p>"
        if !i.tactics.isEmpty { out += "<p>ATT&amp;CK: \(escape(i.tactics.joined(separator: " → "))) (\(escape(i.techniques.joined(separator: ", "))))</p>" }
        out += timelineSVG(i)
        if let r = i.rephrasing {
            out += "<h3>What happened</h3>" + r.narrative.map { "<p>\(escape($0))</p>" }.joined()
            out += "<p class=muted>Reworded by \(escape(r.model)) from the deterministic write-up; every address, name, time and number was checked against it.</p>"
            out += "<details><summary>Deterministic write-up</summary>" + i.narrative.map { "<p>\(escape($0))</p>" }.joined() + "</details>"
        } else {
            out += "<h3>What happened</h3>" + i.narrative.map { "<p>\(escape($0))</p>" }.joined()
        }
        if !activity.isEmpty {
            out += "<h3>Devices against their normal</h3><p class=muted>Bytes sent per hour from a day before to a day after (bars; red inside the incident) and what the device usually sends in that hour of the week (line).</p>"
            out += activity.map { activitySVG($0, incident: i) }.joined()
        }
        if !i.steps.isEmpty {
            out += "<h3>Investigation</h3><ol>" + i.steps.map { "<li><b>\(escape($0.question))</b> \(escape($0.finding))</li>" }.joined() + "</ol>"
        }
        out += "<h3>Timeline</h3><table><tr><th>time (UTC)</th><th>device</th><th>source</th><th>score</th><th>tactic</th><th>what</th></tr>"
        for e in i.timeline {
            out += "<tr><td>\(e.time.iso8601)</td><td>\(escape(e.device))</td><td>\(escape(e.source))</td><td>\(Int(e.score.rounded()))</td><td>\(escape(e.tactic ?? ""))</td><td>\(escape(e.text))</td></tr>"
        }
        return out + "</table></section>"
    }

    /// One device: bars of bytes sent per hour, the incident's hours in red, and a line of its
    /// learned normal for each hour of the week.
    static func activitySVG(_ a: DeviceActivity, incident i: Incident) -> String {
        guard let first = a.hours.first?.hour, let last = a.hours.last?.hour else { return "" }
        let left = 70.0, width = 1000.0, height = 90.0
        let span = max(3600, last.seconds - first.seconds + 3600)
        let usual = a.hours.map { a.usualSent(at: $0.hour) }
        let top = max(1, a.hours.map(\.sent).max() ?? 1, usual.compactMap { $0 }.max() ?? 1)
        let barW = max(1, width * 3600 / span - 1)
        func x(_ t: Timestamp) -> Double { left + width * (t.seconds - first.seconds) / span }
        func y(_ v: Double) -> Double { 8 + height * (1 - v / top) }
        let name = a.device.name.map { "\(a.device.address) (\($0))" } ?? a.device.address
        var svg = "<svg role=img aria-label=\"\(escape(name)) bytes sent per hour against its normal\" width=\"\(Int(left + width + 10))\" height=\"\(Int(height + 30))\" viewBox=\"0 0 \(Int(left + width + 10)) \(Int(height + 30))\">"
        svg += "<text x=\"4\" y=\"14\">\(escape(String(name.prefix(28))))</text><text x=\"4\" y=\"30\" fill=\"#666\">\(escape(Bytes.human(top)))/h</text>"
        svg += "<line x1=\"\(left)\" x2=\"\(left + width)\" y1=\"\(8 + height)\" y2=\"\(8 + height)\" stroke=\"#ccc\"/>"
        for h in a.hours {
            let inside = h.hour + .seconds(3600) > i.start && h.hour <= i.end
            svg += "<rect x=\"\(f(x(h.hour)))\" y=\"\(f(y(h.sent)))\" width=\"\(f(barW))\" height=\"\(f(8 + height - y(h.sent)))\" fill=\"\(inside ? "#d9534f" : "#7aa6d6")\"><title>\(h.hour.iso8601): \(escape(Bytes.human(h.sent)))</title></rect>"
        }
        var path = ""
        for (h, u) in zip(a.hours, usual) {
            guard let u else { continue }
            path += (path.isEmpty ? "M" : " L") + "\(f(x(h.hour) + barW / 2)) \(f(y(u)))"
        }
        if !path.isEmpty { svg += "<path d=\"\(path)\" fill=\"none\" stroke=\"#e0a000\" stroke-width=\"1.5\"/>" }
        svg += "<text x=\"\(left)\" y=\"\(Int(height + 24))\" fill=\"#666\">\(first.iso8601)</text><text x=\"\(left + width)\" y=\"\(Int(height + 24))\" text-anchor=\"end\" fill=\"#666\">\(last.iso8601)</text>"
        return svg + "</svg>"
    }

    static func f(_ v: Double) -> String { String(format: "%.1f", v) }

    /// Devices down the side, time across; a mark per signal, its size by score.
    static func timelineSVG(_ i: Incident) -> String {
        let devices = Array(Set(i.timeline.map(\.device))).sorted { a, b in
            (i.devices.firstIndex(of: a) ?? 99, a) < (i.devices.firstIndex(of: b) ?? 99, b)
        }
        guard !devices.isEmpty else { return "" }
        let left = 130.0, width = 960.0, rowH = 26.0
        let h = Double(devices.count) * rowH + 30
        let t0 = i.start.seconds, span = max(1, i.end.seconds - t0)
        var svg = "<svg role=img aria-label=\"timeline\" width=\"\(Int(left + width + 20))\" height=\"\(Int(h))\" viewBox=\"0 0 \(Int(left + width + 20)) \(Int(h))\">"
        for (r, d) in devices.enumerated() {
            let y = Double(r) * rowH + 18
            svg += "<text x=\"4\" y=\"\(y + 4)\">\(escape(String(d.prefix(20))))</text><line x1=\"\(left)\" x2=\"\(left + width)\" y1=\"\(y)\" y2=\"\(y)\" stroke=\"#ddd\"/>"
        }
        for e in i.timeline {
            guard let r = devices.firstIndex(of: e.device) else { continue }
            let x = left + (e.time.seconds - t0) / span * width
            let y = Double(r) * rowH + 18
            let radius = 3 + e.score / 100 * 6
            let hue = e.tactic.map { Attack.order(of: $0) * 25 } ?? 0
            let fill = e.tactic == nil ? "#999" : "hsl(\(hue),70%,45%)"
            svg += "<circle cx=\"\(String(format: "%.1f", x))\" cy=\"\(y)\" r=\"\(String(format: "%.1f", radius))\" fill=\"\(fill)\" fill-opacity=\".75\"><title>\(escape("\(e.time.iso8601) \(e.source) \(Int(e.score.rounded())): \(e.text)"))</title></circle>"
        }
        svg += "<text x=\"\(left)\" y=\"\(h - 4)\" class=muted>\(i.start.iso8601)</text><text x=\"\(left + width)\" y=\"\(h - 4)\" text-anchor=\"end\">\(i.end.iso8601)</text>"
        return svg + "</svg>"
    }

    /// HTML text and attribute escaping.
    static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.count)
        for c in s.unicodeScalars {
            switch c {
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "&": out += "&amp;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }
}
