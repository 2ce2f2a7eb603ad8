import Foundation
import Testing
import VigilAnalyst
import VigilCore
import VigilStore
import VigilSim

@Suite struct AnalystTests {
    @Test func everyStagedAttackIsOneIncidentAndNoIncidentMixesTwo() throws {
        let office = try OfficeCase(devices: 24, days: 5, attacks: OfficeAttack.allCases, seed: 21)
        let result = office.investigate()
        #expect(office.labels.count == OfficeAttack.allCases.count)
        var owner: [String: String] = [:]  // breach id -> attack
        for l in office.labels {
            let mine = office.attackBreaches(l)
            #expect(!mine.isEmpty, "\(l.attack): no breach at 50+ on \(l.device)")
            for b in mine { owner[b.id] = l.attack }
            let holding = result.incidents.filter { i in mine.contains { i.breaches.contains($0.id) } }
            #expect(holding.count == 1, "\(l.attack) is spread over \(holding.map(\.title))")
        }
        for i in result.incidents {
            let attacks = Set(i.breaches.compactMap { owner[$0] })
            #expect(attacks.count <= 1, "\(i.title) mixes \(attacks)")
        }
        // Far fewer incidents than breaches, each written up.
        #expect(result.incidents.count <= office.labels.count + 1, "\(result.incidents.map(\.title))")
        #expect(result.signals >= 5 * result.incidents.count)
        for i in result.incidents {
            #expect(i.priority >= 50 && !i.narrative.isEmpty && !i.timeline.isEmpty && !i.tactics.isEmpty, "\(i)")
        }
    }

    @Test func theCampaignIsFollowedFromTheScannerToTheDeviceThatBeacons() throws {
        let office = try OfficeCase(devices: 24, days: 5, attacks: [.campaign], seed: 22)
        let result = office.investigate()
        let label = try #require(office.labels.first)
        let second = try #require(label.peers.first)
        let i = try #require(result.incidents.first { $0.devices.contains(label.device) }, "\(result.incidents.map(\.title))")
        #expect(i.devices.contains(second), "\(i.devices) lacks \(second); \(i.timeline.map { "\($0.source) \($0.device)" })")
        #expect(i.tactics.contains("Lateral Movement") && i.tactics.contains("Command and Control"), "\(i.tactics)")
        #expect(i.tactics.first.map { Attack.order(of: $0) } ?? 99 <= Attack.order(of: "Lateral Movement"))
        #expect(i.title.contains("then"), "\(i.title)")
        // The investigation asked who else talked to the beacon's destination and whether it goes on.
        #expect(i.steps.contains { $0.question.hasPrefix("Which other devices talked to") && $0.finding.hasPrefix("Only") }, "\(i.steps)")
        #expect(i.steps.contains { $0.question.hasPrefix("Did the devices") && $0.finding.contains(second) }, "\(i.steps)")
        // ...which machines the first device tried to administer (the one it moved to answered)...
        let admin = try #require(i.steps.first { $0.question.hasPrefix("Which internal devices did \(label.device) try to administer") }, "\(i.steps.map(\.question))")
        #expect(admin.finding.contains(second) && admin.finding.contains("answered"), "\(admin.finding)")
        #expect((admin.facts["answered"] ?? 0) >= 1)
        // ...and what the network's DNS knew of the C2 domain.
        if let dns = i.steps.first(where: { $0.question.hasPrefix("What is the DNS history of") }) {
            #expect(dns.finding.hasPrefix("First looked up at") || dns.finding.hasPrefix("No lookup"), "\(dns.finding)")
        }
        #expect(result.incidents.count == 1, "\(result.incidents.map(\.title))")
    }

    /// Devices that share the strongest signal's endpoint join the story; devices that share
    /// only a secondary destination (often a popular site the device also visited) are named
    /// in the investigation, not added to the incident.
    @Test func onlyTheStrongestEndpointPullsOtherDevicesIn() throws {
        let store = try SQLiteStore(path: try tempDir().appendingPathComponent("evidence.sqlite").path)
        let t0 = Timestamp(seconds: 1_733_000_000)
        let resolver = IPAddress("10.0.0.53")!
        func lookup(_ device: String, _ name: String, at s: Int64) throws {
            let id = ConnectionID(origHost: IPAddress(device)!, origPort: 40000, respHost: resolver, respPort: 53, proto: .udp)
            try store.consume(.dns(DNSRecord(ts: t0 + .seconds(s), uid: "C\(device)\(name)\(s)", id: id, query: name, qtype: 1, rcode: 0, answers: ["198.51.100.\(name.count)"])))
        }
        try lookup("10.0.0.1", "c2.evil.example", at: 10)
        try lookup("10.0.0.1", "news.example", at: 20)
        try lookup("10.0.0.4", "c2.evil.example", at: 30)   // the strongest endpoint: joins
        try lookup("10.0.0.2", "news.example", at: 40)      // a secondary one: noted only
        try lookup("10.0.0.3", "news.example", at: 50)
        try store.commit()
        let beacon = Breach(id: "B1", model: "beacon", device: "10.0.0.1", time: t0 + .seconds(600), first: t0 + .seconds(10),
                            last: t0 + .seconds(600), score: 90, surprisal: 30, reason: "regular callbacks to evil.example",
                            endpoints: ["evil.example"], techniques: ["T1071"])
        let rare = Breach(id: "B2", model: "rare-endpoint", device: "10.0.0.1", time: t0 + .seconds(300), first: t0 + .seconds(20),
                          last: t0 + .seconds(300), score: 55, surprisal: 8, reason: "first contact with news.example",
                          endpoints: ["news.example"], techniques: ["T1071"])
        let result = Analyst().investigate(breaches: [beacon, rare], query: store)
        let incident = try #require(result.incidents.first { $0.breaches.contains("B1") })
        #expect(incident.breaches.contains("B2"), "one device, one hour: one story")
        #expect(incident.devices.contains("10.0.0.4"))
        #expect(!incident.devices.contains("10.0.0.2") && !incident.devices.contains("10.0.0.3"))
        let noted = incident.steps.first { $0.question.contains("news.example") }
        #expect(noted?.finding.contains("noted, not added") == true, "\(incident.steps.map(\.finding))")
    }

    @Test func aCleanWeekWithBenignNoveltyOpensAtMostOneIncident() throws {
        let office = try OfficeCase(devices: 40, days: 7, attacks: [], seed: 23)
        let result = office.investigate()
        #expect(result.signals > 20)  // the learner did report things; the analyst kept them apart
        #expect(result.incidents.count <= 1, "\(result.incidents.map { "\($0.title): \($0.conclusion)" })")
    }

    @Test func theSameInputGivesTheSameIncidentsInAnyOrder() throws {
        let office = try OfficeCase(devices: 16, days: 3, attacks: [.beacon, .lateral, .scan], seed: 24)
        let a = office.investigate()
        let b = Analyst(directory: office.directory).investigate(breaches: office.breaches.reversed(), query: office.store)
        #expect(a.incidents.map(\.id) == b.incidents.map(\.id))
        #expect(a.incidents.map(\.narrative) == b.incidents.map(\.narrative))
    }
}
