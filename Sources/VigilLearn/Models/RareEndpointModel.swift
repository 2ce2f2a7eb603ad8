import Foundation
import VigilCore

/// A device contacts an external endpoint (zone or address) that few or no devices on the
/// network have ever used. Surprise comes from how often *this* device meets endpoints new
/// to the network (a browsing laptop often; a server almost never), with the network's rate
/// as the prior, plus how rare the endpoint is across devices.
public final class RareEndpointModel: LearningModel {
    public let name = "rare-endpoint"
    public let summary = "first contact with an external endpoint few or no devices have used"
    struct State: Codable {
        var devices: BoundedTable<IPAddress, NoveltyRate>
        var network = NoveltyRate()
    }
    var s: State

    public init(_ c: LearnConfiguration) { s = State(devices: BoundedTable(capacity: c.maxDevices)) }

    public func conn(_ f: ConnFacts, _ ctx: LearnContext) {
        guard f.deviceIsOrig, !f.isInternal, !f.peer.isMulticastOrBroadcast, let e = f.endpoint else { return }
        let key = f.peerKey
        let others = e.users
        let seenByDevice = e.seenByDevice
        let newToNetwork = e.firstSeen == nil
        let rate = s.devices.update(f.device, at: f.ts, make: { NoveltyRate() }) { r -> NoveltyRate in
            let before = r
            r.record(isNew: newToNetwork)
            return before
        }
        s.network.record(isNew: newToNetwork)
        guard !seenByDevice, others <= 2, rate.trials >= 20 else { return }
        let prior = s.network.probabilityNew(priorNew: 1, priorTrials: 20)
        let pNew = rate.probabilityNew(priorNew: 20 * prior, priorTrials: 20)
        let n = Double(max(ctx.deviceCount, 1))
        // Rarity across devices: the chance a device picks an endpoint only `others` of n use.
        let pRare = newToNetwork ? 1 : min(1, (Double(others) + 0.5) / n * 4)
        let x = -log2(max(pNew, 1e-12)) - log2(pRare)
        guard x > 3 else { ctx.pass(name, surprisal: x, device: f.device); return }
        let named = f.peerName != nil
        ctx.judge(name, surprisal: x, device: f.device, subject: key, at: f.ts, needsHistory: true) {
            let firstSeen = e.firstSeen.map { "first seen \($0.iso8601)" } ?? "never seen before"
            let how = named ? key : "\(key) (by address; no DNS name seen for it)"
            return BreachDraft(
                reason: "\(ctx.label(f.device)) contacted \(how) on \(f.proto)/\(f.respPort): \(others) of \(Int(n)) devices have used it (\(firstSeen)); this device meets an endpoint new to the network in \(Int(rate.news)) of \(Int(rate.trials)) connections",
                first: f.ts, last: f.ts, endpoints: [key], techniques: ["T1071"],
                facts: ["devicesUsing": Double(others), "devices": n, "deviceNewRate": pNew, "sentBytes": f.sentBytes],
                scope: BreachScope(direction: .outbound, peers: [f.peer.description]))
        }
    }

    public func encodeState(_ e: JSONEncoder) throws -> Data { try e.encode(s) }
    public func decodeState(_ d: JSONDecoder, _ data: Data) throws { s = try d.decode(State.self, from: data) }
}
