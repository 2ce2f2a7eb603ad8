import VigilCore

/// Suricata's EVE JSON: `event_type: "alert"` records (other event types are not alerts).
/// Severity 1 (highest) to 4 maps to 85, 60, 35, 15. ATT&CK ids come from the rule's
/// `mitre_technique_id` metadata when the rule carries it (Emerging Threats rules do).
enum SuricataEVE {
    static let format = AlertFormat(
        name: "suricata",
        recognizes: { $0.object["event_type"] is String && ($0.object["src_ip"] != nil || $0.object["flow_id"] != nil || $0.object["alert"] != nil) },
        decode: { r in
            guard r.string("event_type") == "alert" else { return [] }
            guard let title = r.string("alert.signature") else { throw r.fail("alert.signature", "an EVE alert without a signature") }
            let t = try r.time("timestamp", "flow.start")
            let sev = r.number("alert.severity") ?? 2
            let severity: Double = sev <= 1 ? 85 : sev <= 2 ? 60 : sev <= 3 ? 35 : 15
            let techniques = r.strings("alert.metadata.mitre_technique_id").map { $0.uppercased() }
            // A probe that got nothing back (no packets or bytes to the client).
            let toClient = r.number("flow.pkts_toclient") ?? r.number("flow.bytes_toclient")
            var domains: [String] = []
            if let h = r.string("http.hostname") { domains.append(h) }
            if let s = r.string("tls.sni") { domains.append(s) }
            if let q = r.string("dns.query.0.rrname", "dns.rrname") { domains.append(q) }
            let sid = r.string("alert.signature_id") ?? "0"
            let flow = r.string("flow_id") ?? r.place
            return [Alert(id: "suricata-\(flow)-\(sid)-\(r.line)", source: "suricata", time: t, title: title, category: r.string("alert.category"),
                          severity: severity, sourceAddress: r.address("src_ip"), sourcePort: r.port("src_port"),
                          destinationAddress: r.address("dest_ip"), destinationPort: r.port("dest_port"),
                          transport: r.string("proto")?.lowercased(), hosts: [], users: [], domains: domains,
                          techniques: techniques, unanswered: toClient == 0, raw: r.raw)]
        })
}
