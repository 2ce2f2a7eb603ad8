import Foundation
import Testing
import VigilCapture
import VigilCore
import VigilWire

/// Per-connection packet and byte counts against tshark, the reference dissector, on the
/// same files in the same run.
@Suite(.serialized) struct TsharkAgreementTests {
    struct Key: Hashable, CustomStringConvertible {
        var proto: UInt8, a: String, ap: UInt16, b: String, bp: UInt16
        var description: String { "\(proto == 6 ? "tcp" : "udp") \(a):\(ap) <-> \(b):\(bp)" }
        /// Canonical: the lower endpoint first; `forward` tells whether (src, dst) kept its order.
        static func make(_ proto: UInt8, _ s: IPAddress, _ sp: UInt16, _ d: IPAddress, _ dp: UInt16) -> (Key, Bool) {
            if s < d || (s == d && sp <= dp) { return (Key(proto: proto, a: s.description, ap: sp, b: d.description, bp: dp), true) }
            return (Key(proto: proto, a: d.description, ap: dp, b: s.description, bp: sp), false)
        }
    }
    struct Counts: Equatable { var pktsAB: UInt64 = 0, bytesAB: UInt64 = 0, pktsBA: UInt64 = 0, bytesBA: UInt64 = 0 }

    func tshark(_ path: String) throws -> (counts: [Key: Counts], fragmented: Set<Key>) {
        let fields = ["ip.src", "ip.dst", "ipv6.src", "ipv6.dst", "tcp.srcport", "tcp.dstport", "udp.srcport", "udp.dstport",
                      "ip.len", "ipv6.plen", "ip.flags.mf", "ip.frag_offset", "icmp.type", "icmpv6.type", "ipv6.fraghdr.offset"]
        let r = try run("tshark", ["-r", path, "-n", "-T", "fields", "-E", "separator=/t", "-E", "occurrence=f"] + fields.flatMap { ["-e", $0] })
        #expect(r.status == 0, "tshark failed: \(r.err.prefix(300))")
        var out: [Key: Counts] = [:]
        var fragmented: Set<Key> = []
        for line in r.out.split(separator: "\n") {
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard f.count == fields.count, f[12].isEmpty, f[13].isEmpty else { continue }
            let v4 = !f[0].isEmpty
            guard let s = IPAddress(v4 ? f[0] : f[2]), let d = IPAddress(v4 ? f[1] : f[3]) else { continue }
            let tcp = !f[4].isEmpty
            guard let sp = UInt16(tcp ? f[4] : f[6]), let dp = UInt16(tcp ? f[5] : f[7]) else { continue }
            let (k, fwd) = Key.make(tcp ? 6 : 17, s, sp, d, dp)
            if f[10] == "1" || (Int(f[11]) ?? 0) > 0 || !f[14].isEmpty { fragmented.insert(k) }
            let bytes = v4 ? UInt64(f[8]) ?? 0 : (UInt64(f[9]) ?? 0) + 40
            var c = out[k] ?? Counts()
            if fwd { c.pktsAB += 1; c.bytesAB += bytes } else { c.pktsBA += 1; c.bytesBA += bytes }
            out[k] = c
        }
        return (out, fragmented)
    }

    func ours(_ path: String) -> [Key: Counts] {
        var out: [Key: Counts] = [:]
        for c in decode([path]).conns where c.id.proto == .tcp || c.id.proto == .udp {
            let (k, fwd) = Key.make(c.id.proto.rawValue, c.id.origHost, c.id.origPort, c.id.respHost, c.id.respPort)
            var n = out[k] ?? Counts()
            let (op, ob, rp, rb) = (c.origPackets ?? 0, c.origIPBytes ?? 0, c.respPackets ?? 0, c.respIPBytes ?? 0)
            if fwd { n.pktsAB += op; n.bytesAB += ob; n.pktsBA += rp; n.bytesBA += rb }
            else { n.pktsAB += rp; n.bytesAB += rb; n.pktsBA += op; n.bytesBA += ob }
            out[k] = n
        }
        return out
    }

    /// Compares one capture; returns (agreeing, compared, mismatches).
    func compare(_ path: String) throws -> (Int, Int, [String]) {
        try compareCounting(path).0
    }

    func compareCounting(_ path: String) throws -> ((Int, Int, [String]), Int) {
        let (ref, fragmented) = try tshark(path)
        let mine = ours(path)
        var agree = 0, compared = 0
        var bad: [String] = []
        for (k, c) in ref where !fragmented.contains(k) {
            compared += 1
            if mine[k] == c { agree += 1 } else if bad.count < 5 { bad.append("\(k): tshark \(c), vigil \(mine[k].map { "\($0)" } ?? "absent")") }
        }
        for k in mine.keys where ref[k] == nil && !fragmented.contains(k) {
            compared += 1
            if bad.count < 5 { bad.append("\(k): vigil only") }
        }
        return ((agree, compared, bad), fragmented.count)
    }

    @Test func synthesizedCaptureAgreesExactly() throws {
        let dir = try tempDir()
        let path = try synthCapture(dir, sessions: 800)
        let (agree, compared, bad) = try compare(path)
        #expect(compared > 700)
        #expect(agree == compared, "\(bad)")
    }

    @Test(.enabled(if: haveDatasets, skipDatasets))
    func sharedCapturesAgreePerConnection() throws {
        var totalAgree = 0, totalCompared = 0, totalFragmented = 0
        var report: [String] = []
        let files = captureFiles()
        for path in files {
            let ((agree, compared, bad), fragmented) = try compareCounting(path)
            totalAgree += agree
            totalCompared += compared
            totalFragmented += fragmented
            if agree != compared { report.append("\((path as NSString).lastPathComponent): \(agree)/\(compared) \(bad)") }
        }
        print("tshark agreement: \(totalAgree) of \(totalCompared) TCP/UDP connections in \(files.count) captures agree in packets and IP bytes each way; \(totalFragmented) fragmented connections left out")
        #expect(totalCompared > 1000)
        // Every capture must agree on every connection; the messages say which did not.
        #expect(totalAgree == totalCompared, "\(report.joined(separator: "\n"))")
    }
}
