import Foundation
import Testing
@testable import VigilLearn
import VigilCore
import VigilSim
import VigilWire

/// Simulated office traffic, decoded by the real packet engine, learned by the real learner.
func learnOffice(devices: Int, days: Int, attacks: [OfficeAttack], seed: UInt64 = 3,
                 configure: (inout LearnConfiguration) -> Void = { _ in },
                 split: Double? = nil) throws -> (breaches: [Breach], labels: [AttackLabel], learner: Learner, observations: [Observation]) {
    var c = OfficeConfiguration()
    c.devices = devices; c.days = days; c.attacks = attacks; c.seed = seed
    let sim = OfficeSimulator(c)
    let engine = PacketEngine(configuration: WireConfiguration())
    var obs: [Observation] = []
    sim.run { ts, frame in
        engine.process(frame, link: .ethernet, at: ts)
        obs += engine.output
        engine.output.removeAll(keepingCapacity: true)
    }
    engine.finish()
    obs += engine.output
    var lc = LearnConfiguration()
    configure(&lc)
    let learner = Learner(configuration: lc)
    var breaches: [Breach] = []
    for o in obs { learner.observe(o) }
    learner.finish()
    breaches += learner.drainBreaches()
    return (latest(breaches), sim.labels, learner, obs)
}

func latest(_ bs: [Breach]) -> [Breach] { Breach.latestVersions(bs) }

@Suite struct LearnerTests {
    @Test func findsEveryStagedAttackInASimulatedWeekWithAReason() throws {
        let r = try learnOffice(devices: 16, days: 3, attacks: OfficeAttack.allCases)
        let expect: [String: Set<String>] = ["beacon": ["beacon"], "exfiltration": ["exfiltration", "volume"], "scan": ["scan"],
                                             "bruteforce": ["brute-force"], "lateral": ["lateral-movement"], "dnstunnel": ["dns-tunnel"], "dga": ["dga"],
                                             "campaign": ["scan", "lateral-movement"], "webscan": ["web-probe"]]
        #expect(r.labels.count == OfficeAttack.allCases.count)
        for l in r.labels {
            let hit = r.breaches.first { $0.device == l.device && expect[l.attack]!.contains($0.model) && $0.score >= 50 }
            #expect(hit != nil, "\(l.attack) on \(l.device) not found; breaches: \(r.breaches.map { "\($0.model) \($0.device) \(Int($0.score))" })")
            if let hit { #expect(hit.reason.contains(l.device) && hit.reason.count > 60, "\(hit.reason)") }
            // What a web scan found is named: the guessed paths the server answered.
            if l.attack == "webscan", let hit { #expect(hit.reason.contains("succeeded after the probing began (GET /"), "\(hit.reason)") }
        }
    }

    @Test func cleanWeekWithBenignNoveltyStaysUnderTheBudget() throws {
        let r = try learnOffice(devices: 24, days: 5, attacks: [], seed: 5)
        let high = r.breaches.filter { $0.score >= 50 }
        let days = r.learner.context.deviceDays
        #expect(days > 80)
        #expect(Double(high.count) / days <= 0.1, "\(high.map { "\($0.model): \($0.reason)" })")
        // The new laptop and the new update server are novelty, not attacks.
        #expect(!high.contains { $0.reason.contains("update2.vendor.example") })
    }

    @Test func aSnapshotContinuesTheSameBaseline() throws {
        let whole = try learnOffice(devices: 10, days: 3, attacks: [.scan, .bruteforce], seed: 8)
        let obs = whole.observations
        let cut = obs.count / 2
        let first = Learner()
        for o in obs[..<cut] { first.observe(o) }
        var breaches = first.drainBreaches()
        let saved = try first.snapshot()
        let second = Learner()
        try second.restore(saved)
        for o in obs[cut...] { second.observe(o) }
        second.finish()
        breaches += second.drainBreaches()
        let a = latest(breaches).map { "\($0.id) \($0.model) \($0.device) \(Int($0.score))" }
        let b = whole.breaches.map { "\($0.id) \($0.model) \($0.device) \(Int($0.score))" }
        #expect(a == b)
        #expect(second.context.deviceCount == whole.learner.context.deviceCount)
    }

    @Test func aDamagedSnapshotIsRefusedWithAClearError() throws {
        let l = Learner()
        #expect(throws: VigilError.self) { try l.restore(Data("{\"version\":1,\"context\":".utf8)) }
    }

    @Test func devicesAreNamedFromDHCPAndReverseLookups() {
        let l = Learner()
        let dev = IPAddress("10.1.2.3")!, other = IPAddress("10.1.2.4")!
        let t = Timestamp(seconds: 1_700_000_000)
        for (i, ip) in [dev, other].enumerated() {
            let id = ConnectionID(origHost: ip, origPort: 40000, respHost: IPAddress("8.8.8.8")!, respPort: 53, proto: .udp)
            l.observe(.conn(ConnRecord(ts: t + .seconds(Int64(i)), uid: "C\(i)", id: id, connState: "SF")))
        }
        l.observe(.dhcp(DHCPRecord(ts: t + .seconds(5), uids: [], mac: nil, hostName: "laptop-7", assignedAddr: dev, msgTypes: ["ACK"])))
        let q = ConnectionID(origHost: dev, origPort: 40001, respHost: IPAddress("10.1.0.1")!, respPort: 53, proto: .udp)
        l.observe(.dns(DNSRecord(ts: t + .seconds(6), uid: "C9", id: q, query: "4.2.1.10.in-addr.arpa", qtype: 12, rcode: 0, answers: ["printer-2.corp.example."])))
        #expect(l.context.deviceName(dev) == "laptop-7")
        #expect(l.context.deviceName(other) == "printer-2.corp.example")
    }

    @Test func aBeaconHoppingBetweenAddressesIsFoundByItsName() {
        var c = LearnConfiguration()
        c.baseline = .seconds(0)
        let l = Learner(configuration: c)
        var rng = SplitMix64(seed: 9)
        let dev = IPAddress("10.0.0.5")!
        var t = Timestamp(seconds: 1_700_000_000)
        for i in 0..<200 {
            let ip = IPAddress(v4: 0xCB00_7100 | UInt32(1 + i % 4))   // 203.0.113.1-4, one per call
            let id = ConnectionID(origHost: dev, origPort: UInt16(40000 + i), respHost: ip, respPort: 443, proto: .tcp)
            l.observe(.tls(TLSRecord(ts: t, uid: "C\(i)", id: id, serverName: "sync.cdn-c2.example", established: true)))
            l.observe(.conn(ConnRecord(ts: t, uid: "C\(i)", id: id, duration: .milliseconds(200), origBytes: 310, respBytes: 120, connState: "SF")))
            t = t + Duration(nanoseconds: Int64((300 * (0.9 + 0.2 * rng.unit())) * 1e9))
        }
        l.finish()
        let b = latest(l.drainBreaches()).filter { $0.model == "beacon" }
        #expect(b.contains { $0.reason.contains("sync.cdn-c2.example (4 addresses)") && $0.score >= 50 }, "\(b.map(\.reason))")
    }

    @Test func aFloodOfSpoofedDevicesStaysBounded() {
        var c = LearnConfiguration()
        c.maxDevices = 500
        let l = Learner(configuration: c)
        for i in 0..<20_000 {
            let id = ConnectionID(origHost: IPAddress(v4: 0x0A00_0000 | UInt32(i)), origPort: 40000, respHost: IPAddress(v4: 0x0808_0808), respPort: 53, proto: .udp)
            l.observe(.conn(ConnRecord(ts: Timestamp(seconds: 1_700_000_000 + Int64(i)), uid: "C\(i)", id: id, connState: "S0")))
        }
        #expect(l.context.deviceCount <= 500)
        #expect(l.context.devices.evicted > 0)
    }
}

@Suite struct ModelPieceTests {
    func pair(_ starts: [Double]) -> BeaconModel.Pair {
        var p = BeaconModel.Pair(device: .unspecified, orig: .unspecified, resp: .unspecified, label: "x", first: .zero, last: .zero)
        p.starts = starts; p.sizes = starts.map { _ in 400 }; p.count = starts.count
        return p
    }

    @Test func regularCallbacksAreFarMoreSurprisingThanRandomTraffic() {
        var rng = SplitMix64(seed: 4)
        var t = 0.0, regular: [Double] = [], random: [Double] = []
        for _ in 0..<64 { t += 300 * (0.85 + 0.3 * rng.unit()); regular.append(t) }
        t = 0
        for _ in 0..<64 { t += -300 * log(max(1e-9, 1 - rng.unit())); random.append(t) }
        let r = BeaconModel.regularity(pair(regular))!, n = BeaconModel.regularity(pair(random))!
        #expect(r.bits > 30)
        #expect(n.bits < 5)
        #expect(abs(r.period - 300) < 30)
    }

    @Test func missedBeatsDoNotHideABeacon() {
        var starts: [Double] = [], t = 0.0
        for i in 0..<64 { t += i % 9 == 4 ? 120 : 60; starts.append(t) }
        let r = BeaconModel.regularity(pair(starts))!
        #expect(r.bits > 30 && abs(r.period - 60) < 1)
    }

    @Test func calibratedScoreIsHighForANeverSeenSurpriseAndDropsWhenCommon() {
        var c = Calibrator()
        let first = c.score(30, deviceDays: 10, budget: 0.01)
        for _ in 0..<2000 { c.record(31) }
        let later = c.score(30, deviceDays: 10, budget: 0.01)
        #expect(first >= 90)
        #expect(later < 30)
        #expect(c.score(1, deviceDays: 10, budget: 0.01) < 10)
    }

    @Test(arguments: [true, false])
    func aNoisyPeerGroupIsCalibratedAmongItselfNotAgainstTheQuietOnes(byGroup: Bool) {
        var c = LearnConfiguration()
        c.peerGroupCalibration = byGroup
        let ctx = LearnContext(configuration: c)
        let t = Timestamp(seconds: 1_700_000_000)
        let laptop = IPAddress("10.0.0.5")!, server = IPAddress("10.0.1.5")!
        for (ip, g) in [(laptop, 1), (server, 2)] {
            ctx.devices.update(ip, at: t, make: { DeviceProfile(at: t) }) { $0.group = g }
        }
        // Laptops are often this surprised; servers never are.
        for _ in 0..<400 { ctx.pass("m", surprisal: 20, device: laptop); ctx.pass("m", surprisal: 1, device: server) }
        let a = ctx.judge("m", surprisal: 20, device: laptop, subject: "x", at: t, needsHistory: false) { BreachDraft(reason: "", first: t, last: t) }
        let b = ctx.judge("m", surprisal: 20, device: server, subject: "y", at: t, needsHistory: false) { BreachDraft(reason: "", first: t, last: t) }
        if byGroup {
            #expect(b > a + 20, "laptop \(a), server \(b)")
        } else {
            // Against the whole network alone, the same surprise scores the same on both.
            #expect(abs(b - a) < 1, "laptop \(a), server \(b)")
        }
    }

    /// A repeat within the cooldown is the same breach; marks of breaches long closed are
    /// forgotten, so they do not pile up in the state, and a much later repeat is a new breach.
    @Test func breachMarksLastTheCooldownAndAreThenForgotten() {
        let ctx = LearnContext(configuration: LearnConfiguration())
        let device = IPAddress("10.0.0.5")!
        let t0 = Timestamp(seconds: 1_700_000_000)
        func judge(at t: Timestamp, _ x: Double) -> String? {
            ctx.now = max(ctx.now, t)
            ctx.judge("m", surprisal: x, device: device, subject: "s", at: t, needsHistory: false) { BreachDraft(reason: "r", first: t, last: t) }
            return ctx.breaches.last?.id
        }
        let first = judge(at: t0, 60)
        #expect(first != nil)
        #expect(judge(at: t0 + .seconds(3 * 3600), 90) == first, "a stronger repeat within the cooldown updates the breach")
        ctx.now = t0 + .seconds(3 * 86_400)
        ctx.forgetClosedBreaches()
        #expect(ctx.reported.count == 1, "kept while a model may still judge the series")
        ctx.now = t0 + .seconds(5 * 86_400)
        ctx.forgetClosedBreaches()
        #expect(ctx.reported.count == 0)
        let later = judge(at: ctx.now, 90)
        #expect(later != nil && later != first)
    }

    @Test func boundedTableEvictsTheColdestAndCountsThem() {
        var t = BoundedTable<Int, Int>(capacity: 64)
        for i in 0..<1000 { t.update(i, at: Timestamp(seconds: Int64(i)), make: { 0 }) { $0 += 1 } }
        #expect(t.count <= 64)
        #expect(t.evicted >= 936)
        #expect(t[999] == 1 && t[0] == nil)
    }

    /// The open-addressed table against a plain dictionary over random inserts, updates, removals
    /// and evictions, with keys that share many low bits; then through a snapshot and back.
    @Test func boundedTableAgreesWithADictionary() throws {
        var t = BoundedTable<IPAddress, Int>(capacity: 512)
        var model: [IPAddress: (value: Int, touched: Int64)] = [:]
        var rng = SystemRandomNumberGenerator()
        for step in 0..<20_000 {
            let ip = IPAddress(v4: 0x0A00_0000 | UInt32.random(in: 0..<900, using: &rng) << 8)
            let now = Int64(step)
            switch Int.random(in: 0..<10, using: &rng) {
            case 0:
                t.removeAll { k, _ in k.v4 & 0x300 == 0x100 }
                model = model.filter { $0.key.v4 & 0x300 != 0x100 }
            case 1, 2:
                #expect(t[ip] == model[ip]?.value)
                #expect(t.peek(ip, { $0.pointee }) == model[ip]?.value)
                #expect(t.contains(ip) == (model[ip] != nil))
            default:
                if model[ip] == nil, model.count >= 512 {
                    // The coldest eighth goes, oldest touch first (touches are unique here).
                    let cold = model.sorted { $0.value.touched < $1.value.touched }.prefix(64).map(\.key)
                    for k in cold { model[k] = nil }
                }
                let v = t.update(ip, at: Timestamp(nanoseconds: now), make: { 0 }) { v -> Int in v += 1; return v }
                model[ip] = (v, now)
            }
            #expect(t.count == model.count)
        }
        let back = try JSONDecoder().decode(BoundedTable<IPAddress, Int>.self, from: JSONEncoder().encode(t))
        #expect(back.count == t.count)
        for (k, v) in model { #expect(back[k] == v.value) }
        var order: [IPAddress] = []
        back.forEach { k, _ in order.append(k) }
        var original: [IPAddress] = []
        t.forEach { k, _ in original.append(k) }
        #expect(order == original, "a snapshot keeps the table's order")
        var emptied = back
        let taken = emptied.removeAllTaking()
        #expect(emptied.count == 0 && emptied[original[0]] == nil && taken.count == original.count)
        var takenOrder: [IPAddress] = []
        taken.forEach { k, _ in takenOrder.append(k) }
        #expect(takenOrder == original)
        emptied.update(original[0], at: Timestamp(seconds: 1), make: { 7 }) { _ in }
        #expect(emptied[original[0]] == 7 && emptied.count == 1, "an emptied table takes keys again")
    }

    /// Text hashes are FNV-1a and a final mix, the same in every run (saved sketches depend on
    /// them), and the folded hash is the hash of the lower-cased text.
    @Test func textHashesAreStableFNV() {
        for text in ["", "a", "example.com", "Mixed.Case.EXAMPLE.org", String(repeating: "long-label.", count: 30), "naïve.example"] {
            var h: UInt64 = 0xCBF2_9CE4_8422_2325
            for b in text.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
            #expect(Stats.hash(text) == Stats.mix(h), "\(text)")
            #expect(Stats.hashFolded(text) == Stats.hash(String(decoding: text.utf8.map { $0 >= 65 && $0 <= 90 ? $0 | 0x20 : $0 }, as: UTF8.self)))
        }
        // A substring's own storage is hashed from its bytes too.
        let sub = "xx.Example.com".dropFirst(3)
        #expect(Stats.hash(String(sub)) == Stats.hash("Example.com"))
    }

    @Test func zonesAndSubdomains() {
        #expect(Domains.zone("a.b.Example.COM.") == "example.com")
        #expect(Domains.zone("x.y.example.co.uk") == "example.co.uk")
        #expect(lowerCasedSubdomain("abc.def.Example.com", zone: "example.com") == "abc.def")
        #expect(Domains.subdomainShape("abc.def.example.com.", zone: "example.com").length == 7)
        #expect(Domains.zone("7.0.20.10.IN-ADDR.arpa.") == "20.10.in-addr.arpa")
        #expect(Domains.zone("localhost") == "localhost")
        #expect(Domains.zone("...") == nil)
        #expect(Domains.zone("www.example.com.au") == "example.com.au")
        #expect(Domains.zone("www.example.cx.au") == "cx.au", "cx is not a registry's second level")
        #expect(Domains.zone("a.b.c.d.e.f.averyveryverylongzone.example") == "averyveryverylongzone.example")
        #expect(Domains.isReverseOrLocal("10.in-addr.arpa") && Domains.isReverseOrLocal("printer.local"))
        #expect(!Domains.isReverseOrLocal("arpa.example.com") && !Domains.isReverseOrLocal("local"))
        #expect(Domains.firstLabel("example.com") == "example" && Domains.firstLabel("localhost") == "localhost")
    }

    /// The reference: the lower-cased name without trailing dots, its zone cut off.
    func lowerCasedSubdomain(_ name: String, zone: String) -> Substring {
        var n = Substring(name.lowercased())
        while n.utf8.last == UInt8(ascii: ".") { n = n.dropLast() }
        guard n.utf8.count > zone.utf8.count + 1 else { return "" }
        return Substring(n.utf8.dropLast(zone.utf8.count + 1))
    }

    /// The shape the DNS tunnel model reads (length and case-folded entropy of the subdomain)
    /// equals what the lower-cased subdomain gives, on random ASCII names.
    @Test func subdomainShapeMatchesTheLowerCasedSubdomain() {
        let alphabet = Array("abcXYZ0189-_q.".utf8)
        for _ in 0..<2_000 {
            let n = Int.random(in: 0..<40)
            let prefix = String(decoding: (0..<n).map { _ in alphabet.randomElement()! }, as: UTF8.self)
            let name = prefix + (Bool.random() ? ".Example.COM" : ".example.com.")
            guard let zone = Domains.zone(name) else { continue }
            let sub = lowerCasedSubdomain(name, zone: zone)
            let shape = Domains.subdomainShape(name, zone: zone)
            #expect(shape.length == sub.utf8.count, "\(name)")
            #expect(shape.entropy == (sub.isEmpty ? 0 : Stats.entropy(sub.utf8)), "\(name)")
            // And against the textbook formula over all 256 byte values.
            var counts = [Int](repeating: 0, count: 256)
            for b in sub.utf8 { counts[Int(b)] += 1 }
            var h = 0.0
            for c in counts where c > 0 { let p = Double(c) / Double(sub.utf8.count); h -= p * log2(p) }
            #expect(shape.entropy == h, "\(name)")
        }
    }

    @Test func hyperLogLogCountsDistinctWithinItsError() {
        var h = HyperLogLog(p: 8)
        for i in 0..<5000 { h.insert(hash: UInt64(i)) }
        #expect(abs(h.estimate - 5000) / 5000 < 0.2)
    }
}
