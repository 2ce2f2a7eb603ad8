import Foundation
import VigilCore

/// Regular callbacks: a pair (originator, destination IP or name) whose connections come at
/// regular intervals with similar sizes. Intervals are judged against what unstructured
/// (Poisson) traffic would give: the share of intervals within the observed spread of the
/// median is a binomial question, and its tail is the surprisal. Missed beats are folded
/// back onto the period; bursts of parallel connections count once; sizes, coverage of the
/// span and Bowley skew temper the result; destinations many devices use are discounted.
public final class BeaconModel: LearningModel {
    public let name = "beacon"
    public let summary = "regular callbacks from one host to one destination (periodic intervals, similar sizes)"
    static let ring = 48
    /// A pair is tracked (with a ring of its recent connections) once a count-min sketch over
    /// all pairs has seen it six times; the sketch halves every day, so slow beacons still
    /// qualify while one-off contacts cost nothing per pair.
    struct Screen: Codable {
        static let rows = 4
        /// Counters per row: a power of two sized to the pair table (8,192 by default).
        var width: Int
        var counts: [UInt16]
        mutating func add(_ h: UInt64) -> UInt16 {
            // Four rows, one hash each (16 bits of one 64-bit mix per row, widened).
            let m0 = Stats.mix(h), m1 = Stats.mix(h ^ 0x9E37_79B9_7F4A_7C15)
            let w = UInt64(width)
            let i0 = Int(m0 % w), i1 = width + Int((m0 >> 32) % w)
            let i2 = 2 * width + Int(m1 % w), i3 = 3 * width + Int((m1 >> 32) % w)
            let m = min(min(counts[i0], counts[i1]), min(counts[i2], counts[i3]))
            let v = m == .max ? m : m + 1
            // Conservative update: only the rows at the minimum grow.
            if counts[i0] < v { counts[i0] = v }
            if counts[i1] < v { counts[i1] = v }
            if counts[i2] < v { counts[i2] = v }
            if counts[i3] < v { counts[i3] = v }
            return v
        }
        mutating func halve() { for i in counts.indices { counts[i] >>= 1 } }
        private enum CodingKeys: String, CodingKey { case c, w }
        init(pairs: Int) {
            var w = 1024
            while w < 8192, w * 8 < pairs { w *= 2 }
            width = w
            counts = [UInt16](repeating: 0, count: w * Screen.rows)
        }
        init(from decoder: any Decoder) throws {
            let k = try decoder.container(keyedBy: CodingKeys.self)
            let d = try k.decode(Data.self, forKey: .c)
            width = try k.decode(Int.self, forKey: .w)
            guard width >= 1, width <= 1 << 20, d.count == width * Screen.rows * 2 else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "beacon screen has the wrong size"))
            }
            var c = [UInt16](repeating: 0, count: width * Screen.rows)
            _ = c.withUnsafeMutableBytes { d.copyBytes(to: $0) }
            counts = c.map { UInt16(littleEndian: $0) }
        }
        func encode(to encoder: any Encoder) throws {
            let d = counts.map(\.littleEndian).withUnsafeBytes { Data($0) }
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(d, forKey: .c)
            try c.encode(width, forKey: .w)
        }
    }
    struct PairKey: TableKey {
        var orig: IPAddress
        var resp: IPAddress
        func tableHash(_ seed: UInt64) -> UInt64 { resp.tableHash(orig.tableHash(seed)) }
    }
    struct Pair: Codable {
        var device: IPAddress
        var orig: IPAddress
        var resp: IPAddress
        var label: String
        var endpointKey: String?
        var count = 0
        var first: Timestamp
        var last: Timestamp
        @Packed var starts: [Double] = []
        @Packed var sizes: [Double] = []
        var judgedAt = 0
        /// Evidence from earlier, non-overlapping windows of `ring` events: a beacon that stays
        /// regular for days adds up; a burst of regular retries does not.
        var pastBits = 0.0
        var ports: [UInt16] = []
        /// For a series kept by name: the name and the addresses it was reached at.
        var name: String?
        var addresses: [IPAddress] = []
    }
    var pairs: BoundedTable<PairKey, Pair>
    var screen: Screen
    let baseline: Duration

    public init(_ c: LearnConfiguration) {
        pairs = BoundedTable(capacity: c.maxPairs); baseline = c.baseline; screen = Screen(pairs: c.maxPairs)
    }

    public func hourEnded(_ hour: Int64, _ ctx: LearnContext) {
        guard hour % 24 == 23 else { return }
        screen.halve()
        let now = ctx.now
        pairs.removeAll { _, p in
            now - p.last > .seconds(3 * 86_400) || (p.endpointKey.flatMap { ctx.endpoint($0)?.deviceCount } ?? 0) >= 4
        }
    }

    public func conn(_ f: ConnFacts, _ ctx: LearnContext) {
        let orig = f.id.origHost, resp = f.id.respHost
        // Refused and unanswered attempts are scanning's business, not callbacks.
        guard !resp.isMulticastOrBroadcast, !f.failed else { return }
        let endpointKey = f.deviceIsOrig ? (f.isInternal ? f.peer.description : f.peerKey) : nil
        track(PairKey(orig: orig, resp: resp), name: nil, f, endpointKey: endpointKey, ctx)
        // The same callback by name (SNI, HTTP Host, DNS answer), so one that hops between
        // addresses behind a domain is still one series.
        if f.deviceIsOrig, !f.isInternal, let n = f.peerName {
            track(PairKey(orig: orig, resp: IPAddress(high: .max, low: Stats.hashFolded(n))), name: n, f, endpointKey: endpointKey, ctx)
        }
    }

    func track(_ key: PairKey, name: String?, _ f: ConnFacts, endpointKey: String?, _ ctx: LearnContext) {
        if !pairs.contains(key) {
            if screen.add(Stats.hash(key.orig, key.resp.low ^ key.resp.high)) < 6 { return }
            // Destinations several devices use are discounted to nothing anyway; not tracked.
            if let e = f.endpoint, e.users + (e.seenByDevice ? 0 : 1) >= 4 { return }
        }
        let t = f.ts.seconds
        let size = Double(f.origBytes + f.respBytes)
        let resp = f.id.respHost
        let due = pairs.update(key, at: f.ts, make: {
            var p = Pair(device: f.device, orig: key.orig, resp: resp, label: "", endpointKey: endpointKey, first: f.ts, last: f.ts)
            p.name = name
            return p
        }) { p -> Bool in
            p.count += 1
            p.first = min(p.first, f.ts); p.last = max(p.last, f.ts)
            p.starts.append(t); p.sizes.append(size)
            if p.starts.count > BeaconModel.ring { p.starts.removeFirst(); p.sizes.removeFirst() }
            if p.ports.count < 4, !p.ports.contains(f.id.respPort) { p.ports.append(f.id.respPort) }
            if name != nil, p.addresses.count < 8, !p.addresses.contains(resp) { p.addresses.append(resp) }
            return p.count == 12 || p.count == 24 || p.count == 48 || p.count % BeaconModel.ring == 0
        }
        if due { judge(key, ctx) }
    }

    public func finish(_ ctx: LearnContext) {
        var keys: [PairKey] = []
        pairs.forEach { k, p in if p.count >= 12, p.judgedAt != p.count { keys.append(k) } }
        keys.sort { ($0.orig, $0.resp) < ($1.orig, $1.resp) }
        for k in keys { judge(k, ctx) }
    }

    /// Regularity of a pair's connections, as surprisal bits against unstructured traffic.
    struct Regularity { var bits: Double; var period: Double; var mad: Double; var sizeMedian: Double; var coverage: Double; var events: Int }

    static func regularity(_ p: Pair) -> Regularity? {
        var order = Array(p.starts.indices)
        order.sort { p.starts[$0] < p.starts[$1] }
        // Connections starting within half a second of the previous one are one event.
        var events: [Double] = [], sizes: [Double] = []
        for i in order {
            if let last = events.last, p.starts[i] - last < 0.5 { sizes[sizes.count - 1] += p.sizes[i]; continue }
            events.append(p.starts[i]); sizes.append(p.sizes[i])
        }
        guard events.count >= 10 else { return nil }
        var ints: [Double] = []
        for i in 1..<events.count { ints.append(events[i] - events[i - 1]) }
        let m0 = Stats.median(ints)
        guard m0 > 0 else { return nil }
        // Fold missed beats back onto the period when they are a minority.
        let long = ints.filter { $0 > 1.6 * m0 }.count
        if long * 4 <= ints.count {
            ints = ints.map { x in x > 1.6 * m0 ? x / (x / m0).rounded() : x }
        }
        let sorted = ints.sorted()
        let q1 = Stats.quantile(sorted, 0.25), q2 = Stats.quantile(sorted, 0.5), q3 = Stats.quantile(sorted, 0.75)
        let mad = Stats.median(ints.map { abs($0 - q2) })
        let r = max(0.02, min(1, mad / q2))
        let w = pow(2, -(1 - r)) - pow(2, -(1 + r))
        let n = Double(ints.count)
        var bits = 0.0
        if w < 0.5 { bits = n * (0.5 * log2(0.5 / w) + 0.5 * log2(0.5 / (1 - w))) }
        let skew = q3 > q1 ? (q3 + q1 - 2 * q2) / (q3 - q1) : 0
        bits *= 1 - 0.5 * min(1, abs(skew))
        let span = events[events.count - 1] - events[0]
        let sm = Stats.median(sizes)
        let smad = Stats.median(sizes.map { abs($0 - sm) })
        let sizeRegular = sm > 0 ? 1 - min(1, smad / sm) : 1
        bits *= 0.6 + 0.4 * sizeRegular
        let coverage = span > 0 ? min(1, Double(events.count - 1) * q2 / span) : 1
        bits *= 0.5 + 0.5 * coverage
        return Regularity(bits: bits, period: q2, mad: mad, sizeMedian: sm, coverage: coverage, events: events.count)
    }

    func judge(_ key: PairKey, _ ctx: LearnContext) {
        guard var p = pairs[key] else { return }
        // A series by name only adds something when the name moved between addresses.
        if p.name != nil, p.addresses.count < 2 { pairs.modify(key) { $0.judgedAt = $0.count }; return }
        p.label = p.name.map { "\($0) (\(p.addresses.count) addresses)" }
            ?? ctx.name(of: p.resp).map { "\($0) (\(p.resp))" } ?? p.resp.description
        p.judgedAt = p.count
        pairs.modify(key) { $0.judgedAt = p.count }
        guard let reg = BeaconModel.regularity(p) else { return }
        let windowFull = p.count % BeaconModel.ring == 0
        var x = p.pastBits + reg.bits * (windowFull || p.count < BeaconModel.ring ? 1 : Double(p.count % BeaconModel.ring) / Double(BeaconModel.ring))
        if windowFull { pairs.modify(key) { $0.pastBits += reg.bits } }
        // Regular sessions to a login service are a guessing loop (the brute-force model's
        // business), not a callback.
        if p.ports.allSatisfy({ BruteForceModel.authPorts.contains($0) }) { x *= 0.25 }
        var users = 1
        if let ek = p.endpointKey, let e = ctx.endpoint(ek) {
            users = e.deviceCount
            if users >= 2 { x *= 2 / Double(users * users) }   // other devices poll it too
        }
        if baseline.nanoseconds > 0, let s = ctx.started, p.first - s < baseline, p.last - p.first > Duration(nanoseconds: baseline.nanoseconds / 4) {
            // It was already beating while the network was being learned: that is this
            // device's pattern of life (an IoT heartbeat), not news. Hunting for implants that
            // predate the install is a run with --baseline 0.
            x = min(x * 0.1, 5)
        }
        // While the network is being learned a regular pair cannot yet be told from the
        // heartbeats that belong to it; it is judged once the learning period is over.
        guard x > 6, !ctx.isLearning else { ctx.pass(name, surprisal: min(x, 6), device: p.device); return }
        let span = p.last - p.first
        ctx.judge(name, surprisal: x, device: p.device, subject: "\(key.orig)>\(key.resp)", at: p.last, needsHistory: false) {
            let peer = p.device == p.orig ? p.label : p.orig.description
            let dir = p.device == p.orig ? "to \(p.label)" : "from \(p.orig) to \(p.label)"
            let ports = p.ports.map(String.init).joined(separator: ",")
            return BreachDraft(
                reason: "\(ctx.label(p.device)): \(p.count) connections \(dir) (port \(ports)) at a regular interval of \(Self.period(reg.period)) (median; median deviation \(Self.period(reg.mad))), sizes around \(Bytes.human(reg.sizeMedian)), over \(Self.period(span.seconds)); \(users) device(s) on the network use this destination",
                first: p.first, last: p.last, endpoints: p.device == p.orig ? [p.endpointKey ?? p.label] : [p.orig.description],
                peers: p.device == p.orig ? [] : [peer], techniques: ["T1071", "T1573"],
                facts: ["connections": Double(p.count), "periodSeconds": reg.period, "madSeconds": reg.mad,
                        "coverage": reg.coverage, "medianBytes": reg.sizeMedian, "devicesUsing": Double(users)],
                scope: BreachScope(direction: p.device == p.orig ? .outbound : .inbound,
                                   peers: p.name != nil ? p.addresses.map(\.description) : [p.device == p.orig ? p.resp.description : p.orig.description]))
        }
    }

    static func period(_ s: Double) -> String {
        if s < 120 { return String(format: "%.1f s", s) }
        if s < 7200 { return String(format: "%.1f min", s / 60) }
        if s < 172_800 { return String(format: "%.1f h", s / 3600) }
        return String(format: "%.1f days", s / 86_400)
    }

    struct Saved: Codable { var pairs: BoundedTable<PairKey, Pair>; var screen: Screen }
    public func encodeState(_ e: JSONEncoder) throws -> Data { try e.encode(Saved(pairs: pairs, screen: screen)) }
    public func decodeState(_ d: JSONDecoder, _ data: Data) throws {
        let v = try d.decode(Saved.self, from: data); pairs = v.pairs; screen = v.screen
    }
}
