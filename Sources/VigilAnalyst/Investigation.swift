import VigilCore

/// Runs the follow-up questions for one incident and records each as a step.
struct Investigator {
    let query: any EvidenceQuery

    /// Questions and findings, and devices found to be part of the story.
    func investigate(_ g: GroupFacts) -> (steps: [InvestigationStep], moreDevices: [String]) {
        var steps: [InvestigationStep] = []
        var more: [String] = []
        let dataEnd = (try? query.lastObservationTime()) ?? g.end
        let device = g.devices.first ?? ""

        // Who else talked to the endpoints at the heart of it?
        for e in g.subjectEndpoints.prefix(3) {
            guard let others = try? query.devicesContacting(e, from: g.start - .seconds(7 * 86_400), to: dataEnd, limit: 50) else { continue }
            let extra = others.filter { !g.devices.contains($0) }
            let finding: String
            if extra.isEmpty {
                finding = "Only \(g.devices.filter { others.contains($0) }.joined(separator: ", ").nonEmpty ?? device) talked to \(e) in the stored traffic."
            } else if extra.count <= 5 {
                finding = "\(extra.count) more device(s) talked to \(e): \(extra.joined(separator: ", ")); they are added to this incident."
                more += extra.filter { !more.contains($0) }
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
