import VigilCore

/// CrowdStrike Falcon detection summaries as the event stream and SIEM connector deliver
/// them (`metadata.eventType: DetectionSummaryEvent` or `EppDetectionSummaryEvent`, fields
/// under `event`), or flat exports with the same field names. Severity 1-5 maps to 20-100.
enum CrowdStrikeDetection {
    static let format = AlertFormat(
        name: "crowdstrike",
        recognizes: { r in
            let type = r.string("metadata.eventType") ?? ""
            return type.hasSuffix("DetectionSummaryEvent") || r.value("event.DetectId") != nil || r.value("DetectId") != nil
        },
        decode: { r in
            func s(_ f: String) -> String? { r.string("event.\(f)", f) }
            guard let title = s("DetectName") ?? s("Name") ?? s("DetectDescription") else { throw r.fail("event.DetectName", "a detection without a name") }
            let t = try r.time("event.ProcessStartTime", "ProcessStartTime", "event.Timestamp", "metadata.eventCreationTime", "timestamp")
            let sev = r.number("event.Severity", "Severity") ?? 3
            var techniques: [String] = []
            for f in ["TechniqueId", "Technique", "TacticId"] { if let v = s(f), let id = Attack.techniqueID(in: v) { techniques.append(id) } }
            var hosts: [String] = []
            if let h = s("ComputerName") ?? s("Hostname") { hosts.append(h) }
            if let ip = s("LocalIP") { hosts.append(ip) }
            let users = [s("UserName")].compactMap { $0 }
            let id = s("CompositeId") ?? s("DetectId") ?? r.place
            return [Alert(id: "crowdstrike-\(id)", source: "crowdstrike", time: t, title: title, category: s("Tactic") ?? s("Objective"),
                          severity: min(100, max(10, sev * 20)), hosts: hosts, users: users,
                          techniques: techniques, raw: r.raw)]
        })
}
