// libFuzzer target for the sans-I/O decoders: link/IP/transport decoding, fragment
// reassembly, the flow table, every application analyzer, the pcap and pcapng file parsers,
// and the Zeek TSV parser.
// Built by fuzz/run.sh with `swiftc -sanitize=fuzzer,address`.
import VigilCore
import VigilWire

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    guard size > 1 else { return 0 }
    let links: [LinkType] = [.ethernet, .raw, .linuxSLL, .linuxSLL2, .null, .ipv6]
    let link = links[Int(input[0]) % links.count]
    var c = WireConfiguration()
    c.maxFlows = 64
    c.maxPendingFragments = 8
    let engine = PacketEngine(configuration: c)
    // The rest is a series of packets, each behind a 2-byte length; time advances per packet.
    var o = 1
    var t = Timestamp(seconds: 1_700_000_000)
    while o + 2 <= size {
        let n = min(Int(input[o]) << 8 | Int(input[o + 1]), size - o - 2)
        let packet = UnsafeRawBufferPointer(rebasing: input[(o + 2)..<(o + 2 + n)])
        t = t + Duration(nanoseconds: Int64(input[o]) * 10_000_000)
        engine.process(packet, link: link, at: t)
        engine.output.removeAll(keepingCapacity: true)
        o += 2 + n
    }
    engine.finish()
    // The same bytes as a whole pcap or pcapng file.
    let files = PacketEngine(configuration: c)
    if var pcap = try? PcapParser(input) {
        while let (packet, ts, link) = try? pcap.next() { files.process(packet, link: link, at: ts) }
    }
    if var ng = try? PcapngParser(input) {
        while let (packet, ts, link) = try? ng.next() { files.process(packet, link: link, at: ts) }
    }
    files.finish()
    // The same bytes as lines of a Zeek log.
    var parser = ZeekTSVParser(file: "fuzz")
    var line = 0
    var start = 1
    for i in 1...size where i == size || input[i] == 10 {
        line += 1
        if let r = try? parser.parse(UnsafeRawBufferPointer(rebasing: input[start..<i]), number: line), case .row(let row) = r {
            _ = try? ConnRecord(zeek: row)
            _ = try? DNSRecord(zeek: row)
            _ = try? HTTPRecord(zeek: row)
        }
        start = i + 1
    }
    return 0
}
