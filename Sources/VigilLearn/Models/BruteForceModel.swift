import Foundation
import VigilCore

/// Password guessing: many short sessions (or failed attempts) from one client to one
/// authentication service — SSH, RDP, SMB, FTP, Telnet, VNC, databases, mail, LDAP,
/// Kerberos — found by the analyzer's service name or the port. Judged per client-server-hour
/// as counts cross 10, 20, 40, ... against the learned sessions per client-server-hour.
public final class BruteForceModel: LearningModel {
    public let name = "brute-force"
    public let summary = "many short or failed sessions from one client to an authentication service"
    static let authPorts: Set<UInt16> = [21, 22, 23, 25, 88, 110, 143, 389, 445, 465, 587, 636, 993, 995, 1433, 3306, 3389, 5432, 5900, 5985, 5986]
    static let authServices: Set<String> = ["ssh", "ftp", "telnet", "rdp", "smb", "krb", "krb_tcp", "mysql", "ldap", "imap", "pop3", "smtp", "vnc"]
    struct Pair: Codable {
        var device: IPAddress
        var client: IPAddress
        var server: IPAddress
        var port: UInt16
        var service: String
        var hour: Int64 = .min
        var sessions = 0.0, failed = 0.0
        var first = Timestamp.zero, last = Timestamp.zero
        var nextAlarm = 10.0
    }
    struct State: Codable {
        var pairs: BoundedTable<String, Pair>
        var normal = CompactMoments()
    }
    var s: State

    public init(_ c: LearnConfiguration) {
        s = State(pairs: BoundedTable(capacity: c.maxPairs / 2), normal: CompactMoments(priorCount: 2, samples: 10, variance: 0.5, cap: 5000))
    }

    public func conn(_ f: ConnFacts, _ ctx: LearnContext) {
        let svc = f.service.first { BruteForceModel.authServices.contains($0) }
        guard f.proto == .tcp, svc != nil || BruteForceModel.authPorts.contains(f.respPort) else { return }
        let short = (f.duration?.seconds ?? 0) < 60 && f.respBytes < 20_000
        guard short || f.failed else { return }
        let key = "\(f.id.origHost)>\(f.id.respHost):\(f.respPort)"
        let hour = LearnClock.hourIndex(f.ts)
        var closed: Pair?
        let alarm = s.pairs.update(key, at: f.ts, make: {
            Pair(device: f.device, client: f.id.origHost, server: f.id.respHost, port: f.respPort, service: svc ?? "port \(f.respPort)")
        }) { p -> Bool in
            if p.hour != hour {
                if p.hour != .min { closed = p }
                p.hour = hour; p.sessions = 0; p.failed = 0; p.first = f.ts; p.nextAlarm = 10
            }
            p.sessions += 1
            if f.failed { p.failed += 1 }
            p.last = max(p.last, f.ts)
            if p.sessions >= p.nextAlarm { p.nextAlarm *= 2; return true }
            return false
        }
        if let c = closed, c.hour >= hour - 1 { s.normal.add(log1p(c.sessions), cap: 5000) }
        if alarm, let p = s.pairs[key] { judge(p, ctx) }
    }

    public func hourEnded(_ hour: Int64, _ ctx: LearnContext) {
        // A pair's count lives for its hour; older pairs only feed the learned rate.
        var old: [Double] = []
        s.pairs.forEach { _, p in if p.hour < hour { old.append(p.sessions) } }
        for v in old { s.normal.add(log1p(v), cap: 5000) }
        s.pairs.removeAll { _, p in p.hour < hour }
    }

    func judge(_ p: Pair, _ ctx: LearnContext) {
        let lambda = s.normal.countCeiling
        let x = Stats.poissonTailBits(p.sessions, lambda: lambda)
        guard x > 5 else { ctx.pass(name, surprisal: x, device: p.device); return }
        let inbound = p.device == p.server
        ctx.judge(name, surprisal: x, device: p.device, subject: "\(p.client)>\(p.server):\(p.port)", at: p.last, needsHistory: false) {
            BreachDraft(
                reason: "\(p.client) opened \(Int(p.sessions)) short \(p.service) sessions to \(p.server):\(p.port) within an hour (\(Int(p.failed)) failed outright), as password guessing does; a client usually opens about \(Int(lambda.rounded())) per hour to one server",
                first: p.first, last: p.last, endpoints: inbound && !ctx.isLocal(p.client) ? [p.client.description] : [],
                peers: [inbound ? p.client.description : p.server.description], techniques: ["T1110"],
                facts: ["sessions": p.sessions, "failed": p.failed, "normalPerHour": lambda, "port": Double(p.port)],
                scope: BreachScope(direction: inbound ? .inbound : .outbound, peers: [inbound ? p.client.description : p.server.description], ports: [p.port]))
        }
    }

    public func encodeState(_ e: JSONEncoder) throws -> Data { try e.encode(s) }
    public func decodeState(_ d: JSONDecoder, _ data: Data) throws { s = try d.decode(State.self, from: data) }
}
