import Foundation
import VigilCore

/// Lateral movement: a device reaching internal peers it never reached before over
/// administration protocols (SMB, RPC including its dynamic ports, RDP, SSH, WinRM, VNC), judged by how often it and its
/// peer group take up new admin peers, and how many new ones it reached this hour.
public final class LateralMovementModel: LearningModel {
    public let name = "lateral-movement"
    public let summary = "a device reaches new internal peers over SMB, RPC, RDP, SSH, WinRM or VNC"
    static let adminPorts: [UInt16: String] = [445: "SMB", 139: "SMB", 135: "RPC", 593: "RPC", 3389: "RDP", 22: "SSH",
                                               5985: "WinRM", 5986: "WinRM", 5900: "VNC"]
    static let adminServices: [String: String] = ["smb": "SMB", "dce_rpc": "RPC", "rdp": "RDP", "ssh": "SSH", "ntlm": "SMB", "winrm": "WinRM"]
    struct Device: Codable {
        var peers = BoundedKeySet(capacity: 96)
        var rate = NoveltyRate()
        var hour: Int64 = .min
        var newThisHour = 0.0
        var recent: [String] = []
    }
    struct State: Codable {
        var devices: BoundedTable<IPAddress, Device>
        var network = NoveltyRate()
        /// Peer groups whose devices use admin protocols, by group: devices seen doing so.
        var groupAdmins: [Int: Int] = [:]
    }
    var s: State

    public init(_ c: LearnConfiguration) { s = State(devices: BoundedTable(capacity: c.maxDevices)) }

    public func conn(_ f: ConnFacts, _ ctx: LearnContext) {
        guard f.isInternal, f.deviceIsOrig, f.proto == .tcp, !f.failed else { return }
        // DCE/RPC moves to a dynamic port after the endpoint mapper (psexec, WMI, DCOM): a
        // session with data both ways to another device's 49152+ port counts as RPC too.
        let dynamicRPC = f.respPort >= 49152 && f.origBytes > 0 && f.respBytes > 0 && f.service.isEmpty
        let proto = f.service.lazy.compactMap { LateralMovementModel.adminServices[$0] }.first
            ?? LateralMovementModel.adminPorts[f.respPort] ?? (dynamicRPC ? "RPC (dynamic port)" : nil)
        guard let proto else { return }
        let k = Stats.hash(f.peer, UInt64(f.respPort))
        let hour = LearnClock.hourIndex(f.ts)
        let group = ctx.devices.peek(f.device, { $0.pointee.group }) ?? 0
        var wasAdmin = true
        let (isNew, before, burst, recent) = s.devices.update(f.device, at: f.ts, make: { wasAdmin = false; return Device() }) { d -> (Bool, NoveltyRate, Double, [String]) in
            let b = d.rate
            let n = d.peers.insert(k)
            d.rate.record(isNew: n)
            if d.hour != hour { d.hour = hour; d.newThisHour = 0; d.recent = [] }
            if n {
                d.newThisHour += 1
                if d.recent.count < 6 { d.recent.append("\(f.peer):\(f.respPort)") }
            }
            return (n, b, d.newThisHour, d.recent)
        }
        s.network.record(isNew: isNew)
        if !wasAdmin { s.groupAdmins[group, default: 0] += 1 }
        guard isNew else { return }
        let admins = s.groupAdmins[group] ?? 0
        let size = max(1, ctx.groups.size(of: group))
        let prior = s.network.probabilityNew(priorNew: 1, priorTrials: 20)
        // A device that never used admin protocols has its group's habits as its prior.
        let groupShare = min(1, (Double(admins) + 0.5) / Double(size + 1))
        let pNew = before.probabilityNew(priorNew: 5 * prior * groupShare, priorTrials: 5)
        let x = -log2(max(pNew, 1e-12)) + max(0, Stats.poissonTailBits(burst, lambda: max(1, pNew * 10)))
        guard x > 4 else { ctx.pass(name, surprisal: x, device: f.device); return }
        ctx.judge(name, surprisal: x, device: f.device, subject: "hour \(hour)", at: f.ts, needsHistory: true) {
            BreachDraft(
                reason: "\(ctx.label(f.device)) connected over \(proto) to \(ctx.label(f.peer)) for the first time; it has reached \(Int(burst)) new admin peer(s) this hour (\(recent.joined(separator: ", "))); before this it took up a new admin peer in \(Int(before.news)) of \(Int(before.trials)) admin connections, and \(admins) of \(size) devices in its peer group use admin protocols",
                first: f.ts, last: f.ts, peers: LateralMovementModel.devices(in: recent, first: f.peer.description),
                techniques: ["T1021" + (proto == "SMB" ? ".002" : proto == "RDP" ? ".001" : proto == "SSH" ? ".004" : proto == "WinRM" ? ".006" : proto == "VNC" ? ".005" : ""), "T1570"],
                facts: ["newPeersThisHour": burst, "deviceNewRate": pNew, "groupAdmins": Double(admins), "groupSize": Double(size)],
                scope: BreachScope(direction: .outbound, peers: [f.peer.description], ports: [f.respPort]))
        }
    }

    /// The devices behind "address:port" entries, the breach's own peer first.
    static func devices(in recent: [String], first: String) -> [String] {
        var out = [first]
        for r in recent {
            guard let colon = r.lastIndex(of: ":") else { continue }
            let ip = String(r[..<colon])
            if !out.contains(ip) { out.append(ip) }
        }
        return out
    }

    public func encodeState(_ e: JSONEncoder) throws -> Data { try e.encode(s) }
    public func decodeState(_ d: JSONDecoder, _ data: Data) throws { s = try d.decode(State.self, from: data) }
}
