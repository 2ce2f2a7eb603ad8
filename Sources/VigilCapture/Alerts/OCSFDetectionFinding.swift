import VigilCore

/// OCSF Detection Finding (class 2004) and the older Security Finding (2001): `severity_id`
/// 1-6 maps to 10, 35, 60, 80, 95, 100; ATT&CK from `finding_info.attacks` (or `attacks`).
enum OCSFDetectionFinding {
    static let format = AlertFormat(
        name: "ocsf",
        recognizes: { r in
            let c = r.number("class_uid") ?? 0
            return c == 2004 || c == 2001
        },
        decode: { r in
            let t = try r.time("time", "finding_info.created_time", "metadata.logged_time")
            guard let title = r.string("finding_info.title", "finding.title", "message") else { throw r.fail("finding_info.title", "a finding without a title") }
            let sid = r.number("severity_id") ?? 3
            let severity: Double = [0: 30, 1: 10, 2: 35, 3: 60, 4: 80, 5: 95, 6: 100][Int(sid)] ?? 50
            var techniques: [String] = []
            for a in r.objects("finding_info.attacks") + r.objects("attacks") {
                if let u = (a["technique"] as? [String: Any])?["uid"] as? String { techniques.append(u.uppercased()) }
                if let u = (a["sub_technique"] as? [String: Any])?["uid"] as? String { techniques.append(u.uppercased()) }
            }
            var hosts: [String] = []
            if let h = r.string("device.hostname", "device.name") { hosts.append(h) }
            if let ip = r.string("device.ip") { hosts.append(ip) }
            let users = [r.string("actor.user.name"), r.string("user.name")].compactMap { $0 }
            var domains: [String] = []
            if let d = r.string("dst_endpoint.hostname", "dst_endpoint.domain") { domains.append(d) }
            return [Alert(id: "ocsf-\(r.string("finding_info.uid", "metadata.uid") ?? r.place)", source: "ocsf", time: t, title: title,
                          category: r.string("finding_info.types.0", "category_name", "class_name"), severity: severity,
                          sourceAddress: r.address("src_endpoint.ip"), sourcePort: r.port("src_endpoint.port"),
                          destinationAddress: r.address("dst_endpoint.ip"), destinationPort: r.port("dst_endpoint.port"),
                          hosts: hosts, users: users, domains: domains, techniques: techniques, raw: r.raw)]
        })
}
