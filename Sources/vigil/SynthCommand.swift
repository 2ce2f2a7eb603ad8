import Foundation
import VigilCapture
import VigilCore
import VigilSim

enum SynthCommand {
    static func run(_ a: ArraySlice<String>) throws -> Int32 {
        let args = try Arguments(a, flags: [])
        try args.allowOnly(["out", "sessions", "seed", "bulk-bytes", "clients", "servers", "gap-ms", "bulk-share"])
        guard let out = args.options["out"] else { throw VigilError.usage("synth needs --out FILE.pcap") }
        var c = SynthConfiguration()
        c.sessions = try args.int("sessions", default: c.sessions)
        c.seed = UInt64(try args.int("seed", default: 1))
        c.bulkBytes = try args.int("bulk-bytes", default: c.bulkBytes)
        c.clients = max(1, try args.int("clients", default: c.clients))
        c.servers = max(1, try args.int("servers", default: c.servers))
        if let g = args.options["gap-ms"], let v = Double(g) { c.meanGap = Duration(nanoseconds: Int64(v * 1e6)) }
        if let s = args.options["bulk-share"], let v = Double(s), v >= 0, v <= 0.9 { c.bulkShare = v }
        let writer = try PcapWriter(path: out)
        let synth = TrafficSynth(c)
        synth.run { ts, frame in writer.write(frame, at: ts) }
        writer.close()
        let kinds = synth.sessionsByKind.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        err("vigil synth: wrote \(synth.packets) packets, \(synth.bytes) bytes, \(c.sessions) sessions (\(kinds)) to \(out)")
        return 0
    }
}
