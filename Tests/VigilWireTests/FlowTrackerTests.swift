import Testing
import VigilCore
import VigilSim
@testable import VigilWire

@Suite struct FlowTrackerTests {
    @Test func completeConnectionIsSFWithZeekCounts() {
        let w = Wire()
        var t = TCPTalk()
        t.handshake(w)
        w.feed(t.frame(fromClient: true, flags: F.ack | F.psh, payload: Array(repeating: 1, count: 100)))
        w.feed(t.frame(fromClient: false, flags: F.ack | F.psh, payload: Array(repeating: 2, count: 300)))
        t.close(w)
        let c = w.finish().conns
        #expect(c.count == 1)
        let r = c[0]
        #expect(r.connState == "SF")
        #expect(r.history == "ShADdFf", "pure ACKs only from the originator")
        #expect(r.origBytes == 100 && r.respBytes == 300)
        #expect(r.origPackets == 5 && r.respPackets == 3)
        #expect(r.origIPBytes == 5 * 40 + 100 && r.respIPBytes == 3 * 40 + 300)
        #expect(r.id.origHost == clientEP.ip && r.id.respPort == 80)
        #expect(r.duration?.nanoseconds == 7_000_000)
        #expect(r.localOrig == true && r.localResp == false)
        #expect(r.uid.hasPrefix("C") && r.uid.count >= 10 && r.uid.count <= 15, "80 random bits in base 62, stored inline")
    }

    @Test func unansweredSYNIsS0WithUnsetBytes() {
        let w = Wire()
        var t = TCPTalk()
        w.feed(t.frame(fromClient: true, flags: F.syn))
        let r = w.finish().conns[0]
        #expect(r.connState == "S0" && r.history == "S")
        #expect(r.duration == nil && r.origBytes == nil)
    }

    @Test func rejectedSYNIsREJ() {
        let w = Wire()
        var t = TCPTalk()
        w.feed(t.frame(fromClient: true, flags: F.syn))
        w.feed(t.frame(fromClient: false, flags: F.rst | F.ack))
        let r = w.finish().conns[0]
        #expect(r.connState == "REJ" && r.history == "Sr")
    }

    @Test func responderResetAfterDataIsRSTR() {
        let w = Wire()
        var t = TCPTalk()
        t.handshake(w)
        w.feed(t.frame(fromClient: true, flags: F.ack, payload: [1, 2, 3]))
        w.feed(t.frame(fromClient: false, flags: F.rst))
        #expect(w.finish().conns[0].connState == "RSTR")
    }

    @Test func synAckFirstFlipsDirection() {
        let w = Wire()
        var t = TCPTalk()
        _ = t.frame(fromClient: true, flags: F.syn)  // not captured
        w.feed(t.frame(fromClient: false, flags: F.syn | F.ack))
        w.feed(t.frame(fromClient: true, flags: F.ack))
        let r = w.finish().conns[0]
        #expect(r.id.origHost == clientEP.ip, "the SYN-ACK's receiver is the originator")
        #expect(r.history?.hasPrefix("^") == true)
    }

    @Test func midstreamPacketsFromServerPortAreResponder() {
        let w = Wire()
        var t = TCPTalk()
        w.feed(t.frame(fromClient: false, flags: F.ack, payload: [9, 9]))
        let r = w.finish().conns[0]
        #expect(r.id.origHost == clientEP.ip && r.id.respPort == 80)
    }

    @Test func retransmissionCountsOnceInBytes() {
        let w = Wire()
        var t = TCPTalk()
        t.handshake(w)
        let seq = t.cseq
        w.feed(t.frame(fromClient: true, flags: F.ack, payload: Array(repeating: 1, count: 50)))
        t.cseq = seq
        w.feed(t.frame(fromClient: true, flags: F.ack, payload: Array(repeating: 1, count: 50)))
        let r = w.finish().conns[0]
        #expect(r.origBytes == 50)
        #expect(r.history?.contains("T") == true)
    }

    @Test func gapIsMissedBytes() {
        let w = Wire()
        var t = TCPTalk()
        t.handshake(w)
        _ = t.frame(fromClient: true, flags: F.ack, payload: Array(repeating: 1, count: 70))  // lost
        w.feed(t.frame(fromClient: true, flags: F.ack, payload: Array(repeating: 1, count: 30)))
        let r = w.finish().conns[0]
        #expect(r.missedBytes == 70 && r.origBytes == 100)
    }

    @Test func newSYNAfterCloseStartsNewConnection() {
        let w = Wire()
        var t = TCPTalk()
        for _ in 0..<2 {
            t.handshake(w)
            t.close(w)
            t.cseq &+= 100_000
        }
        let c = w.finish().conns
        #expect(c.count == 2)
        #expect(Set(c.map(\.uid)).count == 2)
        #expect(c.allSatisfy { $0.connState == "SF" })
    }

    @Test func inactivityTimeoutEndsUDPFlow() {
        let w = Wire()
        let dst = PacketBuilder.Endpoint(mac: 2, ip: IPAddress("192.0.2.1")!, port: 123)
        w.feed(udpFrame(clientEP, dst, [1, 2, 3, 4]))
        w.feed(udpFrame(dst, clientEP, [1, 2, 3, 4, 5, 6]))
        w.feed(udpFrame(clientEP, dst, [1]), after: .seconds(61))
        let c = w.finish().conns
        #expect(c.count == 2)
        #expect(c[0].connState == "SF" && c[0].origBytes == 4 && c[0].respBytes == 6)
        #expect(c[1].connState == "S0")
    }

    @Test func icmpEchoPairsIntoOneConnection() {
        let w = Wire()
        var b = PacketBuilder()
        b.icmpEcho(clientEP, serverEP, reply: false, id: 1, seq: 1, payload: 56); w.feed(b.bytes)
        b.icmpEcho(serverEP, clientEP, reply: true, id: 1, seq: 1, payload: 56); w.feed(b.bytes)
        let c = w.finish().conns
        #expect(c.count == 1)
        #expect(c[0].id.origPort == 8 && c[0].id.respPort == 0 && c[0].id.proto == .icmp)
        #expect(c[0].origBytes == 56 && c[0].respBytes == 56 && c[0].connState == "OTH")
    }

    @Test func floodOfSpoofedSourcesIsBoundedAndCounted() {
        let w = Wire { $0.maxFlows = 1000 }
        for i in 0..<5000 {
            var src = clientEP
            src.ip = IPAddress(v4: 0x0B00_0000 | UInt32(i))
            var t = TCPTalk(src, serverEP)
            w.feed(t.frame(fromClient: true, flags: F.syn), after: .microseconds(10))
            #expect(w.engine.activeFlows <= 1000)
        }
        let c = w.finish().conns
        #expect(w.engine.stats.flowsEvicted == 4000)
        #expect(c.count == 5000, "every evicted connection is still logged")
    }

    @Test func fragmentFloodStaysBounded() {
        var r = FragmentReassembler(capacity: 100, timeout: .seconds(30), maxBytes: 1 << 20)
        var b = PacketBuilder()
        let dst = PacketBuilder.Endpoint(mac: 2, ip: IPAddress("192.0.2.1")!, port: 4500)
        let datagram = PacketBuilder.udpDatagram(clientEP, dst, payload: [UInt8](repeating: 7, count: 20_000))
        var t = Timestamp(seconds: 1)
        for ident in 0..<600 {
            // Only the last piece of each datagram: none can complete.
            b.ipv4Fragment(clientEP, dst, ident: UInt16(ident), datagram: datagram, offset: 19_000, length: 1008, more: false)
            var p = DecodedPacket()
            _ = b.bytes.withUnsafeBytes { PacketDecoder.decode($0, link: .ethernet, into: &p) }
            t = t + .milliseconds(1)
            _ = b.bytes.withUnsafeBytes { r.add(p, bytes: $0, at: t) }
            #expect(r.pendingCount <= 100 && r.pendingBytes <= 1 << 20)
        }
        #expect(r.evicted >= 500, "the byte budget (about 50 datagrams of 20 kB) evicts the oldest")
        // Many tiny overlapping pieces of one datagram are refused past the limit.
        var tiny = FragmentReassembler(capacity: 100, timeout: .seconds(30))
        for k in 0..<500 {
            b.ipv4Fragment(clientEP, dst, ident: 9, datagram: datagram, offset: (k % 50) * 8, length: 8, more: true)
            var p = DecodedPacket()
            _ = b.bytes.withUnsafeBytes { PacketDecoder.decode($0, link: .ethernet, into: &p) }
            _ = b.bytes.withUnsafeBytes { tiny.add(p, bytes: $0, at: t) }
        }
        #expect(tiny.pendingCount <= 1 && tiny.evicted >= 1)
    }

    @Test func reassemblesIPv4Fragments() {
        let w = Wire()
        let dst = PacketBuilder.Endpoint(mac: 2, ip: IPAddress("192.0.2.1")!, port: 4500)
        let payload = (0..<3000).map { UInt8(truncatingIfNeeded: $0) }
        let datagram = PacketBuilder.udpDatagram(clientEP, dst, payload: payload)
        var b = PacketBuilder()
        // Out of order: last fragment first.
        let cuts = [(1480, 1480, true), (2960, datagram.count - 2960, false), (0, 1480, true)]
        for (off, len, more) in [cuts[1], cuts[2], cuts[0]] {
            b.ipv4Fragment(clientEP, dst, ident: 77, datagram: datagram, offset: off, length: len, more: more)
            w.feed(b.bytes)
        }
        let c = w.finish().conns
        #expect(w.engine.stats.fragments == 3)
        #expect(w.engine.stats.reassembled == 1, "\(w.engine.stats)")
        #expect(c.count == 1, "\(c)")
        #expect(c[0].origIPBytes == 20 + 8 + 3000 && c[0].origPackets == 1 && c[0].id.respPort == 4500)
    }
}

extension Duration {
    static func microseconds(_ us: Int64) -> Duration { Duration(nanoseconds: us * 1000) }
}
