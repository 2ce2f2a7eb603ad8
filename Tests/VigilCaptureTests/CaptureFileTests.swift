import Foundation
import Testing
import VigilCapture
import VigilCore
import VigilWire

/// Every capture format a user may hand us, and every way a file can be broken.
@Suite struct CaptureFileTests {
    /// Rewrites a nanosecond pcap (as libpcap writes it) as classic microsecond pcap, in the
    /// given byte order — the layouts tcpdump on little- and big-endian machines produce.
    func rewrite(_ src: String, to dst: String, micro: Bool, bigEndian: Bool) throws {
        let d = try Data(contentsOf: URL(fileURLWithPath: src))
        let b = [UInt8](d)
        func le32(_ o: Int) -> UInt32 { UInt32(b[o]) | UInt32(b[o + 1]) << 8 | UInt32(b[o + 2]) << 16 | UInt32(b[o + 3]) << 24 }
        var out: [UInt8] = []
        func put32(_ v: UInt32) { out += bigEndian ? [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)]
                                              : [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 24)] }
        func put16(_ v: UInt16) { out += bigEndian ? [UInt8(v >> 8), UInt8(v & 0xFF)] : [UInt8(v & 0xFF), UInt8(v >> 8)] }
        #expect(le32(0) == 0xA1B2_3C4D, "libpcap writes nanosecond pcap")
        put32(micro ? 0xA1B2_C3D4 : 0xA1B2_3C4D); put16(2); put16(4); put32(0); put32(0); put32(le32(16)); put32(le32(20))
        var o = 24
        while o + 16 <= b.count {
            let sec = le32(o), frac = le32(o + 4), cap = Int(le32(o + 8)), len = le32(o + 12)
            put32(sec); put32(micro ? frac / 1000 : frac); put32(UInt32(cap)); put32(len)
            out += b[(o + 16)..<(o + 16 + cap)]
            o += 16 + cap
        }
        try Data(out).write(to: URL(fileURLWithPath: dst))
    }

    func connKeys(_ d: Decoded) -> [String] {
        d.conns.map { "\($0.id.origHost):\($0.id.origPort)>\($0.id.respHost):\($0.id.respPort) \($0.connState ?? "-") \($0.origIPBytes ?? 0)/\($0.respIPBytes ?? 0) \($0.history ?? "-")" }.sorted()
    }

    @Test func everyPcapLayoutGivesTheSameConnections() throws {
        let dir = try tempDir()
        let src = try synthCapture(dir, sessions: 200)
        let base = decode([src])
        #expect(base.failures.isEmpty && base.conns.count > 150)
        for (micro, big) in [(true, false), (true, true), (false, true)] {
            let p = dir.appendingPathComponent("v-\(micro)-\(big).pcap").path
            try rewrite(src, to: p, micro: micro, bigEndian: big)
            let d = decode([p])
            #expect(d.failures.isEmpty)
            #expect(connKeys(d) == connKeys(base), "micro \(micro) big-endian \(big)")
        }
        // pcapng, as editcap writes it.
        let ng = dir.appendingPathComponent("s.pcapng").path
        try run("editcap", ["-F", "pcapng", src, ng])
        #expect(connKeys(decode([ng])) == connKeys(base))
        // gzip-compressed.
        let gz = dir.appendingPathComponent("s.pcap.gz").path
        _ = try run("sh", ["-c", "gzip -c '\(src)' > '\(gz)'"])
        #expect(connKeys(decode([gz])) == connKeys(base))
    }

    @Test func pcapngWithSeveralInterfacesReads() throws {
        let dir = try tempDir()
        let a = try synthCapture(dir, sessions: 60, seed: 1, name: "a.pcap")
        let b0 = try synthCapture(dir, sessions: 60, seed: 2, name: "b0.pcap")
        // A second interface: same link type, another snapshot length.
        let b = dir.appendingPathComponent("b.pcap").path
        try run("editcap", ["-s", "9000", b0, b])
        let merged = dir.appendingPathComponent("ab.pcapng").path
        try run("mergecap", ["-F", "pcapng", "-I", "none", "-w", merged, a, b])
        let info = try run("capinfos", ["-I", merged]).out
        #expect(info.contains("Number of interfaces in file: 2"), "\(info.prefix(400))")
        let d = decode([merged])
        #expect(d.failures.isEmpty)
        #expect(d.stats.packets == decode([a]).stats.packets + decode([b]).stats.packets)
    }

    @Test func pcapngWithInterfacesOfDifferentLinkTypesReads() throws {
        let dir = try tempDir()
        let a = try synthCapture(dir, sessions: 80, seed: 3, name: "eth.pcap")
        let b0 = try synthCapture(dir, sessions: 80, seed: 4, name: "b0.pcap")
        let raw = dir.appendingPathComponent("raw.pcap").path
        try run("editcap", ["-T", "rawip", "-C", "14", b0, raw])   // strip Ethernet: raw IP frames
        let mixed = dir.appendingPathComponent("mixed.pcapng").path
        try run("mergecap", ["-F", "pcapng", "-I", "none", "-w", mixed, a, raw])
        let info = try run("capinfos", ["-I", mixed]).out
        #expect(info.contains("Number of interfaces in file: 2") && info.contains("Raw IP"), "\(info.prefix(500))")
        #expect(try CaptureFiles.open(mixed) is MappedPcapngSource)
        let d = decode([mixed])
        let ea = decode([a]), eb = decode([raw])
        #expect(d.failures.isEmpty, "\(d.failures)")
        #expect(d.stats.packets == ea.stats.packets + eb.stats.packets)
        // Each frame decodes with its own interface's link type (VLAN-tagged frames stripped of
        // only 14 bytes by editcap are malformed as raw IP, in the mixed file and alone alike).
        #expect(d.stats.decoded == ea.stats.decoded + eb.stats.decoded)
        #expect(d.stats.skippedMalformed == eb.stats.skippedMalformed && d.stats.skippedUnknownLink == 0)
        // libpcap refuses such a file; it says where.
        let l = decode([mixed], reader: .libpcap)
        #expect(l.failures.first?.description.contains("different from the type of the first interface") == true)
    }

    @Test func mappedPcapngAgreesWithLibpcap() throws {
        let dir = try tempDir()
        let src = try synthCapture(dir, sessions: 300)
        let ng = dir.appendingPathComponent("s.pcapng").path
        try run("editcap", ["-F", "pcapng", src, ng])
        let a = decode([ng]), b = decode([ng], reader: .libpcap)
        #expect(a.failures.isEmpty && b.failures.isEmpty)
        #expect(a.stats == b.stats && a.observations == b.observations)
        #expect(a.observations == decode([src]).observations, "pcapng and pcap of the same packets agree")
        // Truncated in the middle of a block: what came before is kept, the offset is named.
        let data = try Data(contentsOf: URL(fileURLWithPath: ng))
        let cut = dir.appendingPathComponent("cut.pcapng").path
        try data.prefix(data.count / 2 + 3).write(to: URL(fileURLWithPath: cut))
        let c = decode([cut])
        #expect(c.failures.count == 1 && c.failures.first?.file == cut && (c.failures.first?.offset ?? 0) > 0)
        #expect(c.stats.packets > 1000)
    }

    @Test func severalFilesMergeInTimeOrder() throws {
        let dir = try tempDir()
        let src = try synthCapture(dir, sessions: 200)
        // Split packets alternately into two files: each connection spans both.
        let even = dir.appendingPathComponent("even.pcap").path, odd = dir.appendingPathComponent("odd.pcap").path
        do {
            let r = try PcapFileSource(path: src)
            let we = try PcapWriter(path: even), wo = try PcapWriter(path: odd)
            var n = 0
            while let (buf, ts, _) = try r.next() { (n % 2 == 0 ? we : wo).write(buf, at: ts); n += 1 }
            we.close(); wo.close()
        }
        let whole = decode([src]), split = decode([odd, even])
        #expect(split.stats.packets == whole.stats.packets)
        #expect(connKeys(split) == connKeys(whole))
    }

    @Test(arguments: [CaptureFiles.Reader.auto, .libpcap])
    func truncatedFileKeepsWhatCameBeforeAndNamesTheOffset(reader: CaptureFiles.Reader) throws {
        let dir = try tempDir()
        let src = try synthCapture(dir, sessions: 200)
        let data = try Data(contentsOf: URL(fileURLWithPath: src))
        let cut = dir.appendingPathComponent("cut.pcap").path
        try data.prefix(data.count / 2 + 7).write(to: URL(fileURLWithPath: cut))
        let d = decode([cut], reader: reader)
        #expect(d.failures.count == 1)
        let e = try #require(d.failures.first)
        #expect(e.file == cut && (e.offset ?? 0) > 24)
        #expect(e.description.contains("truncated"), "\(e)")
        #expect(d.stats.packets > 1000, "packets before the cut are decoded")
        #expect(d.conns.count > 50)
    }

    @Test(arguments: [CaptureFiles.Reader.auto, .libpcap])
    func wrongMagicIsRefusedWithFileAndOffset(reader: CaptureFiles.Reader) throws {
        let dir = try tempDir()
        let p = dir.appendingPathComponent("not.pcap").path
        try Data("this is not a capture at all, just text\n".utf8).write(to: URL(fileURLWithPath: p))
        let d = decode([p], reader: reader)
        let e = try #require(d.failures.first)
        #expect(e.isBadInput && e.file == p && e.offset == 0)
    }

    @Test(arguments: [CaptureFiles.Reader.auto, .libpcap])
    func absurdRecordLengthStopsThatFileOnly(reader: CaptureFiles.Reader) throws {
        let dir = try tempDir()
        let src = try synthCapture(dir, sessions: 100)
        var b = [UInt8](try Data(contentsOf: URL(fileURLWithPath: src)))
        // Find the 50th record and give it a 2 GB caplen.
        var o = 24
        for _ in 0..<50 { o += 16 + Int(UInt32(b[o + 8]) | UInt32(b[o + 9]) << 8 | UInt32(b[o + 10]) << 16 | UInt32(b[o + 11]) << 24) }
        b[o + 8] = 0xFF; b[o + 9] = 0xFF; b[o + 10] = 0xFF; b[o + 11] = 0x7F
        let bad = dir.appendingPathComponent("bad.pcap").path
        try Data(b).write(to: URL(fileURLWithPath: bad))
        let good = try synthCapture(dir, sessions: 50, seed: 5, name: "good.pcap")
        let d = decode([bad, good], reader: reader)
        #expect(d.failures.count == 1 && d.failures.first?.file == bad)
        #expect(d.failures.first?.offset == Int64(o), "the offset of the bad record header")
        #expect(d.stats.packets == 50 + decode([good]).stats.packets)
    }

    @Test func garbagePacketsAreCountedAndSkipped() throws {
        let dir = try tempDir()
        let p = dir.appendingPathComponent("garbage.pcap").path
        let w = try PcapWriter(path: p)
        var rng = SplitMix64(seed: 99)
        for i in 0..<3000 {
            let n = Int(rng.next() % 120)
            var f = (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            if n > 20 && i % 3 == 0 { f[12] = 0x08; f[13] = 0x00; f[14] = 0x45 }  // looks like IPv4
            f.withUnsafeBytes { w.write($0, at: Timestamp(seconds: 1_700_000_000 + Int64(i))) }
        }
        w.close()
        let d = decode([p])
        #expect(d.failures.isEmpty)
        #expect(d.stats.packets == 3000)
        #expect(d.stats.decoded + d.stats.skipped == 3000, "every packet is decoded or counted as skipped")
        #expect(d.stats.skipped > 1000)
    }

    @Test func mappedReaderAndLibpcapAgree() throws {
        let dir = try tempDir()
        let src = try synthCapture(dir, sessions: 300)
        for (micro, big) in [(false, false), (true, false), (true, true), (false, true)] {
            var p = src
            if micro || big {
                p = dir.appendingPathComponent("v-\(micro)-\(big).pcap").path
                try rewrite(src, to: p, micro: micro, bigEndian: big)
            }
            #expect(try CaptureFiles.open(p) is MappedPcapSource)
            let a = decode([p]), b = decode([p], reader: .libpcap)
            #expect(a.stats == b.stats)
            #expect(a.observations == b.observations)
        }
        var files = [src]
        if haveDatasets { files += captureFiles().filter { !$0.hasSuffix(".gz") && !$0.hasSuffix(".pcapng") } }
        for f in files {
            let a = decode([f]), b = decode([f], reader: .libpcap)
            #expect(a.stats == b.stats, "\(f)")
            #expect(a.observations == b.observations, "\(f)")
        }
    }

    @Test(.enabled(if: haveDatasets, skipDatasets))
    func everySharedCaptureReadsWithoutError() throws {
        let files = captureFiles()
        #expect(files.count >= 60)
        var packets: UInt64 = 0
        for f in files {
            let d = decode([f])
            #expect(d.failures.isEmpty, "\(f): \(d.failures)")
            #expect(d.stats.packets > 0, "\(f)")
            #expect(d.stats.decoded + d.stats.skipped == d.stats.packets, "\(f)")
            packets += d.stats.packets
        }
        #expect(packets > 100_000)
    }
}
