import Foundation
import VigilCore

/// Scanning: failed connection attempts (and ICMP echo probes) fanning out to many hosts
/// (horizontal) or many ports of few hosts (vertical) — from a device, at a device from
/// outside, or from one outside source across many devices. Judged per 5-minute window (a day
/// for an outside source, so slow sweeps that touch a device every quarter hour add up), and
/// as soon as the fan-out crosses 8, 32, 128, ... against what that side normally fails to reach.
public final class ScanModel: LearningModel {
    public let name = "scan"
    public let summary = "failed connection attempts to many hosts or ports in a short time"
    static let window: Int64 = 300
    enum Kind: UInt8, Codable {
        case outbound, inbound, source
        var window: Int64 { self == .source ? 86_400 : ScanModel.window }
    }
    struct Key: TableKey {
        var kind: Kind
        var ip: IPAddress
        func tableHash(_ seed: UInt64) -> UInt64 { ip.tableHash(seed &+ UInt64(kind.rawValue)) }
    }
    struct Window: Codable {
        var kind: Kind
        /// The device the breach is about: the scanner, the scanned device, or (for a source
        /// sweeping many devices) the first device it reached.
        var device: IPAddress
        var start: Int64 = .min
        var hosts = DistinctCounter()
        var ports = DistinctCounter()
        var failed = 0.0, attempts = 0.0
        var first = Timestamp.zero, last = Timestamp.zero
        var sources: [String] = []
        var targets: [String] = []
        var nextAlarm = 8.0
        var normal = CompactMoments()

        init(kind: Kind, device: IPAddress) {
            self.kind = kind; self.device = device
            normal = CompactMoments(priorCount: 1, samples: 4, variance: 0.5, cap: 200)
        }

        var fanOut: Double { max(hosts.estimate, ports.estimate) }

        /// Starts the next window, carrying what was learned.
        mutating func roll(at t: Int64, device d: IPAddress) {
            if start != .min, attempts > 0 { normal.add(log1p(fanOut * failed / max(1, attempts)), cap: 200) }
            var w = Window(kind: kind, device: d)
            w.normal = normal
            w.start = t
            self = w
        }
    }
    var windows: BoundedTable<Key, Window>

    public init(_ c: LearnConfiguration) { windows = BoundedTable(capacity: c.maxDevices * 3) }

    public func conn(_ f: ConnFacts, _ ctx: LearnContext) {
        let echo = f.proto == .icmp && (f.id.origPort == 8 || f.id.origPort == 128)
        let probe = f.failed || echo
        if f.deviceIsOrig {
            update(Key(kind: .outbound, ip: f.device), f, probe: probe, other: f.peer, ctx)
        } else {
            update(Key(kind: .inbound, ip: f.device), f, probe: probe, other: f.peer, ctx)
            // One outside source across many devices is judged as a whole.
            if probe { update(Key(kind: .source, ip: f.peer), f, probe: true, other: f.device, ctx) }
        }
    }

    func update(_ key: Key, _ f: ConnFacts, probe: Bool, other: IPAddress, _ ctx: LearnContext) {
        let t = Int64(f.ts.seconds)
        var closed: Window?
        let alarm = windows.update(key, at: f.ts, make: { Window(kind: key.kind, device: f.device) }) { w -> Bool in
            if w.start == .min || t >= w.start + key.kind.window {
                if w.start != .min, w.attempts > 0 { closed = w }
                w.roll(at: t, device: f.device)
            }
            w.attempts += 1
            guard probe else { return false }
            w.failed += 1
            let a = w.hosts.insert(hash: Stats.hash(other))
            let b = w.ports.insert(hash: UInt64(f.respPort) | UInt64(f.proto.rawValue) << 16)
            if w.first == .zero { w.first = f.ts }
            w.last = max(w.last, f.ts)
            let o = other.description
            switch key.kind {
            case .outbound: if w.targets.count < 5, !w.targets.contains(o) { w.targets.append(o) }
            case .inbound: if w.sources.count < 5, !w.sources.contains(o) { w.sources.append(o) }
            case .source:
                if w.sources.isEmpty { w.sources.append(key.ip.description) }
                if w.targets.count < 5, !w.targets.contains(o) { w.targets.append(o) }
            }
            guard a || b else { return false }
            if w.fanOut >= w.nextAlarm { w.nextAlarm *= 4; return true }
            return false
        }
        if let c = closed { judge(c, ctx, final: true) }
        if alarm, let w = windows[key] { judge(w, ctx, final: false) }
    }

    public func hourEnded(_ hour: Int64, _ ctx: LearnContext) {
        let end = (hour + 1) * 3600
        var closed: [Window] = []
        windows.mutateAll { _, w in
            if w.start != .min, w.start + w.kind.window <= end, w.attempts > 0 {
                closed.append(w)
                w.roll(at: .min, device: w.device)
                w.start = .min
            }
        }
        for w in closed { judge(w, ctx, final: true) }
        // Outside sources that have gone quiet need no state.
        windows.removeAll { k, w in k.kind == .source && w.attempts == 0 }
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
        let lambda = max(1, expm1(Double(w.normal.mean))) + Double(w.normal.variance).squareRoot()
        var x = Stats.poissonTailBits(fan, lambda: lambda) * min(1, 2 * failShare)
        if fan < 6 { x = min(x, 3) }
        guard x > 5 else { if final { ctx.pass(name, surprisal: x, device: w.device) }; return }
        let vertical = ports > 2 * hosts
        let kind = vertical ? "vertical (many ports of \(Int(hosts)) host\(hosts == 1 ? "" : "s"))" : "horizontal (\(Int(hosts)) hosts)"
        let subject: String
        let who: String
        switch w.kind {
        case .outbound:
            subject = "outbound"
            who = "\(ctx.label(w.device)) made \(Int(w.failed)) failed connection attempts or probes, \(kind), \(Int(ports)) distinct port(s), e.g. \(w.targets.joined(separator: ", "))"
        case .inbound:
            subject = "inbound"
            who = "\(ctx.label(w.device)) was probed from outside: \(Int(w.failed)) failed attempts from \(Int(hosts)) source(s) (e.g. \(w.sources.joined(separator: ", "))) on \(Int(ports)) port(s)"
        case .source:
            subject = "source \(w.sources.first ?? "")"
            let src = w.sources.first ?? "an outside host"
            who = hosts <= 1
                ? "\(src) probed \(Int(ports)) ports of \(ctx.label(w.device)) with \(Int(w.failed)) failed attempts"
                : "\(src) swept \(Int(hosts)) devices (e.g. \(w.targets.joined(separator: ", "))) with \(Int(w.failed)) failed attempts on \(Int(ports)) port(s)"
        }
        ctx.judge(name, surprisal: x, device: w.device, subject: subject, at: w.last, needsHistory: false) {
            BreachDraft(
                reason: "\(who) within \(w.kind == .source ? "\(Int(((w.last - w.first).seconds / 60).rounded())) minutes" : "\(ScanModel.window / 60) minutes"); \(Int((failShare * 100).rounded()))% of the attempts failed; normally about \(Int(lambda.rounded())) in such a window",
                first: w.first, last: w.last,
                endpoints: w.kind == .outbound ? [] : w.sources, peers: w.kind == .inbound ? [] : w.targets,
                techniques: w.kind == .outbound ? ["T1046"] : ["T1595"],
                facts: ["hosts": hosts, "ports": ports, "failed": w.failed, "attempts": w.attempts, "normalFanOut": lambda],
                scope: BreachScope(direction: w.kind == .outbound ? .outbound : .inbound,
                                   peers: w.kind == .source ? [w.sources.first ?? ""] : [], failedOnly: true))
        }
    }

    public func encodeState(_ e: JSONEncoder) throws -> Data { try e.encode(windows) }
    public func decodeState(_ d: JSONDecoder, _ data: Data) throws { windows = try d.decode(BoundedTable<Key, Window>.self, from: data) }
}
