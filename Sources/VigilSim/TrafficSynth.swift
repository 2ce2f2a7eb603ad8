import VigilCore

/// How much and what kind of traffic to make.
public struct SynthConfiguration: Sendable {
    public var seed: UInt64 = 1
    public var sessions: Int = 2000
    public var clients: Int = 40
    public var servers: Int = 200
    public var start = Timestamp(seconds: 1_733_000_000)
    /// Mean time between session starts.
    public var meanGap: Duration = .milliseconds(20)
    /// Largest bulk transfer, bytes; bulk sessions give a capture its volume.
    public var bulkBytes: Int = 400_000
    /// Share of sessions that are bulk transfers (0…1).
    public var bulkShare: Double = 0.05
    public var ipv6Share: Double = 0.1
    public var vlanShare: Double = 0.1
    public init() {}
}

/// Generates a deterministic mix of realistic sessions — DNS, TLS 1.3, HTTP/1.1 (keep-alive,
/// chunked), SSH, DHCP, NTP-like UDP, ICMP echo, rejected and unanswered connection attempts,
/// fragmented UDP, bulk transfers — and emits their frames in time order. Memory holds only
/// the sessions in flight.
public final class TrafficSynth: FrameSink {
    public let configuration: SynthConfiguration
    private var rng: SplitMix64
    /// Frames of the sessions in flight, by time (ties in the order they were made).
    private var heap = MinHeap<Timestamp, [UInt8]>()
    var builder = PacketBuilder()
    public private(set) var packets = 0
    public private(set) var bytes = 0
    public private(set) var sessionsByKind: [String: Int] = [:]

    public init(_ configuration: SynthConfiguration) {
        self.configuration = configuration
        rng = SplitMix64(mixing: configuration.seed)
    }

    struct Host {
        var mac: UInt64
        var v4: IPAddress
        var v6: IPAddress
        var name: String
    }

    private lazy var clients: [Host] = (0..<configuration.clients).map { (i: Int) -> Host in
        let mac: UInt64 = 0x0200_0000_0000 | UInt64(i + 1)
        let v4 = IPAddress(v4: 0x0A01_0000 | UInt32(i + 10))
        let v6 = IPAddress(high: 0xFD00_0000_0000_0001, low: UInt64(i + 10))
        return Host(mac: mac, v4: v4, v6: v6, name: "host-\(i + 1)")
    }
    private lazy var servers: [Host] = (0..<configuration.servers).map { (i: Int) -> Host in
        let blocks: [UInt32] = [0xC000_0200, 0xC633_6400, 0xCB00_7100, 0x2D4F_0000, 0x68C4_0000]
        let block: UInt32 = blocks[i % blocks.count]
        let low = UInt32(1 + (i / blocks.count) % 250)
        let mid = UInt32(i / 1250) << 8
        let v4: UInt32 = block | low | mid
        return Host(mac: 0x02_AA_00_00_00_01, v4: IPAddress(v4: v4),
                    v6: IPAddress(high: 0x2001_0DB8_0000_0000 | UInt64(i), low: 1), name: "svc\(i).example.com")
    }
    private let gatewayMAC: UInt64 = 0x02_AA_00_00_00_01
    private let resolver = IPAddress(v4: 0x0A01_0001)

    /// Runs the whole configuration, calling `emit` with each frame in time order.
    public func run(_ emit: (Timestamp, UnsafeRawBufferPointer) -> Void) {
        var t = configuration.start
        for _ in 0..<configuration.sessions {
            let gap = Int64(Double(configuration.meanGap.nanoseconds) * -log1pNeg(rng.unit()))
            t = t + Duration(nanoseconds: max(1000, gap))
            while let top = heap.minKey, top < t { send(top, heap.popMin() ?? [], emit) }
            makeSession(at: t)
        }
        while let top = heap.minKey { send(top, heap.popMin() ?? [], emit) }
    }

    private func send(_ ts: Timestamp, _ frame: [UInt8], _ emit: (Timestamp, UnsafeRawBufferPointer) -> Void) {
        packets += 1
        bytes += frame.count
        frame.withUnsafeBytes { emit(ts, $0) }
    }

    func push(_ ts: Timestamp) {
        heap.push(builder.bytes, key: ts)
    }

    private func log1pNeg(_ u: Double) -> Double {
        // -ln(1-u) without Foundation: series-free via the identity ln(x) = 2 atanh((x-1)/(x+1)).
        let x = max(1e-12, 1 - u)
        let y = (x - 1) / (x + 1)
        var term = y, sum = 0.0, k = 1.0
        for _ in 0..<40 { sum += term / k; term *= y * y; k += 2 }
        return 2 * sum
    }

    // MARK: - Sessions

    private func makeSession(at t: Timestamp) {
        let r = rng.unit()
        let c = clients[rng.int(clients.count)]
        let s = servers[rng.int(servers.count)]
        let v6 = rng.unit() < configuration.ipv6Share
        let vlan: UInt16? = rng.unit() < configuration.vlanShare ? UInt16(100 + rng.int(3)) : nil
        let client = PacketBuilder.Endpoint(mac: c.mac, ip: v6 ? c.v6 : c.v4, port: UInt16(32768 + rng.int(28000)))
        let rtt = Duration(nanoseconds: Int64(1_000_000 + rng.int(40_000_000)))
        let kind: String
        let bulk = configuration.bulkShare
        switch r {
        case ..<bulk:
            kind = "bulk"
            let server = PacketBuilder.Endpoint(mac: gatewayMAC, ip: v6 ? s.v6 : s.v4, port: [873, 9000, 445, 22000][rng.int(4)])
            var conv = TCPConversation(client: client, server: server, start: t, rtt: rtt, vlan: vlan, isn: (rng.u32(), rng.u32()))
            conv.handshake(self)
            let n = configuration.bulkBytes / 2 + rng.int(max(1, configuration.bulkBytes / 2))
            let upload = rng.unit() < 0.5
            conv.send([UInt8](repeating: 0x55, count: n), fromClient: upload, self)
            conv.send([UInt8](repeating: 0x4F, count: 64), fromClient: !upload, self)
            conv.close(self)
        case ..<(bulk + 0.30):
            kind = "dns"
            dnsLookup(client: client, name: s.name, at: t, rtt: rtt, vlan: vlan, v6: v6, nx: rng.unit() < 0.05)
        case ..<(bulk + 0.55):
            kind = "tls"
            let server = PacketBuilder.Endpoint(mac: gatewayMAC, ip: v6 ? s.v6 : s.v4, port: 443)
            var conv = TCPConversation(client: client, server: server, start: t, rtt: rtt, vlan: vlan, isn: (rng.u32(), rng.u32()))
            conv.handshake(self)
            let alpn = rng.unit() < 0.7 ? ["h2", "http/1.1"] : []
            conv.send(Payloads.clientHello(sni: rng.unit() < 0.95 ? s.name : nil, alpn: alpn, grease: rng.unit() < 0.5, random: rng.next()), fromClient: true, self)
            conv.send(Payloads.serverHello(alpn: alpn.first) + Payloads.appData(2000 + rng.int(3000)), fromClient: false, self)
            conv.send(Payloads.tlsRecord(20, [1]) + Payloads.appData(80), fromClient: true, self)
            for _ in 0..<(1 + rng.int(4)) {
                conv.send(Payloads.appData(100 + rng.int(600)), fromClient: true, self)
                conv.send(Payloads.appData(500 + rng.int(12000)), fromClient: false, self)
            }
            conv.close(self)
        case ..<(bulk + 0.72):
            kind = "http"
            let server = PacketBuilder.Endpoint(mac: gatewayMAC, ip: v6 ? s.v6 : s.v4, port: rng.unit() < 0.9 ? 80 : 8080)
            var conv = TCPConversation(client: client, server: server, start: t, rtt: rtt, vlan: vlan, isn: (rng.u32(), rng.u32()))
            conv.handshake(self)
            let agents = ["Mozilla/5.0 (Windows NT 10.0; Win64; x64)", "curl/8.5.0", "Microsoft-CryptoAPI/10.0", "apt-http/2.6"]
            for k in 0..<(1 + rng.int(3)) {
                let post = rng.unit() < 0.1
                conv.send(Payloads.httpRequest(host: s.name, path: "/p/\(k)/\(rng.int(1000)).html", agent: agents[rng.int(agents.count)], body: post ? 100 + rng.int(2000) : 0), fromClient: true, self)
                let status = rng.unit() < 0.9 ? 200 : 404
                conv.send(Payloads.httpResponse(status: status, body: rng.int(20000), chunked: rng.unit() < 0.2), fromClient: false, self)
            }
            conv.close(self)
        case ..<(bulk + 0.76):
            kind = "ssh"
            let server = PacketBuilder.Endpoint(mac: gatewayMAC, ip: v6 ? s.v6 : s.v4, port: 22)
            var conv = TCPConversation(client: client, server: server, start: t, rtt: rtt, vlan: vlan, isn: (rng.u32(), rng.u32()))
            conv.handshake(self)
            conv.send(Array("SSH-2.0-OpenSSH_9.6\r\n".utf8), fromClient: false, self)
            conv.send(Array("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n".utf8), fromClient: true, self)
            conv.send(Payloads.sshKexinit(client: true), fromClient: true, self)
            conv.send(Payloads.sshKexinit(client: false), fromClient: false, self)
            for _ in 0..<(2 + rng.int(6)) {
                conv.send([UInt8](repeating: 0x5E, count: 36 + rng.int(200)), fromClient: true, self)
                conv.send([UInt8](repeating: 0x5F, count: 36 + rng.int(900)), fromClient: false, self)
            }
            conv.close(self)
        case ..<(bulk + 0.80):
            kind = "rejected"
            let server = PacketBuilder.Endpoint(mac: gatewayMAC, ip: v6 ? s.v6 : s.v4, port: UInt16(1 + rng.int(1024)))
            var conv = TCPConversation(client: client, server: server, start: t, rtt: rtt, vlan: vlan, isn: (rng.u32(), rng.u32()))
            if rng.unit() < 0.5 { conv.reject(self) } else { conv.unanswered(self, retries: rng.int(3)) }
        case ..<(bulk + 0.86):
            kind = "udp"
            let server = PacketBuilder.Endpoint(mac: gatewayMAC, ip: v6 ? s.v6 : s.v4, port: [123, 514, 161, 1194][rng.int(4)])
            let n = 1 + rng.int(4)
            for k in 0..<n {
                builder.udp(client, server, payloadArray: ([UInt8](repeating: 0x23, count: 48 + rng.int(100))), vlan: vlan)
                push(t + Duration(nanoseconds: Int64(k) * 200_000_000))
                if server.port != 514 {
                    builder.udp(server, client, payloadArray: ([UInt8](repeating: 0x24, count: 48 + rng.int(100))), vlan: vlan)
                    push(t + Duration(nanoseconds: Int64(k) * 200_000_000 + rtt.nanoseconds))
                }
            }
        case ..<(bulk + 0.89):
            kind = "icmp"
            let server = PacketBuilder.Endpoint(mac: gatewayMAC, ip: v6 ? s.v6 : s.v4, port: 0)
            let id = UInt16(rng.int(65535))
            for k in 0..<(1 + rng.int(4)) {
                let at = t + Duration(nanoseconds: Int64(k) * 1_000_000_000)
                builder.icmpEcho(client, server, reply: false, id: id, seq: UInt16(k), payload: 56, vlan: vlan)
                push(at)
                builder.icmpEcho(server, client, reply: true, id: id, seq: UInt16(k), payload: 56, vlan: vlan)
                push(at + rtt)
            }
        case ..<(bulk + 0.91):
            kind = "fragmented"
            let server = PacketBuilder.Endpoint(mac: gatewayMAC, ip: s.v4, port: 4500)
            let c4 = PacketBuilder.Endpoint(mac: c.mac, ip: c.v4, port: client.port)
            let datagram = PacketBuilder.udpDatagram(c4, server, payload: [UInt8](repeating: 0x46, count: 2000 + rng.int(2000)))
            let ident = UInt16(rng.int(65535))
            var off = 0
            var k: Int64 = 0
            while off < datagram.count {
                let len = min(1480, datagram.count - off)
                builder.ipv4Fragment(c4, server, ident: ident, datagram: datagram, offset: off, length: len, more: off + len < datagram.count)
                push(t + Duration(nanoseconds: k * 10_000))
                off += len
                k += 1
            }
        default:
            kind = "dhcp"
            let xid = rng.u32()
            dhcpExchange(mac: c.mac, address: c.v4, name: c.name, server: resolver, serverMAC: gatewayMAC, xid: xid, at: t)
        }
        sessionsByKind[kind, default: 0] += 1
    }

    private func dnsLookup(client: PacketBuilder.Endpoint, name: String, at t: Timestamp, rtt: Duration, vlan: UInt16?, v6: Bool, nx: Bool) {
        let server = PacketBuilder.Endpoint(mac: gatewayMAC, ip: v6 ? IPAddress(high: 0xFD00_0000_0000_0001, low: 1) : resolver, port: 53)
        let id = UInt16(truncatingIfNeeded: rng.next())
        let qname = nx ? "x\(rng.int(100000)).invalid.example" : name
        builder.udp(client, server, payloadArray: (Payloads.dnsQuery(id: id, name: qname, type: 1)), vlan: vlan)
        push(t)
        let answers: [UInt32] = nx ? [] : (0..<(1 + rng.int(3))).map { _ in 0xC000_0200 | UInt32(rng.int(250)) }
        builder.udp(server, client, payloadArray: (Payloads.dnsResponse(id: id, name: qname, type: 1, answers: answers, ttl: UInt32(60 + rng.int(3600)), nx: nx)), vlan: vlan)
        push(t + rtt)
    }
}
