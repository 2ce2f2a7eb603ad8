import Foundation
import VigilCore

/// Incidents for other tools: OCSF Incident Finding (class 2005) as JSON lines for a
/// security data lake or SIEM, and ArcSight CEF lines for syslog collectors.
public enum IncidentExport {
    /// Priority 0-100 to OCSF severity_id (2 Low, 3 Medium, 4 High, 5 Critical).
    static func severityID(_ p: Double) -> Int { p >= 90 ? 5 : p >= 70 ? 4 : p >= 50 ? 3 : 2 }

    /// One OCSF 1.1 Incident Finding (activity Create) per incident.
    public static func ocsf(_ i: Incident) -> [String: Any] {
        let ms = { (t: Timestamp) -> Int64 in t.nanoseconds / 1_000_000 }
        let attacks: [[String: Any]] = i.techniques.map { t in
            var a: [String: Any] = ["technique": ["uid": t, "name": Attack.name(of: t)], "version": "v15"]
            if let tactic = Attack.tactic(of: t) { a["tactic"] = ["name": tactic] }
            return a
        }
        let sev = severityID(i.priority)
        return [
            "class_uid": 2005, "class_name": "Incident Finding", "category_uid": 2, "category_name": "Findings",
            "activity_id": 1, "activity_name": "Create", "type_uid": 200_501,
            "time": ms(i.end), "start_time": ms(i.start), "end_time": ms(i.end),
            "severity_id": sev, "severity": ["", "Informational", "Low", "Medium", "High", "Critical"][sev],
            "priority_id": sev - 1, "priority": ["", "Low", "Medium", "High", "Critical"][sev - 1],
            "status_id": 1, "status": "New",
            "confidence_score": Int((i.confidence * 100).rounded()),
            "desc": i.summary,
            "finding_info_list": [[
                "uid": i.id, "title": i.title, "desc": i.narrative.joined(separator: "\n"),
                "first_seen_time": ms(i.start), "last_seen_time": ms(i.end), "attacks": attacks,
                "related_events": i.timeline.map { ["uid": $0.ref, "type": $0.kind.rawValue, "product_uid": $0.source] },
            ]],
            "is_suspected_breach": i.priority >= 90,
            "metadata": ["version": "1.1.0", "profiles": ["incident"], "uid": i.id,
                         "product": ["name": "Vigil", "vendor_name": "Vigil", "version": "0.1.0"]],
            "unmapped": ["devices": i.devices, "endpoints": i.endpoints, "tactics": i.tactics,
                         "steps": i.steps.map { ["question": $0.question, "finding": $0.finding] }],
        ]
    }

    public static func ocsfLines(_ incidents: [Incident]) throws -> String {
        try incidents.map { String(decoding: try JSONSerialization.data(withJSONObject: ocsf($0), options: [.sortedKeys, .withoutEscapingSlashes]), as: UTF8.self) }
            .joined(separator: "\n") + (incidents.isEmpty ? "" : "\n")
    }

    /// One CEF:0 line per incident: severity 0-10 from the priority; devices, endpoints,
    /// tactics and the summary in the extension.
    public static func cef(_ i: Incident) -> String {
        func header(_ s: String) -> String {
            s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "|", with: "\\|")
                .replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "\r", with: " ")
        }
        func value(_ s: String) -> String {
            s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "=", with: "\\=")
                .replacingOccurrences(of: "\r\n", with: "\\n").replacingOccurrences(of: "\n", with: "\\n").replacingOccurrences(of: "\r", with: "\\r")
        }
        var ext: [(String, String)] = [
            ("rt", String(i.end.nanoseconds / 1_000_000)), ("start", String(i.start.nanoseconds / 1_000_000)),
            ("end", String(i.end.nanoseconds / 1_000_000)), ("externalId", i.id),
            ("cn1Label", "priority"), ("cn1", String(Int(i.priority.rounded()))),
            ("cfp1Label", "confidence"), ("cfp1", String(format: "%.2f", i.confidence)),
        ]
        if let d = i.devices.first { ext.append((IPAddress(d) == nil ? "shost" : "src", d)) }
        if let e = i.endpoints.first { ext.append((IPAddress(e) == nil ? "dhost" : "dst", e)) }
        ext.append(("cs1Label", "devices")); ext.append(("cs1", i.devices.joined(separator: ",")))
        ext.append(("cs2Label", "tactics")); ext.append(("cs2", i.tactics.joined(separator: ",")))
        ext.append(("cs3Label", "techniques")); ext.append(("cs3", i.techniques.joined(separator: ",")))
        ext.append(("cnt", String(i.breaches.count + i.alerts.count)))
        ext.append(("msg", i.summary))
        let severity = min(10, max(0, Int((i.priority / 10).rounded())))
        return "CEF:0|Vigil|Vigil|0.1.0|incident|\(header(i.title))|\(severity)|" + ext.map { "\($0.0)=\(value($0.1))" }.joined(separator: " ")
    }
}
