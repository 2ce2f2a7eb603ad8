import Foundation
import VigilCore

/// Scanning: failed connection attempts fanning out to many hosts (horizontal) or many ports
/// of few hosts (vertical), from a device, or from outside at a device. Judged per 5-minute
/// window, and as soon as the fan-out crosses 16, 64, 256, ... against what that device (or
/// that device's inbound side) normally fails to reach.
public final class ScanModel: LearningModel {
    public let name = "scan"
    public let summary = "failed connection attempts to many hosts or ports in a short time"
    static let window: Int64 = 300
    struct Window: Codable {
        var device: IPAddress
        var inbound: Bool
        var start: Int64 = .min
        var hosts = HyperLogLog(p: 6)
        var ports = HyperLogLog(p: 6)
        var failed = 0.0, attempts = 0.0
        var first = Timestamp.zero, last = Timestamp.zero
        var sources: [String] = []
        var targets: [String] = []
        var nextAlarm = 16.0
        var normal = CompactMoments()
    }
    var windows: BoundedTable<String, Window>

    public init(_ c: LearnConfiguration) { windows = BoundedTable(capacity: c.maxDevices * 2) }

    public func conn(_ f: ConnFacts, _ ctx: LearnContext) {
        let inbound = !f.deviceIsOrig
        let key = inbound ? "in|\(f.device)" : "out|\(f.device)"
        let t = Int64(f.ts.seconds)
        var close: Window?
        let alarm = windows.update(key, at: f.ts, make: {
            var w = Window(device: f.device, inbound: inbound)
            for _ in 0..<4 { w.normal.add(log1p(1), cap: 200) }
            w.normal.variance = 0.5
            return w
        }) { w -> Bool in
            if w.start == .min || t >= w.start + ScanModel.window {
                if w.start != .min, w.attempts > 0 { close = w }
                let normal = w.normal
                w = Window(device: f.device, inbound: inbound)
                w.normal = normal
                w.start = t
                if let c = close { w.normal.add(log1p(max(c.hosts.estimate, c.ports.estimate) * c.failed / max(1, c.attempts)), cap: 200) }
            }
            w.attempts += 1
            var grew = false
            // Echo requests probe whether a host is there, answered or not.
            let echo = f.proto == .icmp && (f.record.id.origPort == 8 || f.record.id.origPort == 128)
            if f.failed || echo {
                w.failed += 1
                let a = w.hosts.insert(hash: Stats.hash(inbound ? f.record.id.origHost : f.peer))
                let b = w.ports.insert(hash: UInt64(f.respPort) | UInt64(f.proto.rawValue) << 16)
                grew = a || b
                if w.first == .zero { w.first = f.ts }
                w.last = max(w.last, f.ts)
                if inbound, w.sources.count < 5, !w.sources.contains(f.record.id.origHost.description) { w.sources.append(f.record.id.origHost.description) }
                if !inbound, w.targets.count < 5, !w.targets.contains(f.peer.description) { w.targets.append(f.peer.description) }
            }
            guard grew else { return false }
            let fan = max(w.hosts.estimate, w.ports.estimate)
            if fan >= w.nextAlarm { w.nextAlarm *= 4; return true }
            return false
        }
        if let c = close { judge(c, ctx, final: true) }
        if alarm, let w = windows[key] { judge(w, ctx, final: false) }
    }

    public func hourEnded(_ hour: Int64, _ ctx: LearnContext) {
        let end = (hour + 1) * 3600
        var closed: [Window] = []
        windows.mutateAll { _, w in
            if w.start != .min, w.start + ScanModel.window <= end, w.attempts > 0 {
                closed.append(w)
                w.normal.add(log1p(max(w.hosts.estimate, w.ports.estimate) * w.failed / max(1, w.attempts)), cap: 200)
                let normal = w.normal
                w = Window(device: w.device, inbound: w.inbound)
                w.normal = normal
            }
        }
        for w in closed { judge(w, ctx, final: true) }
    }

    public func finish(_ ctx: LearnContext) {
        var open: [Window] = []
        windows.forEach { _, w in if w.attempts > 0 { open.append(w) } }
        for w in open { judge(w, ctx, final: true) }
    }

    func judge(_ w: Window, _ ctx: LearnContext, final: Bool) {
        let hosts = w.hosts.estimate.rounded(), ports = w.ports.estimate.rounded()
        let fan = max(hosts, ports)
        let failShare = w.failed / max(1, w.attempts)
        let lambda = expm1(Double(w.normal.mean)) + 1 + 2 * Double(w.normal.variance).squareRoot()
        var x = Stats.poissonTailBits(fan, lambda: lambda) * min(1, 2 * failShare)
        if fan < 8 { x = min(x, 3) }
        guard x > 5 else { if final { ctx.pass(name, surprisal: x) }; return }
        let vertical = ports > 2 * hosts
        let kind = vertical ? "vertical (many ports of \(Int(hosts)) host\(hosts == 1 ? "" : "s"))" : "horizontal (\(Int(hosts)) hosts)"
        ctx.judge(name, surprisal: x, device: w.device, subject: w.inbound ? "inbound" : "outbound", at: w.last, needsHistory: false) {
            let who = w.inbound
                ? "\(ctx.label(w.device)) was probed from outside: \(Int(w.failed)) failed attempts from \(Int(hosts)) source(s) (e.g. \(w.sources.joined(separator: ", "))) on \(Int(ports)) port(s)"
                : "\(ctx.label(w.device)) made \(Int(w.failed)) failed connection attempts, \(kind), \(Int(ports)) distinct port(s), e.g. \(w.targets.joined(separator: ", "))"
            return BreachDraft(
                reason: "\(who) within \(ScanModel.window / 60) minutes; \(Int((failShare * 100).rounded()))% of its attempts failed; it normally fans out to about \(Int(lambda.rounded())) in such a window",
                first: w.first, last: w.last, endpoints: w.inbound ? w.sources : [], peers: w.inbound ? [] : w.targets,
                techniques: w.inbound ? ["T1595"] : ["T1046"],
                facts: ["hosts": hosts, "ports": ports, "failed": w.failed, "attempts": w.attempts, "normalFanOut": lambda],
                scope: BreachScope(direction: w.inbound ? .inbound : .outbound, failedOnly: true))
        }
    }

    public func encodeState(_ e: JSONEncoder) throws -> Data { try e.encode(windows) }
    public func decodeState(_ d: JSONDecoder, _ data: Data) throws { windows = try d.decode(BoundedTable<String, Window>.self, from: data) }
}
