import Foundation
import VigilCore

/// DNS used as a tunnel: one device asking one zone for many distinct, long, high-entropy
/// subdomains, or for many TXT/NULL records. Judged each hour (and as soon as counts cross
/// 64, 256, 1024 distinct names) against the network's own learned distribution of query
/// names, which starts from a broad prior and keeps adapting.
public final class DNSTunnelModel: LearningModel {
    public let name = "dns-tunnel"
    public let summary = "many distinct long, random-looking subdomains or TXT/NULL queries to one zone from one device"
    struct Zone: Codable {
        var device: IPAddress
        var zone: String
        var names = HyperLogLog(p: 8)
        var queries = 0.0
        var lengthSum = 0.0
        var entropySum = 0.0
        var textual = 0.0
        var first: Timestamp
        var last: Timestamp
        var nextAlarm = 64.0
    }
    struct ZoneKey: TableKey { var device: IPAddress; var zone: String }
    struct State: Codable {
        var zones: BoundedTable<ZoneKey, Zone>
        /// Network-wide: subdomain length and entropy per query; distinct names per device-zone-hour.
        var length = CompactMoments(), entropy = CompactMoments(), perHour = CompactMoments()
    }
    var s: State

    public init(_ c: LearnConfiguration) {
        s = State(zones: BoundedTable(capacity: c.maxPairs / 2))
        // A broad prior: short human-chosen labels, a few names per zone and hour.
        for _ in 0..<20 { s.length.add(10, cap: 5000); s.entropy.add(2.8, cap: 5000); s.perHour.add(log1p(3), cap: 2000) }
        s.length.variance = 36; s.entropy.variance = 0.36; s.perHour.variance = 1
    }

    public func dns(_ r: DNSRecord, device: IPAddress, _ ctx: LearnContext) {
        guard let q = r.query, let zone = ctx.queryZone, !Domains.isReverseOrLocal(zone) else { return }
        let shape = Domains.subdomainShape(q, zone: zone)
        let len = Double(shape.length), ent = shape.entropy
        let textual = r.qtype == 16 || r.qtype == 10 || r.qtype == 0xFF
        let key = ZoneKey(device: device, zone: zone)
        let alarm = s.zones.update(key, at: r.ts, make: { Zone(device: device, zone: zone, first: r.ts, last: r.ts) }) { z -> Bool in
            let grew = z.names.insert(hash: Stats.hashFolded(q))
            z.queries += 1; z.lengthSum += len; z.entropySum += ent
            if textual { z.textual += 1 }
            z.last = max(z.last, r.ts)
            // The estimate walks all 256 registers. Below 57 names it cannot reach the first
            // alarm (64): with n names at least 256 - n registers are zero, and linear counting
            // gives at most 256 ln(256 / (256 - n)), 63.2 at n = 56. Queries bound the names.
            if grew, z.queries >= 57, z.names.refresh() >= z.nextAlarm { z.nextAlarm *= 4; return true }
            return false
        }
        if alarm, let z = s.zones[key] { judge(z, ctx, final: false) }
    }

    public func hourEnded(_ hour: Int64, _ ctx: LearnContext) {
        // Per-zone state lives for one hour; what carries over is the network's distribution.
        s.zones.removeAllTaking().forEach { _, z in judge(z, ctx, final: true) }
    }

    /// Judges a zone's hour so far; `final` at the end of the hour, when the network's
    /// distribution learns from it (the zone itself is then dropped).
    func judge(_ z: Zone, _ ctx: LearnContext, final: Bool) {
        guard z.queries > 0 else { return }
        let distinct = max(1, z.names.estimate.rounded())
        let meanLen = z.lengthSum / z.queries, meanEnt = z.entropySum / z.queries
        let xCount = s.perHour.upperSurprisal(log1p(distinct), minStd: 0.8)
        let xLen = s.length.upperSurprisal(meanLen, minStd: 4)
        let xEnt = s.entropy.upperSurprisal(meanEnt, minStd: 0.4)
        let textShare = z.textual / z.queries
        // Many names is the tunnel's signature; length/entropy and TXT use make it sharper.
        var x = xCount * (1 + min(1, (xLen + xEnt) / 8)) + (textShare > 0.5 && z.queries >= 20 ? 4 : 0)
        if distinct < 20 { x = min(x, 3) }
        if final {
            s.perHour.add(log1p(distinct), cap: 2000)
            s.length.add(meanLen, cap: 5000)
            s.entropy.add(meanEnt, cap: 5000)
        }
        guard x > 5 else { if final { ctx.pass(name, surprisal: x, device: z.device) }; return }
        ctx.judge(name, surprisal: x, device: z.device, subject: z.zone, at: z.last, needsHistory: false) {
            BreachDraft(
                reason: "\(ctx.label(z.device)) asked \(Int(distinct)) distinct names under \(z.zone) (\(Int(z.queries)) queries) within the hour, subdomains \(String(format: "%.0f", meanLen)) characters long with \(String(format: "%.1f", meanEnt)) bits/char entropy on average, \(Int((textShare * 100).rounded()))% TXT/NULL; a device-zone-hour on this network usually has about \(Int(expm1(Double(s.perHour.mean)).rounded())) names",
                first: z.first, last: z.last, endpoints: [z.zone], techniques: ["T1071.004", "T1048"],
                facts: ["distinctNames": distinct, "queries": z.queries, "meanLength": meanLen, "meanEntropy": meanEnt, "textShare": textShare],
                scope: BreachScope(direction: .outbound, zone: z.zone))
        }
    }

    public func encodeState(_ e: JSONEncoder) throws -> Data { try e.encode(s) }
    public func decodeState(_ d: JSONDecoder, _ data: Data) throws { s = try d.decode(State.self, from: data) }
}
