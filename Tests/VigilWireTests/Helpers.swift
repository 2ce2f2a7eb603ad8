import VigilCore
import VigilSim
@testable import VigilWire

/// Drives a PacketEngine with hand-built frames, as a capture would.
final class Wire {
    let engine: PacketEngine
    var builder = PacketBuilder()
    var t = Timestamp(seconds: 1_700_000_000)
    var records: [Observation] = []

    init(_ configure: (inout WireConfiguration) -> Void = { _ in }) {
        var c = WireConfiguration()
        configure(&c)
        engine = PacketEngine(configuration: c)
    }

    func feed(_ frame: [UInt8], link: LinkType = .ethernet, after: Duration = .milliseconds(1)) {
        t = t + after
        frame.withUnsafeBytes { engine.process($0, link: link, at: t) }
        records += engine.output
        engine.output.removeAll()
    }

    func finish() -> [Observation] {
        engine.finish()
        records += engine.output
        engine.output.removeAll()
        return records
    }

    var conns: [ConnRecord] { records.compactMap { if case .conn(let c) = $0 { c } else { nil } } }
}

let clientEP = PacketBuilder.Endpoint(mac: 0x0200_0000_0001, ip: IPAddress("10.0.0.5")!, port: 50000)
let serverEP = PacketBuilder.Endpoint(mac: 0x0200_0000_0002, ip: IPAddress("192.0.2.10")!, port: 80)

enum F {
    static let fin: UInt8 = 0x01, syn: UInt8 = 0x02, rst: UInt8 = 0x04, psh: UInt8 = 0x08, ack: UInt8 = 0x10
}

/// A TCP conversation built segment by segment with correct sequence numbers.
struct TCPTalk {
    var c: PacketBuilder.Endpoint
    var s: PacketBuilder.Endpoint
    var cseq: UInt32 = 1000
    var sseq: UInt32 = 90000
    init(_ c: PacketBuilder.Endpoint = clientEP, _ s: PacketBuilder.Endpoint = serverEP) { self.c = c; self.s = s }

    mutating func frame(fromClient: Bool, flags: UInt8, payload: [UInt8] = [], window: UInt16 = 65000, vlan: UInt16? = nil) -> [UInt8] {
        var b = PacketBuilder()
        let (a, d) = fromClient ? (c, s) : (s, c)
        let seq = fromClient ? cseq : sseq
        let ack = flags & F.ack != 0 ? (fromClient ? sseq : cseq) : 0
        payload.withUnsafeBytes { b.tcp(a, d, seq: seq, ack: ack, flags: flags, window: window, payload: $0, vlan: vlan) }
        var adv = UInt32(payload.count)
        if flags & (F.syn | F.fin) != 0 { adv += 1 }
        if fromClient { cseq &+= adv } else { sseq &+= adv }
        return b.bytes
    }

    /// SYN, SYN-ACK, ACK into `w`.
    mutating func handshake(_ w: Wire) {
        w.feed(frame(fromClient: true, flags: F.syn))
        w.feed(frame(fromClient: false, flags: F.syn | F.ack))
        w.feed(frame(fromClient: true, flags: F.ack))
    }

    /// FIN-ACK each way and the last ACK into `w`.
    mutating func close(_ w: Wire) {
        w.feed(frame(fromClient: true, flags: F.fin | F.ack))
        w.feed(frame(fromClient: false, flags: F.fin | F.ack))
        w.feed(frame(fromClient: true, flags: F.ack))
    }
}

func udpFrame(_ a: PacketBuilder.Endpoint, _ b: PacketBuilder.Endpoint, _ payload: [UInt8], vlan: UInt16? = nil) -> [UInt8] {
    var p = PacketBuilder()
    p.udp(a, b, payloadArray: payload, vlan: vlan)
    return p.bytes
}

extension Array where Element == Observation {
    var dns: [DNSRecord] { compactMap { if case .dns(let r) = $0 { r } else { nil } } }
    var http: [HTTPRecord] { compactMap { if case .http(let r) = $0 { r } else { nil } } }
    var tls: [TLSRecord] { compactMap { if case .tls(let r) = $0 { r } else { nil } } }
    var ssh: [SSHRecord] { compactMap { if case .ssh(let r) = $0 { r } else { nil } } }
    var dhcp: [DHCPRecord] { compactMap { if case .dhcp(let r) = $0 { r } else { nil } } }
    var conns: [ConnRecord] { compactMap { if case .conn(let r) = $0 { r } else { nil } } }
}
