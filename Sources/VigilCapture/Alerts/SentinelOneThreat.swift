import VigilCore

/// SentinelOne threats (`/web/api/v2.1/threats` items): confidence "malicious" maps to 85,
/// "suspicious" to 60; ATT&CK from the indicators' tactics and technique links.
enum SentinelOneThreat {
    static let format = AlertFormat(
        name: "sentinelone",
        recognizes: { $0.object["threatInfo"] is [String: Any] },
        decode: { r in
            guard let title = r.string("threatInfo.threatName", "threatInfo.classification") else {
                throw r.fail("threatInfo.threatName", "a threat without a name")
            }
            let t = try r.time("threatInfo.identifiedAt", "threatInfo.createdAt", "createdAt")
            let severity: Double = switch (r.string("threatInfo.confidenceLevel") ?? "").lowercased() {
            case "malicious": 85
            case "suspicious": 60
            default: 50
            }
            var techniques: [String] = []
            for i in r.objects("indicators") {
                for tac in (i["tactics"] as? [Any])?.compactMap({ $0 as? [String: Any] }) ?? [] {
                    for tech in (tac["techniques"] as? [Any])?.compactMap({ $0 as? [String: Any] }) ?? [] {
                        let text = [(tech["link"] as? String) ?? "", (tech["name"] as? String) ?? ""].joined(separator: " ")
                        if let id = Attack.techniqueID(in: text), !techniques.contains(id) { techniques.append(id) }
                    }
                }
            }
            var hosts: [String] = []
            if let h = r.string("agentRealtimeInfo.agentComputerName", "agentDetectionInfo.agentComputerName") { hosts.append(h) }
            for ip in (r.string("agentDetectionInfo.agentIpV4") ?? "").split(separator: ",") {
                let v = ip.trimmingCharacters(in: .whitespaces)
                if !v.isEmpty { hosts.append(v) }
            }
            let users = [r.string("agentDetectionInfo.agentLastLoggedInUserName", "threatInfo.processUser")].compactMap { $0 }
            return [Alert(id: "sentinelone-\(r.string("id", "threatInfo.threatId") ?? r.place)", source: "sentinelone", time: t, title: title,
                          category: r.string("threatInfo.classification"), severity: severity, hosts: hosts, users: users,
                          techniques: techniques, raw: r.raw)]
        })
}
