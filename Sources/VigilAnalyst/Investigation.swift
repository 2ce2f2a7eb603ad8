import VigilCore

/// Runs the follow-up questions for one incident and records each as a step.
struct Investigator {
    let query: any EvidenceQuery
    let configuration: AnalystConfiguration

    /// Ports through which one machine administers another: SSH, RPC, SMB, RDP, WinRM, VNC.
    static let adminPorts: [UInt16: String] = [22: "SSH", 135: "RPC", 139: "SMB", 445: "SMB", 3389: "RDP", 5985: "WinRM", 5986: "WinRM", 5900: "VNC"]

    /// Questions and findings, and devices found to be part of the story.
    func investigate(_ g: GroupFacts) -> (steps: [InvestigationStep], moreDevices: [String]) {
        var steps: [InvestigationStep] = []
        var more: [String] = []
        let dataEnd = (try? query.lastObservationTime()) ?? g.end
        let device = g.devices.first ?? ""

        // Who else talked to the endpoints at the heart of it? Devices that share the strongest
        // signal's endpoint join the story; for the others (context, often a popular site the
        // device also visited) the answer is recorded, not acted on.
        for (rank, e) in g.subjectEndpoints.prefix(3).enumerated() {
            guard let others = try? query.devicesContacting(e, from: g.start - .seconds(7 * 86_400), to: dataEnd, limit: 50) else { continue }
            let extra = others.filter { !g.devices.contains($0) }
            let finding: String
            if extra.isEmpty {
                finding = "Only \(g.devices.filter { others.contains($0) }.joined(separator: ", ").nonEmpty ?? device) talked to \(e) in the stored traffic."
            } else if extra.count <= 5 && rank == 0 {
                finding = "\(extra.count) more device(s) talked to \(e): \(extra.joined(separator: ", ")); they are added to this incident."
                more += extra.filter { !more.contains($0) }
            } else if extra.count <= 5 {
                finding = "\(extra.count) more device(s) talked to \(e): \(extra.joined(separator: ", ")); a secondary destination, so they are noted, not added."
            } else {
                finding = "\(others.count) devices talked to \(e) (\(others.prefix(5).joined(separator: ", "))…); a destination this widely used is less likely to be an attacker's alone."
            }
            steps.append(InvestigationStep(question: "Which other devices talked to \(e)?", finding: finding,
                                           facts: ["devices": Double(others.count)]))
        }

        // What came first: when did the device first reach the endpoint?
        if let e = g.subjectEndpoints.first, let t = try? query.traffic(device: device, endpoint: e, from: g.start - .seconds(7 * 86_400), to: dataEnd),
           let first = t.first {
            let lead = g.start - first
            let what = t.lookupsOnly ? "lookup(s)" : "connection(s)"
            let finding = lead.seconds > 60
                ? "\(device) first reached \(e) at \(first.iso8601), \(Narrative.span(lead)) before the first breach; \(t.connections) \(what) in all."
                : "\(device) first reached \(e) at \(first.iso8601), as the first breach began; \(t.connections) \(what) in all."
            steps.append(InvestigationStep(question: "When did \(device) first reach \(e)?", finding: finding,
                                           facts: ["connections": Double(t.connections), "lead_seconds": lead.seconds]))
        }

        // How much data left for the endpoints (exfiltration, C2)?
        if !g.subjectEndpoints.isEmpty {
            var out: UInt64 = 0, inb: UInt64 = 0, conns = 0, lookups = 0
            for e in g.subjectEndpoints.prefix(3) {
                for d in g.devices {
                    if let t = try? query.traffic(device: d, endpoint: e, from: g.start - .seconds(3600), to: g.end + .seconds(3600)) {
                        if t.lookupsOnly { lookups += t.connections } else { out += t.bytesOut; inb += t.bytesIn; conns += t.connections }
                    }
                }
            }
            var finding = "\(Narrative.bytes(out)) sent and \(Narrative.bytes(inb)) received in \(conns) connection(s)"
            if lookups > 0 { finding += conns == 0 ? "; the name was only looked up, \(lookups) time(s) (the data rides in the lookups)" : "; and \(lookups) DNS lookup(s)" }
            steps.append(InvestigationStep(
                question: "How much data went to \(g.subjectEndpoints.prefix(3).joined(separator: ", ")) during the incident?",
                finding: finding + ".",
                facts: ["bytes_out": Double(out), "bytes_in": Double(inb), "connections": Double(conns), "lookups": Double(lookups)]))
        }

        // Is it still going?
        if g.models.contains("beacon") || g.models.contains("exfiltration"), let e = g.subjectEndpoints.first {
            if let t = try? query.traffic(device: device, endpoint: e, from: g.end + .seconds(1), to: dataEnd + .seconds(1)) {
                let finding = t.connections == 0
                    ? "No: no connections from \(device) to \(e) after \(g.end.iso8601) (the data ends at \(dataEnd.iso8601))."
                    : "Yes: \(t.connections) more connection(s) from \(device) to \(e) after the last breach, the latest at \(t.last?.iso8601 ?? "?")."
                steps.append(InvestigationStep(question: "Is the traffic to \(e) still going?", finding: finding,
                                               facts: ["connections_after": Double(t.connections)]))
            }
        }

        // Where has this domain been seen before on this network?
        if let domain = g.subjectEndpoints.first(where: { IPAddress($0) == nil }),
           let h = try? query.dnsHistory(domain, to: dataEnd) {
            let finding: String
            if let first = h.first {
                let lead = g.start - first
                let when = lead.seconds > 3600 ? "\(Narrative.span(lead)) before the incident" : lead.seconds >= 0 ? "just as the incident began" : "during the incident"
                finding = "First looked up at \(first.iso8601) (\(when)) by \(h.devices) device(s), \(h.lookups) lookup(s) in all"
                    + (h.answers.isEmpty ? "; it never resolved to an address." : "; it resolved to \(h.answers.prefix(5).joined(separator: ", ")).")
            } else {
                finding = "No lookup of \(domain) is stored: it was reached without this network's DNS (a hard-coded name or another resolver)."
            }
            steps.append(InvestigationStep(question: "What is the DNS history of \(domain) on this network?", finding: finding,
                                           facts: ["lookups": Double(h.lookups), "devices": Double(h.devices),
                                                   "lead_seconds": h.first.map { (g.start - $0).seconds } ?? 0]))
        }

        // Did it try to administer other machines (the way an intruder spreads)?
        if !g.models.isDisjoint(with: ["lateral-movement", "brute-force", "scan"]) || g.tactics.contains("Lateral Movement") || g.tactics.contains("Credential Access") {
            let until = min(dataEnd, g.end + .seconds(86_400))
            if let found = try? query.contacts(device: device, ports: Array(Self.adminPorts.keys).sorted(), from: g.start - .seconds(3600), to: until, limit: 200) {
                let inside = found.filter { c in IPAddress(c.peer).map { ip in configuration.localNetworks.contains { $0.contains(ip) } } ?? false }
                let peers = Set(inside.map(\.peer))
                let answered = Set(inside.filter { $0.answered > 0 }.map(\.peer))
                let finding: String
                if inside.isEmpty {
                    finding = "\(device) opened no SSH, RPC, SMB, RDP, WinRM or VNC connection to an internal device from an hour before the incident to a day after it."
                } else {
                    let top = inside.prefix(5).map { "\($0.peer) (\(Self.adminPorts[$0.port] ?? String($0.port)) \($0.port), \($0.connections) connection(s)\($0.answered > 0 ? ", answered" : ", unanswered"))" }
                    finding = "\(device) opened administration connections to \(peers.count) internal device(s), \(answered.count) of which answered: \(top.joined(separator: "; "))\(inside.count > 5 ? "; …" : "")."
                }
                steps.append(InvestigationStep(question: "Which internal devices did \(device) try to administer (SSH, RPC, SMB, RDP, WinRM, VNC)?", finding: finding,
                                               facts: ["peers": Double(peers.count), "answered": Double(answered.count)]))
            }
        }

        // What did the devices it reached do next?
        if !g.reachedPeers.isEmpty {
            let active = g.reachedPeers.filter { g.devicesWithSignals.contains($0) }
            let finding = active.isEmpty
                ? "None of the \(g.reachedPeers.count) device(s) it reached (\(g.reachedPeers.prefix(6).joined(separator: ", "))) did anything unusual afterwards."
                : "\(active.count) of the \(g.reachedPeers.count) device(s) it reached then behaved unusually: \(active.joined(separator: ", ")); their breaches are part of this incident."
            steps.append(InvestigationStep(question: "Did the devices \(device) reached behave unusually afterwards?", finding: finding,
                                           facts: ["reached": Double(g.reachedPeers.count), "unusual_after": Double(active.count)]))
        }
        return (steps, more)
    }
}

extension String {
    var nonEmpty: String? { isEmpty ? nil : self }
}
