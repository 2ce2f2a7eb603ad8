import Foundation
import VigilCore

/// Activity at unusual times: a device starting many connections in an hour of the week in
/// which it is normally quiet (a workstation at 03:00 on a Sunday). The chance of being active
/// in that hour of the week is a Beta-Binomial estimate over the weeks seen, with the same hour
/// of other days as the prior.
public final class UnusualTimeModel: LearningModel {
    public let name = "unusual-time"
    public let summary = "a device busy in an hour of the week when it is normally quiet"
    struct Device: Codable {
        @Packed var weekActive = [UInt8](repeating: 0, count: 168)
        @Packed var weekSeen = [UInt8](repeating: 0, count: 168)
        var dayActive = [UInt16](repeating: 0, count: 24)
        var daySeen = [UInt16](repeating: 0, count: 24)
    }
    var devices: BoundedTable<IPAddress, Device>
    let offset: Int
    /// Connections started in an hour for it to count as active.
    static let busy = 20.0

    public init(_ c: LearnConfiguration) { devices = BoundedTable(capacity: c.maxDevices); offset = c.utcOffsetHours }

    public func hourEnded(_ hour: Int64, _ ctx: LearnContext) {
        let start = Timestamp(seconds: hour * 3600)
        let how = LearnClock.hourOfWeek(start, offsetHours: offset), hod = how % 24
        // Busy devices with what had been learned for this hour before it is updated.
        struct Busy { var ip: IPAddress; var conns: Double; var peers: [String]; var wa, ws, da, ds: Double }
        var busy: [Busy] = []
        ctx.devices.forEach { ip, p in
            let started = p.hour.started
            let examples = p.hour.examples
            devices.update(ip, at: start, make: { Device() }) { d in
                let active = started >= UnusualTimeModel.busy
                if active {
                    busy.append(Busy(ip: ip, conns: started, peers: examples, wa: Double(d.weekActive[how]), ws: Double(d.weekSeen[how]),
                                     da: Double(d.dayActive[hod]), ds: Double(d.daySeen[hod])))
                }
                d.weekSeen[how] = d.weekSeen[how] == 255 ? 255 : d.weekSeen[how] + 1
                if active { d.weekActive[how] = d.weekActive[how] == 255 ? 255 : d.weekActive[how] + 1 }
                d.daySeen[hod] &+= 1
                if active { d.dayActive[hod] &+= 1 }
            }
        }
        for d in busy {
            let ip = d.ip, wa = d.wa, ws = d.ws, da = d.da, ds = d.ds
            let pDay = (da + 0.5) / (ds + 1)
            let p = (wa + 2 * pDay) / (ws + 2)
            let x = -log2(max(p, 1e-6)) + log2(max(1, d.conns / UnusualTimeModel.busy)) * 0.5
            guard ws >= 1, ds >= 3, x > 3 else { ctx.pass(name, surprisal: min(x, 3), device: ip); continue }
            let weekday = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"][how / 24]
            ctx.judge(name, surprisal: x, device: ip, subject: "\(how)", at: start + .seconds(3599), needsHistory: true) {
                BreachDraft(
                    reason: "\(ctx.label(ip)) started \(Int(d.conns)) connections on \(weekday) between \(String(format: "%02d", hod)):00 and \(String(format: "%02d", (hod + 1) % 24)):00 (e.g. to \(d.peers.joined(separator: ", "))); it was busy in this hour in \(Int(wa)) of \(Int(ws)) weeks and in \(Int(da)) of \(Int(ds)) days at this time of day",
                    first: start, last: start + .seconds(3599), endpoints: d.peers, techniques: [],
                    facts: ["connections": d.conns, "probabilityActive": p, "hourOfWeek": Double(how)],
                    scope: BreachScope(direction: .outbound))
            }
        }
    }

    public func encodeState(_ e: JSONEncoder) throws -> Data { try e.encode(devices) }
    public func decodeState(_ d: JSONDecoder, _ data: Data) throws { devices = try d.decode(BoundedTable<IPAddress, Device>.self, from: data) }
}
