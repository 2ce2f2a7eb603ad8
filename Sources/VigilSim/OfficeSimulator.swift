import Foundation
import VigilCore

/// Settings for `vigil simulate`.
public struct OfficeConfiguration: Sendable {
    public var devices = 40
    public var days = 7
    public var seed: UInt64 = 7
    /// A Monday, 00:00 UTC.
    public var start = Timestamp(seconds: 1_733_097_600)   // 2024-12-02
    public var attacks: [OfficeAttack] = []
    /// Benign novelty: a new laptop two days before the end, a new update server three days before.
    public var novelty = true
    public init() {}
}

/// Attacks the simulator can stage on the last working day.
public enum OfficeAttack: String, CaseIterable, Sendable, Codable {
    case beacon, exfiltration, scan, bruteforce, lateral, dnstunnel, dga
    /// One intrusion in three steps across two devices: a workstation scans for SMB, reaches
    /// a second workstation over SMB and RPC, and that one then beacons out.
    case campaign
    /// A workstation runs a web vulnerability scanner against the office's file server: hundreds of
    /// guessed paths in a few minutes, nearly all answered 404.
    case webscan
}

/// What was staged, for evaluation: which device, which peers, when.
public struct AttackLabel: Codable, Sendable, Hashable {
    public var attack: String
    public var device: String
    public var peers: [String]
    public var start: String
    public var end: String
    public var startSeconds: Double
    public var endSeconds: Double
    public var summary: String

    public init(attack: String, device: String, peers: [String], start: String, end: String,
                startSeconds: Double, endSeconds: Double, summary: String) {
        self.attack = attack; self.device = device; self.peers = peers; self.start = start; self.end = end
        self.startSeconds = startSeconds; self.endSeconds = endSeconds; self.summary = summary
    }
}

/// An office network's traffic with the rhythms of a working week — workstations busy 8-18 on
/// weekdays with a lunch dip, a few left on overnight, quiet weekends; servers and IoT
/// around the clock; printers taking jobs; a nightly backup upload; benign novelty (a new
/// laptop, a new update server) — and optional attacks with labels. Frames come out in
/// time order; memory holds only the frames in flight.
///
/// The learner must not depend on how this is built: it sees only the packets.
public final class OfficeSimulator: FrameSink {
    public let configuration: OfficeConfiguration
    public private(set) var labels: [AttackLabel] = []
    public private(set) var packets = 0
    public private(set) var sessions = 0
    var builder = PacketBuilder()
    private var heap = MinHeap<Timestamp, [UInt8]>()
    private var rng: SplitMix64

    enum Role { case workstation, server, fileServer, backupServer, printer, iot, laptop }
    struct Device {
        var ip: IPAddress
        var mac: UInt64
        var name: String
        var role: Role
        var personal: [String]
        var leavesOn: Bool
        var usesPrinter: Bool
        var appearsAt: Int64
        var vendor: Int
    }
    private var devices: [Device] = []
    private let gatewayMAC: UInt64 = 0x02_00_5E_00_00_01
    private let resolver = IPAddress(v4: 0x0A14_0001)   // 10.20.0.1
    private let popular: [String]
    private let zipf: [Double]

    public init(_ c: OfficeConfiguration) {
        configuration = c
        rng = SplitMix64(mixing: c.seed)
        let brands = ["news", "mail", "docs", "video", "search", "social", "shop", "maps", "weather", "bank", "travel", "wiki", "code", "chat", "music", "cloud"]
        var names: [String] = []
        for i in 0..<160 { names.append("\(brands[i % brands.count])\(i / brands.count == 0 ? "" : String(i / brands.count))-example.\(["com", "net", "org"][i % 3])") }
        popular = names
        var w: [Double] = []
        var total = 0.0
        for i in 0..<names.count { let v = 1 / pow(Double(i + 1), 1.1); total += v; w.append(total) }
        zipf = w.map { $0 / total }
        buildDevices()
    }

    private func buildDevices() {
        let n = max(6, configuration.devices)
        let servers = max(3, n / 10), printers = max(1, n / 20), iot = max(1, n / 10)
        let workstations = n - servers - printers - iot
        func add(_ role: Role, _ i: Int, _ block: UInt32, _ name: String) {
            // 10.(20 + role).(i / 240).(10 + i % 240): room for any number of devices per role.
            let ip = IPAddress(v4: 0x0A00_0000 | (20 + block) << 16 | UInt32(i / 240) << 8 | UInt32(10 + i % 240))
            var personal: [String] = []
            for k in 0..<20 { personal.append("p\(devices.count)-\(k).hobby\(k % 5).example") }
            devices.append(Device(ip: ip, mac: 0x02_10_00_00_00_00 | UInt64(devices.count + 1), name: name, role: role,
                                  personal: personal, leavesOn: rng.unit() < 0.2, usesPrinter: rng.unit() < 0.5,
                                  appearsAt: 0, vendor: i % 2))
        }
        for i in 0..<workstations { add(.workstation, i, 1, "ws-\(String(format: "%03d", i + 1))") }
        add(.fileServer, 0, 2, "files")
        add(.backupServer, 1, 2, "backup")
        for i in 2..<servers { add(.server, i, 2, "srv-\(i)") }
        for i in 0..<printers { add(.printer, i, 3, "printer-\(i + 1)") }
        for i in 0..<iot { add(.iot, i, 4, "iot-\(i + 1)") }
        if configuration.novelty, configuration.days >= 3 {
            add(.laptop, 0, 5, "laptop-new")
            devices[devices.count - 1].appearsAt = Int64(configuration.days - 2) * 86_400 + 9 * 3600
        }
    }

    private var workstations: [Int] { devices.indices.filter { devices[$0].role == .workstation } }
    private func first(_ r: Role) -> Int? { devices.firstIndex { $0.role == r } }

    /// An external address for a name: stable, in documentation/benchmark ranges.
    static func address(of name: String) -> IPAddress {
        var h: UInt32 = 2_166_136_261
        for b in name.utf8 { h = (h ^ UInt32(b)) &* 16_777_619 }
        return IPAddress(v4: 0xC612_0000 | (h & 0x0001_FFFF))   // 198.18.0.0/15
    }

    func push(_ ts: Timestamp) { heap.push(builder.bytes, key: ts) }

    /// Generates everything, calling `emit` with each frame in time order.
    public func run(_ emit: (Timestamp, UnsafeRawBufferPointer) -> Void) {
        let hours = configuration.days * 24
        for h in 0..<hours {
            let hourStart = configuration.start + .seconds(Int64(h) * 3600)
            var plan: [(Timestamp, Int, Int)] = []   // time, device, kind
            for d in devices.indices { planHour(d, hour: h, start: hourStart, into: &plan) }
            plan.sort { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
            // Attacks first (their frames wait in the queue), then the hour's sessions in time
            // order; frames older than the next session's start are final and leave at once,
            // so memory holds only what is in flight.
            stageAttacks(hour: h, start: hourStart)
            for (t, d, k) in plan {
                while let top = heap.minKey, top < t { send(top, heap.popMin() ?? [], emit) }
                render(d, kind: k, at: t)
            }
            let end = hourStart + .seconds(3600)
            while let top = heap.minKey, top < end { send(top, heap.popMin() ?? [], emit) }
        }
        while let top = heap.minKey { send(top, heap.popMin() ?? [], emit) }
    }

    private func send(_ ts: Timestamp, _ f: [UInt8], _ emit: (Timestamp, UnsafeRawBufferPointer) -> Void) {
        packets += 1
        f.withUnsafeBytes { emit(ts, $0) }
    }

    // MARK: - Rhythms

    private func poisson(_ mean: Double) -> Int {
        if mean > 30 { return max(0, Int((mean + mean.squareRoot() * gaussian()).rounded())) }
        let l = exp(-mean)
        var k = 0, p = 1.0
        repeat { k += 1; p *= rng.unit() } while p > l
        return k - 1
    }
    private func gaussian() -> Double {
        let u = max(1e-12, rng.unit()), v = rng.unit()
        return (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
    }

    /// Kinds: 0 web TLS, 1 personal TLS, 2 http, 3 smb, 4 print, 5 intranet, 6 new site,
    /// 10 ntp, 11 update check, 20 iot heartbeat, 30 backup, 31 backup pull, 40 dhcp.
    private func planHour(_ d: Int, hour h: Int, start: Timestamp, into plan: inout [(Timestamp, Int, Int)]) {
        let dev = devices[d]
        let secondsIn = Int64(h) * 3600
        if secondsIn + 3600 <= dev.appearsAt { return }
        let hod = h % 24, day = h / 24
        let weekend = day % 7 >= 5
        func at(_ within: Double) -> Timestamp { start + Duration(nanoseconds: Int64(within * 3.6e12)) }
        if dev.role == .laptop, secondsIn <= dev.appearsAt, dev.appearsAt < secondsIn + 3600 {
            plan.append((start + .seconds(dev.appearsAt - secondsIn), d, 40))
        }
        switch dev.role {
        case .workstation, .laptop:
            let working = !weekend && hod >= 8 && hod < 18 && (dev.role == .laptop || rng.unit() > 0.03)
            let weekendWork = weekend && hod >= 10 && hod < 16 && d % 9 == 0
            let on = working || weekendWork || dev.leavesOn || (!weekend && hod >= 7 && hod < 19)
            guard on else { return }
            if working || weekendWork {
                let lunch = hod == 12 ? 0.4 : 1.0
                let n = poisson(22 * lunch * (weekendWork ? 0.4 : 1))
                for _ in 0..<n {
                    let r = rng.unit()
                    let kind = r < 0.58 ? 0 : r < 0.72 ? 1 : r < 0.78 ? 2 : r < 0.88 ? 3 : r < 0.93 ? (dev.usesPrinter ? 4 : 0) : r < 0.985 ? 5 : 6
                    plan.append((at(rng.unit()), d, kind))
                }
            }
            plan.append((at(rng.unit()), d, 10))
            if hod % 4 == d % 4 { plan.append((at(rng.unit()), d, 11)) }
        case .server, .fileServer:
            plan.append((at(rng.unit()), d, 10))
            plan.append((at(rng.unit()), d, 11))
        case .backupServer:
            plan.append((at(rng.unit()), d, 10))
            if hod == 0 { plan.append((at(0.5 + rng.unit() * 0.05), d, 31)) }
            if hod == 1 { plan.append((at(rng.unit() * 0.1), d, 30)) }
        case .printer:
            if hod % 6 == 0 { plan.append((at(rng.unit()), d, 10)) }
        case .iot:
            var t = 5.0 + rng.unit() * 10
            while t < 3600 { plan.append((start + Duration(nanoseconds: Int64(t * 1e9)), d, 20)); t += 300 * (0.95 + 0.1 * rng.unit()) }
        }
    }

    private func endpoint(_ d: Int, port: UInt16? = nil) -> PacketBuilder.Endpoint {
        PacketBuilder.Endpoint(mac: devices[d].mac, ip: devices[d].ip, port: port ?? UInt16(40000 + rng.int(20000)))
    }
    private func external(_ name: String, port: UInt16) -> PacketBuilder.Endpoint {
        PacketBuilder.Endpoint(mac: gatewayMAC, ip: Self.address(of: name), port: port)
    }
    private var rtt: Duration { Duration(nanoseconds: Int64(2_000_000 + rng.int(30_000_000))) }

    private func render(_ d: Int, kind: Int, at t: Timestamp) {
        sessions += 1
        let dev = devices[d]
        let cal = Int((t.nanoseconds / 1_000_000_000 - configuration.start.nanoseconds / 1_000_000_000) / 86_400)
        switch kind {
        case 0:
            var u = rng.unit(), i = 0
            while i < zipf.count - 1 && zipf[i] < u { i += 1 }
            u = 0
            tls(d, popular[i], at: t, up: 400 + rng.int(3000), down: 2000 + rng.int(60000))
        case 1: tls(d, dev.personal[rng.int(dev.personal.count)], at: t, up: 500 + rng.int(2000), down: 3000 + rng.int(40000))
        case 2: http(d, popular[rng.int(40)], at: t)
        case 3:
            if let fs = first(.fileServer) { tcp(d, to: endpoint(fs, port: 445), at: t, up: 300 + rng.int(4000), down: 1000 + rng.int(200_000), serverMAC: devices[fs].mac) }
        case 4:
            if let p = first(.printer) { tcp(d, to: endpoint(p, port: 9100), at: t, up: 20_000 + rng.int(400_000), down: 0, serverMAC: devices[p].mac) }
        case 5:
            let servers = devices.indices.filter { devices[$0].role == .server }
            if let s = servers.first { tcp(d, to: endpoint(s, port: 443), at: t, up: 600 + rng.int(2000), down: 4000 + rng.int(30000), serverMAC: devices[s].mac) }
        case 6: tls(d, "site\(rng.int(1_000_000)).example", at: t, up: 500, down: 5000 + rng.int(30000))
        case 10: ntp(d, at: t)
        case 11:
            let newer = configuration.novelty && cal >= configuration.days - 3 && dev.role != .server && dev.role != .fileServer
            tls(d, newer ? "update2.vendor.example" : "update.vendor.example", at: t, up: 800, down: 1500 + rng.int(4000))
        case 20: tls(d, dev.vendor == 0 ? "telemetry.iotcloud.example" : "hub.smarthome.example", at: t, up: 300 + rng.int(40), down: 200 + rng.int(40), lookup: 0.1)
        case 30: bulk(d, to: external("backup.offsite.example", port: 443), at: t, bytes: 60_000_000 + rng.int(80_000_000))
        case 31:
            if let fs = first(.fileServer) { var e = endpoint(fs, port: 445); e.mac = devices[fs].mac; bulkPull(d, from: e, at: t, bytes: 40_000_000 + rng.int(60_000_000)) }
        case 40: dhcp(d, at: t)
        default: break
        }
    }

    // MARK: - Sessions

    private func dns(_ d: Int, _ name: String, type: UInt16 = 1, nx: Bool = false, at t: Timestamp) {
        let c = endpoint(d)
        let s = PacketBuilder.Endpoint(mac: gatewayMAC, ip: resolver, port: 53)
        let id = UInt16(truncatingIfNeeded: rng.next())
        builder.udp(c, s, payloadArray: Payloads.dnsQuery(id: id, name: name, type: type))
        push(t)
        let a = nx || type != 1 ? [] : [Self.address(of: name).v4]
        builder.udp(s, c, payloadArray: Payloads.dnsResponse(id: id, name: name, type: type, answers: a, ttl: 300, nx: nx))
        push(t + rtt)
    }

    private func tls(_ d: Int, _ name: String, at t: Timestamp, up: Int, down: Int, lookup: Double = 0.35) {
        var start = t
        if rng.unit() < lookup { dns(d, name, at: t); start = t + .milliseconds(30) }
        var conv = TCPConversation(client: endpoint(d), server: external(name, port: 443), start: start, rtt: rtt, vlan: nil, isn: (rng.u32(), rng.u32()))
        conv.handshake(self)
        conv.send(Payloads.clientHello(sni: name, alpn: ["h2", "http/1.1"], grease: true, random: rng.next()), fromClient: true, self)
        conv.send(Payloads.serverHello(alpn: "h2") + Payloads.appData(min(down, 12_000)), fromClient: false, self)
        conv.send(Payloads.appData(up), fromClient: true, self)
        if down > 12_000 { conv.send(Payloads.appData(down - 12_000), fromClient: false, self) }
        conv.close(self)
    }

    private func http(_ d: Int, _ name: String, at t: Timestamp) {
        dns(d, name, at: t)
        var conv = TCPConversation(client: endpoint(d), server: external(name, port: 80), start: t + .milliseconds(30), rtt: rtt, vlan: nil, isn: (rng.u32(), rng.u32()))
        conv.handshake(self)
        conv.send(Payloads.httpRequest(host: name, path: "/index\(rng.int(50)).html", agent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64)"), fromClient: true, self)
        // About one page in twenty is missing (a stale link): drawn from the time, not the
        // generator, so adding it left every other draw of the simulated weeks as it was.
        let missing = ((UInt64(bitPattern: t.nanoseconds) &+ UInt64(d)) &* 0x9E37_79B9_7F4A_7C15) >> 58 < 3
        conv.send(Payloads.httpResponse(status: missing ? 404 : 200, body: 1000 + rng.int(30000), chunked: false), fromClient: false, self)
        conv.close(self)
    }

    private func tcp(_ d: Int, to server: PacketBuilder.Endpoint, at t: Timestamp, up: Int, down: Int, serverMAC: UInt64) {
        var s = server
        s.mac = serverMAC
        var conv = TCPConversation(client: endpoint(d), server: s, start: t, rtt: Duration(nanoseconds: 400_000), vlan: nil, isn: (rng.u32(), rng.u32()))
        conv.handshake(self)
        if up > 60_000 { conv.sendSparse(up, fromClient: true, self) } else { conv.send([UInt8](repeating: 0x53, count: up), fromClient: true, self) }
        if down > 60_000 { conv.sendSparse(down, fromClient: false, self) } else if down > 0 { conv.send([UInt8](repeating: 0x54, count: down), fromClient: false, self) }
        conv.close(self)
    }

    private func bulk(_ d: Int, to server: PacketBuilder.Endpoint, at t: Timestamp, bytes: Int) {
        var conv = TCPConversation(client: endpoint(d), server: server, start: t, rtt: rtt, vlan: nil, isn: (rng.u32(), rng.u32()))
        conv.handshake(self)
        conv.send(Payloads.clientHello(sni: nil, alpn: [], grease: false, random: rng.next()), fromClient: true, self)
        conv.send(Payloads.serverHello(alpn: nil), fromClient: false, self)
        conv.sendSparse(bytes, fromClient: true, self)
        conv.close(self)
    }

    private func bulkPull(_ d: Int, from server: PacketBuilder.Endpoint, at t: Timestamp, bytes: Int) {
        var conv = TCPConversation(client: endpoint(d), server: server, start: t, rtt: Duration(nanoseconds: 400_000), vlan: nil, isn: (rng.u32(), rng.u32()))
        conv.handshake(self)
        conv.send([UInt8](repeating: 0x51, count: 200), fromClient: true, self)
        conv.sendSparse(bytes, fromClient: false, self)
        conv.close(self)
    }

    private func ntp(_ d: Int, at t: Timestamp) {
        let c = endpoint(d, port: 123)
        let s = external("time.ntp.example", port: 123)
        builder.udp(c, s, payloadArray: [UInt8](repeating: 0x23, count: 48))
        push(t)
        builder.udp(s, c, payloadArray: [UInt8](repeating: 0x24, count: 48))
        push(t + rtt)
    }

    private func dhcp(_ d: Int, at t: Timestamp) {
        let dev = devices[d]
        let xid = rng.u32()
        dhcpExchange(mac: dev.mac, address: dev.ip, name: dev.name, server: resolver, serverMAC: gatewayMAC, xid: xid, at: t)
    }

    // MARK: - Attacks

    /// Workstation addresses, for placing a foreign capture onto baseline devices.
    public var workstationAddresses: [IPAddress] { workstations.map { devices[$0].ip } }

    /// 10:00 on the day attacks are staged.
    public var attackWindowStart: Timestamp { configuration.start + .seconds(Int64(attackDay) * 86_400 + 10 * 3600) }

    /// The last weekday of the run (attacks happen in working hours there).
    private var attackDay: Int {
        var d = configuration.days - 1
        while d > 0 && d % 7 >= 5 { d -= 1 }
        return d
    }

    /// The i-th attacked workstation: a stride coprime with the number of workstations, so
    /// attacks land on distinct devices while there are enough of them.
    private func victim(_ i: Int) -> Int {
        let ws = workstations
        let step = [3, 5, 7, 11].first { ws.count % $0 != 0 } ?? 1
        return ws[(i * step + 1) % ws.count]
    }

    /// Every workstation an attack starts from or lands on (the campaign's second device too).
    private var victims: Set<Int> {
        let n = configuration.attacks.count
        var v = Set((0..<n).map(victim))
        if let c = configuration.attacks.firstIndex(of: .campaign) { v.insert(victim(c + n)) }
        return v
    }

    private func label(_ a: OfficeAttack, _ d: Int, _ peers: [String], _ s: Timestamp, _ e: Timestamp, _ text: String) {
        labels.append(AttackLabel(attack: a.rawValue, device: devices[d].ip.description, peers: peers, start: s.iso8601, end: e.iso8601,
                                  startSeconds: s.seconds, endSeconds: e.seconds, summary: text))
    }

    private func stageAttacks(hour h: Int, start: Timestamp) {
        guard h / 24 == attackDay else { return }
        let hod = h % 24
        for (i, a) in configuration.attacks.enumerated() {
            let d = victim(i)
            switch (a, hod) {
            case (.beacon, 9...16):
                let c2 = "cdn-sync.example"
                var t = start + .seconds(Int64(rng.int(60)))
                let end = start + .seconds(3600)
                if hod == 9 { dns(d, c2, at: start) }
                while t < end {
                    tls(d, c2, at: t, up: 180 + rng.int(20), down: 90 + rng.int(20), lookup: 0)
                    t = t + Duration(nanoseconds: Int64((60 * (0.8 + 0.4 * rng.unit())) * 1e9))
                }
                if hod == 16 { label(a, d, [Self.address(of: c2).description], start + .seconds(-7 * 3600), end, "HTTPS beacon every 60 s ±20% to \(c2) for 8 hours") }
            case (.exfiltration, 14):
                let drop = external("files.transfer-drop.example", port: 443)
                dns(d, "files.transfer-drop.example", at: start + .seconds(600))
                for k in 0..<4 { bulk(d, to: drop, at: start + .seconds(Int64(610 + k * 400)), bytes: 120_000_000 + rng.int(40_000_000)) }
                label(a, d, [drop.ip.description], start + .seconds(600), start + .seconds(2400), "about 560 MB uploaded to files.transfer-drop.example in 4 connections")
            case (.scan, 11):
                let t0 = start + .seconds(900)
                for k in 0..<254 {
                    for port: UInt16 in [445, 22, 3389] {
                        let target = PacketBuilder.Endpoint(mac: gatewayMAC, ip: IPAddress(v4: 0x0A15_0000 | UInt32(k + 1)), port: port)
                        var conv = TCPConversation(client: endpoint(d), server: target, start: t0 + Duration(nanoseconds: Int64(k * 3 + Int(port % 3)) * 200_000_000), rtt: Duration(nanoseconds: 300_000), vlan: nil, isn: (rng.u32(), rng.u32()))
                        if rng.unit() < 0.5 { conv.reject(self) } else { conv.unanswered(self, retries: 0) }
                    }
                }
                label(a, d, ["10.21.0.0/24"], t0, t0 + .seconds(160), "horizontal scan of 254 hosts on 445, 22, 3389")
            case (.bruteforce, 15):
                guard let s = devices.indices.first(where: { devices[$0].role == .server }) else { break }
                let t0 = start + .seconds(300)
                for k in 0..<150 {
                    var conv = TCPConversation(client: endpoint(d), server: endpoint(s, port: 22), start: t0 + .seconds(Int64(k * 8)), rtt: Duration(nanoseconds: 500_000), vlan: nil, isn: (rng.u32(), rng.u32()))
                    conv.handshake(self)
                    conv.send(Array("SSH-2.0-OpenSSH_9.6\r\n".utf8), fromClient: false, self)
                    conv.send(Array("SSH-2.0-libssh_0.9.6\r\n".utf8), fromClient: true, self)
                    conv.send(Payloads.sshKexinit(client: true), fromClient: true, self)
                    conv.send(Payloads.sshKexinit(client: false), fromClient: false, self)
                    conv.send([UInt8](repeating: 0x5E, count: 300), fromClient: true, self)
                    conv.send([UInt8](repeating: 0x5F, count: 100), fromClient: false, self)
                    conv.close(self)
                }
                label(a, d, [devices[s].ip.description], t0, t0 + .seconds(1200), "150 SSH login attempts to \(devices[s].name) in 20 minutes")
            case (.lateral, 13):
                let t0 = start + .seconds(1200)
                // Devices no other staged attack touches, so each attack's ground truth stays its own.
                let spare = workstations.filter { $0 != d && !victims.contains($0) }
                let targets = (spare.count >= 6 ? spare : workstations.filter { $0 != d }).prefix(6)
                var peers: [String] = []
                for (k, w) in targets.enumerated() {
                    for port: UInt16 in [445, 135] {
                        tcp(d, to: endpoint(w, port: port), at: t0 + .seconds(Int64(k * 90 + (port == 135 ? 20 : 0))), up: 3000 + rng.int(20000), down: 2000 + rng.int(8000), serverMAC: devices[w].mac)
                    }
                    peers.append(devices[w].ip.description)
                }
                label(a, d, peers, t0, t0 + .seconds(600), "SMB and RPC to 6 workstations it never used (psexec-style)")
            case (.dnstunnel, 10):
                let zone = "t.exfil-dns.example"
                let t0 = start + .seconds(600)
                for k in 0..<1500 {
                    var sub = ""
                    for _ in 0..<48 { sub.append(Character(UnicodeScalar(UInt8(rng.int(26)) + (rng.unit() < 0.3 ? 50 : 97)))) }
                    dns(d, "\(sub).\(k % 7).\(zone)", type: 16, at: t0 + .milliseconds(Int64(k) * 1200))
                }
                label(a, d, [zone], t0, t0 + .seconds(1800), "1500 TXT queries with random 48-character subdomains under \(zone)")
            case (.webscan, 14):
                // The file server: the password guessing goes to the first application server, and
                // each staged attack keeps a ground truth of its own.
                guard let s = devices.indices.first(where: { devices[$0].role == .fileServer }) else { break }
                let t0 = start + .seconds(1500)
                let words = ["admin", "backup", ".env", "wp-login.php", "phpmyadmin", ".git/config", "server-status", "api", "login",
                             "config.php", "test", "old", "db", "uploads", "cgi-bin/status", "shell", "console", "debug"]
                for k in 0..<400 {
                    let path = k < words.count ? "/" + words[k] : "/\(words[k % words.count])\(k / words.count)"
                    var conv = TCPConversation(client: endpoint(d), server: endpoint(s, port: 80), start: t0 + .milliseconds(Int64(k) * 600), rtt: Duration(nanoseconds: 400_000), vlan: nil, isn: (rng.u32(), rng.u32()))
                    conv.handshake(self)
                    conv.send(Payloads.httpRequest(host: devices[s].name, path: path, agent: "Mozilla/5.00 (Nikto/2.5.0)"), fromClient: true, self)
                    conv.send(Payloads.httpResponse(status: k % 25 == 0 ? 200 : 404, body: 200 + rng.int(300), chunked: false), fromClient: false, self)
                    conv.close(self)
                }
                label(a, d, [devices[s].ip.description], t0, t0 + .seconds(240), "web vulnerability scan of \(devices[s].name): 400 guessed paths in 4 minutes, 96% not found")
            case (.dga, 16):
                let t0 = start + .seconds(300)
                for k in 0..<250 {
                    var n = ""
                    for _ in 0..<(10 + rng.int(8)) { n.append(Character(UnicodeScalar(UInt8(97 + rng.int(26))))) }
                    dns(d, "\(n).\(["com", "net", "info", "biz"][k % 4])", nx: k % 40 != 0, at: t0 + .milliseconds(Int64(k) * 2400))
                }
                label(a, d, ["dga"], t0, t0 + .seconds(600), "250 lookups of generated domains, almost all NXDOMAIN")
            case (.campaign, 11...16):
                let b = victim(i + configuration.attacks.count)
                let c2 = "update-check.example"
                if hod == 11 {
                    let t0 = start + .seconds(300)
                    for k in 0..<60 {
                        let target = PacketBuilder.Endpoint(mac: gatewayMAC, ip: IPAddress(v4: 0x0A16_0000 | UInt32(k + 1)), port: 445)
                        var conv = TCPConversation(client: endpoint(d), server: target, start: t0 + .milliseconds(Int64(k) * 500), rtt: Duration(nanoseconds: 300_000), vlan: nil, isn: (rng.u32(), rng.u32()))
                        if rng.unit() < 0.5 { conv.reject(self) } else { conv.unanswered(self, retries: 0) }
                    }
                    let t1 = start + .seconds(2400)
                    for port: UInt16 in [445, 135] {
                        tcp(d, to: endpoint(b, port: port), at: t1 + .seconds(port == 135 ? 15 : 0), up: 8000 + rng.int(20000), down: 3000 + rng.int(8000), serverMAC: devices[b].mac)
                    }
                } else {
                    if hod == 12 { dns(b, c2, at: start) }
                    var t = start + .seconds(Int64(rng.int(90)))
                    while t < start + .seconds(3600) {
                        tls(b, c2, at: t, up: 250 + rng.int(30), down: 120 + rng.int(30), lookup: 0)
                        t = t + Duration(nanoseconds: Int64((90 * (0.85 + 0.3 * rng.unit())) * 1e9))
                    }
                    if hod == 16 {
                        label(a, d, [devices[b].ip.description, Self.address(of: c2).description], start + .seconds(-5 * 3600 + 300), start + .seconds(3600),
                              "SMB scan of 60 hosts, then SMB and RPC to \(devices[b].ip), which then beacons to \(c2) every 90 s for 5 hours")
                    }
                }
            default: break
            }
        }
    }
}
