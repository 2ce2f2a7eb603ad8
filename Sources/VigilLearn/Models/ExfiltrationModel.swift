import Foundation
import VigilCore

/// Exfiltration: a large upload to an endpoint few devices use — per connection, and summed
/// per device and endpoint over an hour — judged against how much this device uploads per
/// connection (decayed, in log space) and how rare the endpoint is.
public final class ExfiltrationModel: LearningModel {
    public let name = "exfiltration"
    public let summary = "a large upload to a rare external endpoint"
    struct Device: Codable {
        var upload = CompactMoments()
        /// Endpoints this device has made large uploads to before (backups, sync).
        var bulkTargets = BoundedKeySet(capacity: 16)
    }
    var devices: BoundedTable<IPAddress, Device>

    public init(_ c: LearnConfiguration) { devices = BoundedTable(capacity: c.maxDevices) }

    public func conn(_ f: ConnFacts, _ ctx: LearnContext) {
        guard f.deviceIsOrig, !f.isInternal, !f.peer.isMulticastOrBroadcast else { return }
        let key = f.peerKey
        // Bytes to this endpoint this hour, as the learner counted them (this connection included).
        let sent = f.sentBytes, keyHash = f.peerKeyHash
        let sum: Double = ctx.devices.peek(f.device, { $0.pointee.hour.uploads[key, hash: keyHash] ?? sent }) ?? sent
        let (moments, habitual) = devices.update(f.device, at: f.ts, make: {
            var d = Device()
            for _ in 0..<3 { d.upload.add(log1p(2000), cap: 500) }
            d.upload.variance = 4
            return d
        }) { d -> (CompactMoments, Bool) in
            let m = d.upload
            d.upload.add(log1p(sent), cap: 500)
            guard max(sent, sum) >= 5_000_000 else { return (m, false) }
            let habitual = d.bulkTargets.contains(keyHash)
            d.bulkTargets.insert(keyHash)
            return (m, habitual)
        }
        let amount = max(f.sentBytes, sum)
        guard amount >= 5_000_000 else { return }
        let users = f.endpoint.map { max(1, $0.users + ($0.seenByDevice ? 0 : 1)) } ?? 1
        let n = Double(max(ctx.deviceCount, 1))
        let rarity = users <= 2 ? -log2(min(1, (Double(users) + 0.5) / n * 4)) : 0
        // A device that uploads in bulk to the same place every night is backing up.
        let x = (moments.upperSurprisal(log1p(amount), minStd: 1.2) * 0.7 + rarity) * (habitual ? 0.15 : 1)
        guard x > 5, users <= max(2, Int(n * 0.05)) else { ctx.pass(name, surprisal: x, device: f.device); return }
        ctx.judge(name, surprisal: x, device: f.device, subject: key, at: f.ts, needsHistory: true) {
            BreachDraft(
                reason: "\(ctx.label(f.device)) uploaded \(Bytes.human(amount)) to \(key) within the hour (\(Bytes.human(f.sentBytes)) in the last connection, port \(f.respPort)); its uploads are usually about \(Bytes.human(expm1(Double(moments.mean)))) per connection, it never uploaded in bulk there before, and \(users) of \(Int(n)) devices use this endpoint",
                first: f.ts, last: f.ts, endpoints: [key], techniques: ["T1041", "T1567"],
                facts: ["bytes": amount, "usualBytes": expm1(Double(moments.mean)), "devicesUsing": Double(users)],
                scope: BreachScope(direction: .outbound, peers: [f.peer.description]))
        }
    }

    public func encodeState(_ e: JSONEncoder) throws -> Data { try e.encode(devices) }
    public func decodeState(_ d: JSONDecoder, _ data: Data) throws { devices = try d.decode(BoundedTable<IPAddress, Device>.self, from: data) }
}
