import Foundation
import VigilCore

/// Bytes a device sends and receives in each hour, against what it moves in that hour of the
/// week (and, while the week is young, that hour of the day). Learned in log space so a
/// tenfold rise counts the same for a thermostat and a file server.
public final class VolumeModel: LearningModel {
    public let name = "volume"
    public let summary = "outbound or inbound bytes in an hour far above the device's normal for that hour of the week"
    struct Device: Codable {
        @Packed var week = [CompactMoments](repeating: CompactMoments(), count: 168 * 2)
        @Packed var day = [CompactMoments](repeating: CompactMoments(), count: 24 * 2)
    }
    var devices: BoundedTable<IPAddress, Device>
    let offset: Int

    public init(_ c: LearnConfiguration) { devices = BoundedTable(capacity: c.maxDevices); offset = c.utcOffsetHours }

    public func hourEnded(_ hour: Int64, _ ctx: LearnContext) {
        let start = Timestamp(seconds: hour * 3600)
        let how = LearnClock.hourOfWeek(start, offsetHours: offset)
        let hod = how % 24
        // Each device's bytes this hour (counted by the learner) against what had been learned
        // for this hour, taken before the update.
        struct Hour { var ip: IPAddress; var sent, received: Double; var peers: Uploads; var week, day: [CompactMoments] }
        var judged: [Hour] = []
        ctx.devices.forEach { ip, p in
            let a = p.hour
            devices.update(ip, at: start, make: { Device() }) { d in
                if a.sent > 0 || a.received > 0 {
                    judged.append(Hour(ip: ip, sent: a.sent, received: a.received, peers: a.uploads,
                                       week: [d.week[how * 2], d.week[how * 2 + 1]], day: [d.day[hod * 2], d.day[hod * 2 + 1]]))
                }
                let sent = log1p(a.sent), received = log1p(a.received)
                d.week[how * 2].add(sent, cap: 6); d.week[how * 2 + 1].add(received, cap: 6)
                d.day[hod * 2].add(sent, cap: 14); d.day[hod * 2 + 1].add(received, cap: 14)
            }
        }
        for d in judged {
            let ip = d.ip
            for (dir, v) in [(0, d.sent), (1, d.received)] where v > 0 {
                let w = d.week[dir], dd = d.day[dir]
                let ref = w.n >= 2 ? w : dd
                guard ref.n >= 3 || (w.n >= 2) else { continue }
                guard v >= 2_000_000 else { ctx.pass(name, surprisal: 0, device: ip); continue }
                let x = ref.upperSurprisal(log1p(v), minStd: 1.0)
                guard x > 4 else { ctx.pass(name, surprisal: x, device: ip); continue }
                let usual = expm1(Double(ref.mean))
                let word = dir == 0 ? "sent" : "received"
                let top = d.peers.largest.prefix(3).map(\.key)
                ctx.judge(name, surprisal: x, device: ip, subject: "\(word)", at: start + .seconds(3599), needsHistory: true) {
                    BreachDraft(
                        reason: "\(ctx.label(ip)) \(word) \(Bytes.human(v)) in the hour from \(start.iso8601); at this hour it usually moves about \(Bytes.human(usual)) (learned over \(Int(ref.n)) hours)\(dir == 0 && !top.isEmpty ? ", mostly to " + top.joined(separator: ", ") : "")",
                        first: start, last: start + .seconds(3599), endpoints: dir == 0 ? top : [], techniques: dir == 0 ? ["T1048"] : ["T1105"],
                        facts: ["bytes": v, "usualBytes": usual, "hourOfWeek": Double(how)],
                        scope: BreachScope(direction: dir == 0 ? .outbound : .inbound))
                }
            }
        }
    }

    public func encodeState(_ e: JSONEncoder) throws -> Data { try e.encode(devices) }
    public func decodeState(_ d: JSONDecoder, _ data: Data) throws { devices = try d.decode(BoundedTable<IPAddress, Device>.self, from: data) }
}

extension VolumeModel {
    /// The bytes a device usually sends and receives in each hour of the week, and how many
    /// weeks each hour was learned from (168 entries each); nil for a device never judged.
    func usual(_ ip: IPAddress) -> (sent: [Double], received: [Double], weeks: [Int])? {
        devices.peek(ip) { p in
            let d = p.pointee
            var sent = [Double](repeating: 0, count: 168), received = sent, weeks = [Int](repeating: 0, count: 168)
            for h in 0..<168 {
                let s = d.week[h * 2], r = d.week[h * 2 + 1]
                sent[h] = s.n > 0 ? expm1(Double(s.mean)) : 0
                received[h] = r.n > 0 ? expm1(Double(r.mean)) : 0
                weeks[h] = Int(s.n)
            }
            return (sent, received, weeks)
        }
    }
}
