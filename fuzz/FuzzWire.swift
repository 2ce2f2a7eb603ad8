// libFuzzer target for the sans-I/O decoders: link/IP/transport decoding, fragment
// reassembly, the flow table, every application analyzer, the pcap and pcapng file parsers,
// the Zeek TSV parser, and the learner fed with everything those produce (hostile times, byte
// counts and names), including a snapshot and restore of its state.
// Built by fuzz/run.sh with `swiftc -sanitize=fuzzer,address`.
import Foundation
import VigilCore
import VigilLearn
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
    var lc = LearnConfiguration()
    lc.baseline = .seconds(0)
    lc.maxDevices = 32; lc.maxEndpoints = 64; lc.maxPairs = 64; lc.maxNames = 64
    let learner = Learner(configuration: lc)
    // The rest is a series of packets, each behind a 2-byte length; time advances per packet.
    var o = 1
    var t = Timestamp(seconds: 1_700_000_000)
    while o + 2 <= size {
        let n = min(Int(input[o]) << 8 | Int(input[o + 1]), size - o - 2)
        let packet = UnsafeRawBufferPointer(rebasing: input[(o + 2)..<(o + 2 + n)])
        t = t + Duration(nanoseconds: Int64(input[o]) * 10_000_000)
        engine.process(packet, link: link, at: t)
        for obs in engine.output { learner.observe(obs) }
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
            if let r = try? ConnRecord(zeek: row) { learner.observe(.conn(r)) }
            if let r = try? DNSRecord(zeek: row) { learner.observe(.dns(r)) }
            if let r = try? HTTPRecord(zeek: row) { learner.observe(.http(r)) }
        }
        start = i + 1
    }
    for obs in engine.output { learner.observe(obs) }
    learner.finish()
    _ = learner.drainBreaches()
    // Saving and restoring is slow under the sanitizer (and has its own test): only inputs that
    // start 00 5A do it, so libFuzzer can still reach it.
    if input[0] == 0, size > 1, input[1] == 0x5A, let saved = try? learner.snapshot() {
        let again = Learner(configuration: lc)
        try? again.restore(saved)
    }
    return 0
}
