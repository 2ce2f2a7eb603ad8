import Foundation
import VigilCore

/// Web probing: one client asking one web server for many different things it does not have —
/// a run of distinct requests answered with client errors (4xx) in a short time, as vulnerability
/// scanners, directory guessers and nmap's scripts do, and as a browser does not (a missing icon
/// fails once, or the same way again). Judged per client-server pair per 10 minutes, as the
/// distinct failing requests cross 8, 16, 32, ..., against the learned count per pair-window.
/// A client inside probing a server anywhere is judged; an outside client probing a server here
/// is the Internet's background noise on any public server and is left to the scan model.
public final class WebProbeModel: LearningModel {
    public let name = "web-probe"
    public let summary = "many distinct web requests failing with client errors from one server in a short time"
    static let window: Int64 = 600
    struct Pair: Codable {
        var device: IPAddress
        var server: IPAddress
        var host: String
        var start: Int64
        var requests = 0.0, errors = 0.0
        var distinct = DistinctCounter()
        var samples: [String] = []
        /// Requests the server answered with success while the client was probing it: what the
        /// probing found (an exposed /.git/config answering 200 is the finding a responder wants).
        var answered: [String] = []
        var successes = 0.0
        var first = Timestamp.zero, last = Timestamp.zero
        var nextAlarm = 8.0
        /// The distinct count last judged: a closing window is judged again only if it grew.
        var judged = 0.0
        var grewSinceJudged: Bool { distinct.estimate.rounded() > max(judged, 7) }
    }
    struct State: Codable {
        var pairs: BoundedTable<String, Pair>
        var normal = CompactMoments()
    }
    var s: State

    public init(_ c: LearnConfiguration) {
        s = State(pairs: BoundedTable(capacity: c.maxPairs / 4), normal: CompactMoments(priorCount: 1, samples: 10, variance: 0.5, cap: 5000))
    }

    public func http(_ r: HTTPRecord, device: IPAddress, _ ctx: LearnContext) {
        guard device == r.id.origHost, let status = r.statusCode else { return }
        let error = status >= 400 && status < 500
        let key = "\(r.id.origHost)>\(r.id.respHost):\(r.id.respPort)"
        let t = Int64(r.ts.seconds)
        var closed: Pair?
        func fresh() -> Pair { Pair(device: device, server: r.id.respHost, host: r.id.respHost.description, start: t) }
        let request = { "\(r.method ?? "-") \(r.uri ?? "-")" }
        let alarm = s.pairs.update(key, at: r.ts, make: fresh) { p -> Bool in
            if t >= p.start + WebProbeModel.window { closed = p; p = fresh() }
            p.requests += 1
            if p.host == p.server.description, let h = r.host, !h.isEmpty { p.host = h }
            if status >= 200 && status < 300, p.errors > 0 {
                p.successes += 1
                if p.answered.count < 4 { p.answered.append("\(request().prefix(60)) \(status)") }
            }
            guard error else { return false }
            p.errors += 1
            if p.first == .zero { p.first = r.ts }
            p.last = max(p.last, r.ts)
            let asked = request()
            guard p.distinct.insert(hash: Stats.hash(asked)) else { return false }
            if p.samples.count < 4 { p.samples.append("\(asked.prefix(60)) \(status)") }
            guard p.distinct.estimate >= p.nextAlarm else { return false }
            p.nextAlarm *= 2
            p.judged = p.distinct.estimate.rounded()
            return true
        }
        if let c = closed { close(c, ctx) }
        if alarm, let p = s.pairs[key] { judge(p, ctx) }
    }

    /// A window ends: what it drew is learned, and judged once more if it grew since its last alarm.
    func close(_ p: Pair, _ ctx: LearnContext) {
        if p.grewSinceJudged { judge(p, ctx) }
        learn(p)
    }

    func learn(_ p: Pair) { s.normal.add(log1p(p.distinct.estimate.rounded()), cap: 5000) }

    public func hourEnded(_ hour: Int64, _ ctx: LearnContext) {
        let end = (hour + 1) * 3600
        var old: [Pair] = []
        s.pairs.forEach { _, p in if p.start + WebProbeModel.window <= end { old.append(p) } }
        s.pairs.removeAll { _, p in p.start + WebProbeModel.window <= end }
        for p in old { close(p, ctx) }
    }

    public func finish(_ ctx: LearnContext) {
        var open: [Pair] = []
        s.pairs.forEach { _, p in open.append(p) }
        for p in open where p.grewSinceJudged { judge(p, ctx) }
    }

    func judge(_ p: Pair, _ ctx: LearnContext) {
        let distinct = min(p.distinct.estimate.rounded(), p.errors)
        let lambda = s.normal.countCeiling
        let errorShare = p.errors / max(1, p.requests)
        let x = Stats.poissonTailBits(distinct, lambda: lambda) * min(1, 2 * errorShare)
        guard x > 5 else { ctx.pass(name, surprisal: x, device: p.device); return }
        let inside = ctx.isLocal(p.server)
        ctx.judge(name, surprisal: x, device: p.device, subject: "\(p.device)>\(p.server)", at: p.last, needsHistory: false) {
            BreachDraft(
                reason: "\(ctx.label(p.device)) made \(Int(distinct)) distinct web requests that \(p.server) refused with client errors\(p.host == p.server.description ? "" : " (as \(p.host))") within \(Int(((p.last - p.first).seconds / 60).rounded(.up))) minute(s) (\(Int((errorShare * 100).rounded()))% of \(Int(p.requests)) requests failed; e.g. \(p.samples.joined(separator: ", "))), as web vulnerability scanners and path guessers do; \(p.successes == 0 ? "none of its requests succeeded after the probing began" : "\(Int(p.successes)) succeeded after the probing began (\(p.answered.joined(separator: ", ")))"); a client usually draws about \(Int(lambda.rounded())) in such a window",
                first: p.first, last: p.last, endpoints: inside ? [] : [p.server.description], peers: [p.server.description],
                techniques: inside ? ["T1046"] : ["T1595"],
                facts: ["distinctErrors": distinct, "errors": p.errors, "requests": p.requests, "succeededWhileProbing": p.successes, "normalPerWindow": lambda],
                scope: BreachScope(direction: .outbound, peers: [p.server.description]))
        }
    }

    public func encodeState(_ e: JSONEncoder) throws -> Data { try e.encode(s) }
    public func decodeState(_ d: JSONDecoder, _ data: Data) throws { s = try d.decode(State.self, from: data) }
}
