import Testing
import VigilCore
import VigilSim
@testable import VigilWire

@Suite struct PacketDecoderTests {
    func tcpFrame(vlan: UInt16? = nil, v6: Bool = false) -> [UInt8] {
        var c = clientEP, s = serverEP
        if v6 { c.ip = IPAddress("fd00::5")!; s.ip = IPAddress("2001:db8::10")! }
        var t = TCPTalk(c, s)
        return t.frame(fromClient: true, flags: F.ack | F.psh, payload: Array("hello".utf8), vlan: vlan)
    }

    func decode(_ f: [UInt8], _ link: LinkType = .ethernet) -> (DecodeOutcome, DecodedPacket) {
        var p = DecodedPacket()
        let r = f.withUnsafeBytes { PacketDecoder.decode($0, link: link, into: &p) }
        return (r, p)
    }

    @Test func decodesEthernetIPv4TCP() {
        let (r, p) = decode(tcpFrame())
        #expect(r == .ok)
        #expect(p.src == IPAddress("10.0.0.5")!)
        #expect(p.dst == IPAddress("192.0.2.10")!)
        #expect(p.srcPort == 50000 && p.dstPort == 80)
        #expect(p.payloadLength == 5)
        #expect(p.ipLength == 45)
        #expect(p.srcMAC == 0x0200_0000_0001)
    }

    @Test func decodesVLANAndQinQ() {
        let single = tcpFrame(vlan: 42)
        let (r1, p1) = decode(single)
        #expect(r1 == .ok && p1.vlan == 42 && p1.payloadLength == 5)
        // QinQ: insert an outer 802.1ad tag before the 802.1Q one.
        var qinq = Array(single[0..<12]) + [0x88, 0xA8, 0x00, 0x07] + Array(single[12...])
        let (r2, p2) = decode(qinq)
        #expect(r2 == .ok && p2.vlan == 7 && p2.dstPort == 80)
        qinq[12] = 0x91; qinq[13] = 0x00
        #expect(decode(qinq).0 == .ok)
    }

    @Test func decodesLinuxCookedV1AndV2() {
        let eth = tcpFrame()
        let ip = Array(eth[14...])
        let sll: [UInt8] = [0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 0x08, 0x00] + ip
        let (r1, p1) = decode(sll, .linuxSLL)
        #expect(r1 == .ok && p1.srcPort == 50000 && p1.hasMAC)
        let sll2: [UInt8] = [0x08, 0x00, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0] + ip
        let (r2, p2) = decode(sll2, .linuxSLL2)
        #expect(r2 == .ok && p2.dstPort == 80 && p2.srcMAC == 0x0200_0000_0001)
    }

    @Test func decodesRawIPAndLoopback() {
        let ip = Array(tcpFrame()[14...])
        #expect(decode(ip, .raw).0 == .ok)
        #expect(decode(ip, .rawDLT12).0 == .ok)
        #expect(decode([2, 0, 0, 0] + ip, .null).0 == .ok)
        let ip6 = Array(tcpFrame(v6: true)[14...])
        let (r, p) = decode(ip6, .ipv6)
        #expect(r == .ok && p.ipVersion == 6 && p.payloadLength == 5)
    }

    @Test func walksIPv6ExtensionHeaders() {
        let f = tcpFrame(v6: true)
        // Insert hop-by-hop (8 bytes) and destination options (8 bytes) before TCP.
        var ip = Array(f[14...])
        let tcp = Array(ip[40...])
        ip[6] = 0  // next header: hop-by-hop
        let plen = tcp.count + 16
        ip[4] = UInt8(plen >> 8); ip[5] = UInt8(plen & 0xFF)
        let hop: [UInt8] = [60, 0, 1, 4, 0, 0, 0, 0]
        let dst: [UInt8] = [6, 0, 1, 4, 0, 0, 0, 0]
        let frame = Array(f[0..<14]) + Array(ip[0..<40]) + hop + dst + tcp
        let (r, p) = decode(frame)
        #expect(r == .ok)
        #expect(p.proto == .tcp && p.dstPort == 80 && p.payloadLength == 5)
    }

    @Test func everyTruncationIsReportedNotTrapped() {
        for f in [tcpFrame(), tcpFrame(vlan: 3), tcpFrame(v6: true)] {
            for n in 0..<f.count {
                let (r, _) = decode(Array(f[0..<n]))
                #expect(r != .ok || n >= f.count - 5, "prefix of \(n) bytes decoded as a whole packet")
            }
        }
    }

    @Test func garbageNeverTraps() {
        var rng = SplitMix64(seed: 7)
        var outcomes: Set<String> = []
        for _ in 0..<20000 {
            let n = Int(rng.next() % 200)
            var f = (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            if n > 14 && rng.next() % 2 == 0 { f[12] = 0x08; f[13] = 0; f[14] = 0x45 }
            for link in [LinkType.ethernet, .raw, .linuxSLL, .linuxSLL2, .null] {
                outcomes.insert("\(decode(f, link).0)")
            }
        }
        #expect(outcomes.contains("truncated") && outcomes.contains("nonIP"))
    }

    @Test func ethernetPaddingIsNotPayload() {
        var t = TCPTalk()
        let f = t.frame(fromClient: true, flags: F.ack)   // 54 bytes; minimum frame is 60
        let (r, p) = decode(f + [0, 0, 0, 0, 0, 0])
        #expect(r == .ok && p.payloadLength == 0)
    }
}
