import VigilCore

/// Microsoft Defender for Endpoint alerts (`/api/alerts`) and Microsoft Graph security
/// alerts (`alerts_v2`): severity High/Medium/Low/Informational maps to 85, 60, 35, 10;
/// hosts and addresses from the device fields and the evidence list.
enum DefenderAlert {
    static let format = AlertFormat(
        name: "defender",
        recognizes: { r in
            r.value("alertCreationTime") != nil || r.value("computerDnsName") != nil
                || (r.value("mitreTechniques") != nil && r.value("severity") != nil && r.value("title") != nil)
        },
        decode: { r in
            guard let title = r.string("title") else { throw r.fail("title", "an alert without a title") }
            let t = try r.time("firstEventTime", "firstActivityDateTime", "alertCreationTime", "createdDateTime")
            let severity: Double = switch (r.string("severity") ?? "").lowercased() {
            case "high": 85
            case "medium": 60
            case "low": 35
            case "informational": 10
            default: 50
            }
            var hosts: [String] = []
            if let h = r.string("computerDnsName") { hosts.append(h) }
            var users: [String] = []
            var domains: [String] = []
            for e in r.objects("evidence") {
                if let ip = e["ipAddress"] as? String { hosts.append(ip) }
                if let h = e["deviceDnsName"] as? String ?? e["hostName"] as? String { hosts.append(h) }
                if let u = e["userPrincipalName"] as? String ?? e["accountName"] as? String { users.append(u) }
                if let u = e["url"] as? String, let host = URLHost.of(u) { domains.append(host) }
                if let d = e["domainName"] as? String, e["entityType"] as? String == "Url" { domains.append(d) }
            }
            let techniques = r.strings("mitreTechniques").compactMap { Attack.techniqueID(in: $0) }
            return [Alert(id: "defender-\(r.string("id", "alertId") ?? r.place)", source: "defender", time: t, title: title,
                          category: r.string("category"), severity: severity, hosts: Array(Set(hosts)).sorted(),
                          users: Array(Set(users)).sorted(), domains: domains, techniques: techniques, raw: r.raw)]
        })
}

enum URLHost {
    /// The host of `https://host:port/path` or of a bare `host/path`.
    static func of(_ u: String) -> String? {
        var s = Substring(u)
        if let r = s.range(of: "://") { s = s[r.upperBound...] }
        let host = s.prefix { $0 != "/" && $0 != ":" && $0 != "?" }
        return host.isEmpty ? nil : host.lowercased()
    }
}
