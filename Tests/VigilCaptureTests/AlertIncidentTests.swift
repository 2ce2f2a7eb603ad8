import Foundation
import Testing

/// Outside alerts beside a capture, as `vigil analyze --alerts` is used.
@Suite struct AlertIncidentTests {
    var vigil: String { CommandLineTests().vigil }

    /// Suricata is not packaged for this Debian release, so the EVE file is written the way
    /// Suricata writes it for a rule matching the C2's TLS server name, at the frames tshark
    /// finds carrying that name in the same capture.
    @Test func suricataAlertsOnTheBeaconLandInTheSameIncidentAsVigilsBreaches() throws {
        let dir = try tempDir()
        let cap = dir.appendingPathComponent("office.pcap").path
        let s = try run(vigil, ["simulate", "--devices", "16", "--days", "3", "--attacks", "campaign,exfiltration", "--seed", "31", "--out", cap])
        #expect(s.status == 0, "\(s.err)")
        let hits = try run("tshark", ["-r", cap, "-Y", "tls.handshake.extensions_server_name == \"update-check.example\"",
                                      "-T", "fields", "-E", "separator=,", "-e", "frame.time_epoch", "-e", "ip.src", "-e", "tcp.srcport",
                                      "-e", "ip.dst", "-e", "tcp.dstport"])
        let rows = hits.out.split(separator: "\n").map { $0.split(separator: ",").map(String.init) }.filter { $0.count == 5 }
        #expect(rows.count > 20, "tshark found \(rows.count) ClientHellos: \(hits.err)")
        var eve = ""
        for (n, r) in rows.enumerated() {
            let t = Date(timeIntervalSince1970: Double(r[0]) ?? 0)
            let f = ISO8601DateFormatter()
            f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            let ts = f.string(from: t).replacingOccurrences(of: "Z", with: "+0000")
            eve += #"{"timestamp":"\#(ts)","flow_id":\#(1000 + n),"event_type":"alert","src_ip":"\#(r[1])","src_port":\#(r[2]),"dest_ip":"\#(r[3])","dest_port":\#(r[4]),"proto":"TCP","alert":{"action":"allowed","gid":1,"signature_id":9000001,"rev":1,"signature":"LOCAL MALWARE TLS SNI update-check.example (C2 check-in)","category":"A Network Trojan was detected","severity":1,"metadata":{"mitre_technique_id":["T1071"]}},"tls":{"sni":"update-check.example"},"flow":{"pkts_toserver":6,"pkts_toclient":5,"bytes_toserver":900,"bytes_toclient":700}}"# + "\n"
        }
        // An unrelated probe from the Internet that nothing else corroborates.
        eve += #"{"timestamp":"2024-12-04T03:00:00.000000+0000","flow_id":1,"event_type":"alert","src_ip":"203.0.113.9","src_port":40000,"dest_ip":"10.21.0.12","dest_port":3389,"proto":"TCP","alert":{"signature":"ET SCAN Suspicious inbound to mstsc port 3389","category":"Potentially Bad Traffic","severity":2},"flow":{"pkts_toserver":1,"pkts_toclient":0,"bytes_toserver":60,"bytes_toclient":0}}"# + "\n"
        let evePath = dir.appendingPathComponent("eve.json").path
        try eve.write(toFile: evePath, atomically: true, encoding: .utf8)

        let json = dir.appendingPathComponent("report.json").path
        let md = dir.appendingPathComponent("report.md").path
        let r = try run(vigil, ["analyze", cap, "--alerts", evePath, "--json", json, "--markdown", md, "--top", "0"])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.err.contains("\(rows.count + 1) outside alerts in"), "\(r.err)")
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any]
        let incidents = report?["incidents"] as? [[String: Any]] ?? []
        let withAlerts = incidents.filter { !(($0["alerts"] as? [String]) ?? []).isEmpty }
        #expect(withAlerts.count == 1, "\(incidents.map { $0["title"] ?? "" })")
        let i = try #require(withAlerts.first)
        let breaches = i["breaches"] as? [String] ?? []
        let alerts = i["alerts"] as? [String] ?? []
        #expect(alerts.count == rows.count, "the lone Internet probe must stay out: \(alerts.count) vs \(rows.count)")
        var model: [String: String] = [:]
        for b in report?["breaches"] as? [[String: Any]] ?? [] { model[b["id"] as? String ?? ""] = b["model"] as? String }
        let models = Set(breaches.compactMap { model[$0] })
        #expect(models.contains("beacon") || models.contains("lateral-movement") || models.contains("scan"), "\(models)")
        let timeline = i["timeline"] as? [[String: Any]] ?? []
        #expect(timeline.contains { ($0["source"] as? String) == "suricata" } && timeline.contains { ($0["kind"] as? String) == "breach" })
        // The exfiltration on another device is its own incident.
        #expect(incidents.contains { ($0["title"] as? String)?.hasPrefix("Data exfiltration") == true })
        let markdown = try String(contentsOfFile: md, encoding: .utf8)
        #expect(markdown.contains("LOCAL MALWARE TLS SNI update-check.example"))
    }

    @Test func aMissingAlertFileIsAUsageErrorBeforeAnythingRuns() throws {
        let r = try run(vigil, ["analyze", "/nonexistent.pcap", "--alerts", "/nonexistent-eve.json"])
        #expect(r.status == 1 && r.err.contains("--alerts: no such file"), "\(r.err)")
    }
}
