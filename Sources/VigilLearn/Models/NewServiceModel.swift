import Foundation
import VigilCore

/// A device uses a service (protocol and port, as a client) or starts offering one (as a
/// server) that it never has, judged against its peer group: a printer's first SSH session
/// is surprising when no printer uses SSH; a developer laptop's is not.
public final class NewServiceModel: LearningModel {
    public let name = "new-service"
    public let summary = "a device uses or offers a service it and its peer group have not"
    struct Rates: Codable { var client = NoveltyRate(); var server = NoveltyRate() }
    struct State: Codable {
        var devices: BoundedTable<IPAddress, Rates>
        /// For each service: how many devices of each peer group have used it.
        var usage: BoundedTable<String, [Int: Int]>
        var network = Rates()
    }
    var s: State

    public init(_ c: LearnConfiguration) {
        s = State(devices: BoundedTable(capacity: c.maxDevices), usage: BoundedTable(capacity: 50_000))
        memory = BoundedTable(capacity: c.maxDevices)
    }

    /// Whether the connection is a service use worth learning: not ICMP, not a dynamic port
    /// without a recognised protocol.
    static func isService(_ f: ConnFacts) -> Bool {
        f.proto != .icmp && (f.respPort < 49152 || !f.service.isEmpty)
    }

    static func names(_ f: ConnFacts, asServer: Bool) -> (key: String, label: String) {
        let key = "\(f.proto)/\(f.respPort)"
        return (asServer ? "serve:" + key : key, f.service.first.map { "\($0) (\(key))" } ?? key)
    }

    public func conn(_ f: ConnFacts, _ ctx: LearnContext) {
        guard !f.failed, NewServiceModel.isService(f) else { return }
        let asServer = !f.deviceIsOrig
        let device = f.device
        // An internal connection is also a client use by the originator (device) and a served
        // service for the responder; the responder side is judged from its own profile.
        judgeUse(device: device, other: f.peer, asServer: asServer, f: f, ctx)
        if f.isInternal { judgeUse(device: f.peer, other: device, asServer: true, f: f, ctx) }
    }

    func judgeUse(device: IPAddress, other: IPAddress, asServer: Bool, f: ConnFacts, _ ctx: LearnContext) {
        guard let (group, served) = ctx.devices.peek(device, { p in (p.pointee.group, p.pointee.servedPorts.count) }) else { return }
        let k = Stats.mix(UInt64(f.proto.rawValue) << 17 | UInt64(f.respPort) << 1 | (asServer ? 1 : 0))
        // Use the device's own sets as memory of what it used; the profile keeps them bounded.
        let known = seen(device, k)
        let before = s.devices.update(device, at: f.ts, make: { Rates() }) { r -> NoveltyRate in
            let b = asServer ? r.server : r.client
            if asServer { r.server.record(isNew: !known) } else { r.client.record(isNew: !known) }
            return b
        }
        if asServer { s.network.server.record(isNew: !known) } else { s.network.client.record(isNew: !known) }
        // A device's first few connections say nothing about what is new for it.
        guard !known, before.trials >= 20 else { if !known { remember(device, k, at: f.ts) }; return }
        remember(device, k, at: f.ts)
        let (key, label) = NewServiceModel.names(f, asServer: asServer)
        let groupCounts = s.usage.update(key, at: f.ts, make: { [:] }) { u -> [Int: Int] in
            let b = u
            u[group, default: 0] += 1
            return b
        }
        let inGroup = groupCounts[group] ?? 0
        let groupSize = max(1, ctx.groups.size(of: group))
        let everyone = groupCounts.values.reduce(0, +)
        let net = asServer ? s.network.server : s.network.client
        let prior = net.probabilityNew(priorNew: 1, priorTrials: 50)
        let pNew = before.probabilityNew(priorNew: 10 * prior, priorTrials: 10)
        let pGroup = min(1, (Double(inGroup) + 0.5) / Double(groupSize + 1))
        let x = -log2(max(pNew, 1e-12)) - log2(pGroup)
        guard x > 4 else { ctx.pass(name, surprisal: x, device: device); return }
        let role = served > 0 ? ctx.devices.peek(device, { DeviceRole.describe($0.pointee) }) ?? "device" : "client"
        ctx.judge(name, surprisal: x, device: device, subject: key, at: f.ts, needsHistory: true) {
            let verb = asServer ? "started answering on" : "used"
            let direction = asServer ? "from \(other)" : "to \(f.peerName ?? other.description)"
            return BreachDraft(
                reason: "\(ctx.label(device)), a \(role), \(verb) \(label) for the first time (\(direction)); \(inGroup) of \(groupSize) devices in its peer group and \(everyone) on the network have; it takes up something new in \(Int(before.news)) of \(Int(before.trials)) connections",
                first: f.ts, last: f.ts, endpoints: f.isInternal ? [] : [f.peerKey], peers: f.isInternal ? [other.description] : [],
                techniques: asServer ? ["T1543"] : f.isInternal ? [] : ["T1071"],
                facts: ["groupUsing": Double(inGroup), "groupSize": Double(groupSize), "networkUsing": Double(everyone), "deviceNewRate": pNew],
                scope: BreachScope(direction: asServer ? .inbound : .outbound, peers: [other.description], ports: [f.respPort]))
        }
    }

    // Services each device has used, kept as hashes in a bounded per-device set.
    var memory: BoundedTable<IPAddress, BoundedKeySet>
    func seen(_ d: IPAddress, _ k: UInt64) -> Bool { memory.peek(d, { $0.pointee.contains(k) }) ?? false }
    func remember(_ d: IPAddress, _ k: UInt64, at t: Timestamp) {
        // Only called for a service `seen` did not find.
        memory.update(d, at: t, make: { BoundedKeySet(capacity: 64) }) { $0.insert(absent: k) }
    }

    struct Saved: Codable { var s: State; var memory: BoundedTable<IPAddress, BoundedKeySet> }
    public func encodeState(_ e: JSONEncoder) throws -> Data { try e.encode(Saved(s: s, memory: memory)) }
    public func decodeState(_ d: JSONDecoder, _ data: Data) throws {
        let v = try d.decode(Saved.self, from: data); s = v.s; memory = v.memory
    }
}
