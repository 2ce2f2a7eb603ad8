import VigilCore

/// Sigma rule matches as the common engines write them: Hayabusa JSON lines (`RuleTitle`,
/// `Level`, `Computer`, `MitreTags`), Chainsaw (`name`, `level`, `tags`, `document`) and
/// Zircolite (`title`, `rule_level`, `tags`, `matches[]`, one alert per match). Levels
/// critical/high/medium/low/informational map to 95, 80, 60, 35, 10; tags `attack.t1059`
/// give techniques.
enum SigmaMatch {
    static func level(_ s: String?) -> Double {
        switch (s ?? "").lowercased() {
        case "critical", "crit": 95
        case "high": 80
        case "medium", "med": 60
        case "low": 35
        case "informational", "info": 10
        default: 50
        }
    }

    static func techniques(_ tags: [String]) -> [String] {
        var out: [String] = []
        for t in tags { if let id = Attack.techniqueID(in: t), !out.contains(id) { out.append(id) } }
        return out
    }

    /// The computer, user and address fields of a Windows event as engines flatten them.
    static func entities(_ event: [String: Any]) -> (hosts: [String], users: [String]) {
        var hosts: [String] = [], users: [String] = []
        func walk(_ v: Any, _ depth: Int) {
            guard depth < 6 else { return }
            if let d = v as? [String: Any] {
                for (k, x) in d {
                    if let s = x as? String, !s.isEmpty, s != "-" {
                        switch k {
                        case "Computer", "ComputerName", "Hostname", "WorkstationName": hosts.append(s)
                        case "IpAddress", "SourceAddress", "SourceIp": if IPAddress(s) != nil { hosts.append(s) }
                        case "TargetUserName", "SubjectUserName", "User", "UserName": users.append(s)
                        default: break
                        }
                    } else { walk(x, depth + 1) }
                }
            }
        }
        walk(event, 0)
        return (Array(Set(hosts)).sorted(), Array(Set(users)).sorted())
    }

    static let format = AlertFormat(
        name: "sigma",
        recognizes: { r in
            r.value("RuleTitle") != nil || (r.value("rule_level") != nil && r.value("title") != nil)
                || (r.value("name") != nil && r.value("level") != nil && (r.value("document") != nil || r.value("tags") != nil))
        },
        decode: { r in
            if let title = r.string("RuleTitle") {  // Hayabusa
                let t = try r.time("Timestamp", "timestamp")
                let (hosts, users) = entities(r.object)
                return [Alert(id: "sigma-\(r.string("RuleID") ?? r.place)-\(r.line)", source: "sigma", time: t, title: title,
                              category: r.string("Channel"), severity: level(r.string("Level")), hosts: hosts, users: users,
                              techniques: techniques(r.strings("MitreTags") + r.strings("MitreTactics") + r.strings("OtherTags")), raw: r.raw)]
            }
            if let title = r.string("title"), r.value("rule_level") != nil {  // Zircolite: one alert per match
                let tags = r.strings("tags")
                var out: [Alert] = []
                for (i, m) in r.objects("matches").enumerated() {
                    guard let t = ["SystemTime", "UtcTime", "TimeCreated", "timestamp", "@timestamp"].lazy.compactMap({ m[$0] }).compactMap(AlertTime.parse).first else {
                        throw r.fail("matches[\(i)].SystemTime", "a match without a time")
                    }
                    let (hosts, users) = entities(m)
                    out.append(Alert(id: "sigma-\(r.string("id") ?? r.place)-\(i)", source: "sigma", time: t, title: title,
                                     category: r.string("sigmafile"), severity: level(r.string("rule_level")), hosts: hosts, users: users,
                                     techniques: techniques(tags), raw: r.raw))
                }
                return out
            }
            guard let title = r.string("name") else { throw r.fail("name", "a rule match without a name") }  // Chainsaw
            let t = try r.time("timestamp", "document.data.Event.System.TimeCreated_attributes.SystemTime")
            let (hosts, users) = entities((r.value("document") as? [String: Any]) ?? [:])
            return [Alert(id: "sigma-\(r.string("id") ?? r.place)-\(r.line)", source: "sigma", time: t, title: title,
                          category: r.string("group"), severity: level(r.string("level")), hosts: hosts, users: users,
                          techniques: techniques(r.strings("tags")), raw: r.raw)]
        })
}
