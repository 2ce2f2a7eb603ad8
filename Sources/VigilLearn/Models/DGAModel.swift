import Foundation
import VigilCore

/// Domain-generation algorithms: a device failing to resolve (NXDOMAIN) many distinct zones
/// whose names look unlike the zones this network uses (longer, higher entropy, more
/// digits). Judged per device-hour against the learned rate of NXDOMAIN zones per device-hour.
public final class DGAModel: LearningModel {
    public let name = "dga"
    public let summary = "many failed lookups of random-looking domains from one device"
    struct Hour: Codable {
        var zones = HyperLogLog(p: 6)
        var failures = 0.0
        var oddness = 0.0
        var examples: [String] = []
        var first = Timestamp.zero, last = Timestamp.zero
    }
    struct State: Codable {
        var devices: BoundedTable<IPAddress, Hour>
        var perHour = CompactMoments()
        var labelLength = CompactMoments(), labelEntropy = CompactMoments()
    }
    var s: State

    public init(_ c: LearnConfiguration) {
        s = State(devices: BoundedTable(capacity: c.maxDevices))
        for _ in 0..<10 { s.perHour.add(log1p(1), cap: 5000); s.labelLength.add(8, cap: 20000); s.labelEntropy.add(2.6, cap: 20000) }
        s.perHour.variance = 0.5; s.labelLength.variance = 9; s.labelEntropy.variance = 0.25
    }

    public func dns(_ r: DNSRecord, device: IPAddress, _ ctx: LearnContext) {
        guard r.query != nil, let zone = ctx.queryZone, !Domains.isReverseOrLocal(zone) else { return }
        let label = Domains.firstLabel(zone)
        let len = Double(label.utf8.count), ent = Stats.entropy(label.utf8)
        var digitCount = 0
        for b in label.utf8 where b >= 48 && b <= 57 { digitCount += 1 }
        let digits = Double(digitCount) / max(1, len)
        let odd = s.labelLength.upperSurprisal(len, minStd: 2) + s.labelEntropy.upperSurprisal(ent, minStd: 0.3) + (digits > 0.3 ? 2 : 0)
        if r.rcode == 3 {
            s.devices.update(device, at: r.ts, make: { Hour() }) { h in
                h.zones.insert(hash: Stats.hash(zone))
                h.failures += 1
                h.oddness += odd
                if h.examples.count < 5, !h.examples.contains(zone) { h.examples.append(zone) }
                if h.first == .zero { h.first = r.ts }
                h.last = max(h.last, r.ts)
            }
        } else if r.rcode == 0 {
            s.labelLength.add(len, cap: 20000); s.labelEntropy.add(ent, cap: 20000)
        }
    }

    public func hourEnded(_ hour: Int64, _ ctx: LearnContext) {
        var done: [(IPAddress, Hour)] = []
        s.devices.mutateAll { ip, h in if h.failures > 0 { done.append((ip, h)) }; h = Hour() }
        for (ip, h) in done {
            let zones = max(1, h.zones.estimate.rounded())
            let meanOdd = h.oddness / max(1, h.failures)
            let xCount = Stats.poissonTailBits(zones, lambda: expm1(Double(s.perHour.mean)) + 1)
            s.perHour.add(log1p(zones), cap: 5000)
            var x = xCount * (0.5 + min(1.5, meanOdd / 4))
            if zones < 8 { x = min(x, 3) }
            guard x > 5 else { ctx.pass(name, surprisal: x, device: ip); continue }
            ctx.judge(name, surprisal: x, device: ip, subject: "nxdomain", at: h.last, needsHistory: false) {
                BreachDraft(
                    reason: "\(ctx.label(ip)) failed to resolve \(Int(zones)) distinct domains in an hour (\(Int(h.failures)) NXDOMAIN answers), e.g. \(h.examples.joined(separator: ", ")); names \(meanOdd > 2 ? "unlike" : "like") those this network resolves; a device usually has about \(Int(expm1(Double(s.perHour.mean)).rounded())) per hour",
                    first: h.first, last: h.last, endpoints: h.examples, techniques: ["T1568.002"],
                    facts: ["zones": zones, "failures": h.failures, "oddness": meanOdd],
                    scope: BreachScope(direction: .outbound, ports: [53]))
            }
        }
    }

    public func encodeState(_ e: JSONEncoder) throws -> Data { try e.encode(s) }
    public func decodeState(_ d: JSONDecoder, _ data: Data) throws { s = try d.decode(State.self, from: data) }
}
