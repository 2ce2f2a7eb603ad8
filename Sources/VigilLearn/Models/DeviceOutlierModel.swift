import Foundation
import VigilCore

/// The general multivariate model: each device-hour is a vector of behaviour — connections,
/// bytes each way, distinct peers and ports, failed share, DNS lookups — compared with the
/// device's own learned mean and spread per feature (decayed). The sum of squared upper
/// z-scores is read as a chi-square; its tail is the surprisal, and the reason names the
/// features that moved most.
public final class DeviceOutlierModel: LearningModel {
    public let name = "device-outlier"
    public let summary = "a device-hour unlike the device's own history across several features at once"
    static let features = ["connections", "bytes out", "bytes in", "distinct peers", "distinct ports", "failed share", "DNS lookups"]
    struct Device: Codable {
        @Packed var learned = [CompactMoments](repeating: CompactMoments(), count: 7)
        /// The same features by hour of day, used once that hour has been seen a few times.
        @Packed var byHour = [CompactMoments](repeating: CompactMoments(), count: 7 * 24)
        var hours = 0
    }
    var devices: BoundedTable<IPAddress, Device>

    public init(_ c: LearnConfiguration) { devices = BoundedTable(capacity: c.maxDevices) }

    public func hourEnded(_ hour: Int64, _ ctx: LearnContext) {
        let start = Timestamp(seconds: hour * 3600)
        let hod = Int(((hour % 24) + 24) % 24)
        // Each active device-hour with the moments it is judged against, taken before the update.
        struct Hour { var ip: IPAddress; var v: [Double]; var ref: [CompactMoments]; var conns, out, inb, peers: Double }
        var judged: [Hour] = []
        ctx.devices.forEach { ip, p in
            let a = p.hour
            let conns = a.started
            let v = [log1p(conns), log1p(a.startedSent), log1p(a.startedReceived), log1p(conns > 0 ? a.peers.estimate : 0),
                     log1p(conns > 0 ? a.ports.estimate : 0), conns > 0 ? a.failed / conns * 4 : 0, log1p(a.dns)]
            devices.update(ip, at: start, make: { Device() }) { d in
                if conns > 0, d.hours >= 24, d.byHour[hod * 7].n >= 2 {
                    let ref = (0..<7).map { i in d.byHour[hod * 7 + i].n >= 2 ? d.byHour[hod * 7 + i] : d.learned[i] }
                    judged.append(Hour(ip: ip, v: v, ref: ref, conns: conns, out: a.startedSent, inb: a.startedReceived, peers: a.peers.estimate))
                }
                for i in v.indices { d.learned[i].add(v[i], cap: 336); d.byHour[hod * 7 + i].add(v[i], cap: 14) }
                d.hours += 1
            }
        }
        let floors = [0.7, 1.2, 1.2, 0.6, 0.6, 0.5, 0.7]
        for h in judged {
            let ip = h.ip, v = h.v
            var chi = 0.0
            var moved: [(Int, Double)] = []
            for i in v.indices {
                let m = h.ref[i]
                let z = (v[i] - Double(m.mean)) / max(Double(m.variance).squareRoot(), floors[i])
                if z > 0 { chi += z * z; moved.append((i, z)) }
            }
            let x = ChiSquare.tailBits(chi, dof: v.count)
            guard x > 6 else { ctx.pass(name, surprisal: x, device: ip); continue }
            moved.sort { $0.1 > $1.1 }
            ctx.judge(name, surprisal: x, device: ip, subject: "hour", at: start + .seconds(3599), needsHistory: true) {
                let top = moved.prefix(3).map { "\(DeviceOutlierModel.features[$0.0]) \(String(format: "%.1f", $0.1))σ above normal" }
                return BreachDraft(
                    reason: "\(ctx.label(ip)) behaved unlike itself in the hour from \(start.iso8601): \(top.joined(separator: ", ")) (\(Int(h.conns)) connections to \(Int(h.peers.rounded())) peers, \(Bytes.human(h.out)) out, \(Bytes.human(h.inb)) in)",
                    first: start, last: start + .seconds(3599), techniques: [],
                    facts: ["chiSquare": chi, "connections": h.conns, "bytesOut": h.out, "bytesIn": h.inb],
                    scope: BreachScope(direction: .outbound))
            }
        }
    }

    public func encodeState(_ e: JSONEncoder) throws -> Data { try e.encode(devices) }
    public func decodeState(_ d: JSONDecoder, _ data: Data) throws { devices = try d.decode(BoundedTable<IPAddress, Device>.self, from: data) }
}

/// Chi-square upper tail, in bits, via the Wilson-Hilferty cube-root normal approximation.
public enum ChiSquare {
    public static func tailBits(_ x: Double, dof k: Int) -> Double {
        guard x > 0 else { return 0 }
        let kk = Double(k)
        let z = (pow(x / kk, 1.0 / 3) - (1 - 2 / (9 * kk))) / (2 / (9 * kk)).squareRoot()
        return z > 0 ? Stats.normalTailBits(z) : 0
    }
}
