import Foundation
import VigilCapture
import VigilCore
import VigilSim

/// `vigil simulate`: an office network's week as a capture, with optional attacks and labels.
enum SimulateCommand {
    static func run(_ a: ArraySlice<String>) throws -> Int32 {
        let args = try Arguments(a, flags: ["no-novelty"])
        try args.allowOnly(["out", "devices", "days", "attacks", "seed", "labels", "inject"])
        guard let out = args.options["out"] else { throw VigilError.usage("simulate needs --out FILE.pcap") }
        var c = OfficeConfiguration()
        c.devices = try args.int("devices", default: c.devices)
        c.days = try args.int("days", default: c.days)
        guard c.devices >= 6, c.devices <= 100_000 else { throw VigilError.usage("--devices is between 6 and 100000") }
        guard c.days >= 1, c.days <= 60 else { throw VigilError.usage("--days is between 1 and 60") }
        c.seed = UInt64(try args.int("seed", default: Int(c.seed)))
        c.novelty = !args.flags.contains("no-novelty")
        if let list = args.options["attacks"], !list.isEmpty {
            if list == "all" { c.attacks = OfficeAttack.allCases } else {
                c.attacks = try list.split(separator: ",").map { name in
                    guard let a = OfficeAttack(rawValue: String(name)) else {
                        throw VigilError.usage("unknown attack '\(name)'; known: \(OfficeAttack.allCases.map(\.rawValue).joined(separator: ", ")), all")
                    }
                    return a
                }
            }
        }
        let writer = try PcapWriter(path: out)
        let sim = OfficeSimulator(c)
        // A foreign capture (an attack without history) placed on baseline devices on the attack day.
        var injected: [(Timestamp, [UInt8])] = []
        var injection: CaptureInjection?
        var extraLabels: [AttackLabel] = []
        if let path = args.options["inject"] {
            let source = try CaptureFiles.open(path)
            var frames: [(Timestamp, UInt32)] = []
            var copies: [[UInt8]] = []
            while let (buf, ts, link) = try source.next() {
                copies.append(Array(buf))
                frames.append((ts, UInt32(truncatingIfNeeded: link.rawValue)))
            }
            guard let first = frames.map(\.0).min() else { throw VigilError.badInput("the capture to inject has no packets", file: path) }
            let targets = Array(sim.workstationAddresses.reversed())
            var inj = CaptureInjection(targets: targets, shift: sim.attackWindowStart - first)
            for (i, f) in frames.enumerated() {
                if let r = copies[i].withUnsafeBytes({ inj.rewrite($0, linkType: f.1, at: f.0) }) { injected.append(r) }
            }
            injected.sort { $0.0 < $1.0 }
            injection = inj
            if let s = injected.first?.0, let e = injected.last?.0 {
                for m in inj.mapping {
                    extraLabels.append(AttackLabel(attack: "injected", device: m.to.description, peers: [m.from.description],
                                                   start: s.iso8601, end: e.iso8601, startSeconds: s.seconds, endSeconds: e.seconds,
                                                   summary: "\((path as NSString).lastPathComponent): \(m.from) placed on \(m.to)"))
                }
            }
        }
        var next = 0
        sim.run { ts, frame in
            while next < injected.count, injected[next].0 <= ts { injected[next].1.withUnsafeBytes { writer.write($0, at: injected[next].0) }; next += 1 }
            writer.write(frame, at: ts)
        }
        while next < injected.count { injected[next].1.withUnsafeBytes { writer.write($0, at: injected[next].0) }; next += 1 }
        writer.close()
        let labelsPath = args.options["labels"] ?? (out.hasSuffix(".pcap") ? String(out.dropLast(5)) : out) + ".labels.json"
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        do { try e.encode(sim.labels + extraLabels).write(to: URL(fileURLWithPath: labelsPath)) } catch {
            throw VigilError.io("cannot write labels: \(error.localizedDescription)", file: labelsPath)
        }
        if let injection { err("vigil simulate: injected \(injected.count) packets, \(injection.mapping.count) private addresses placed on workstations, \(injection.skipped) frames skipped") }
        err("vigil simulate: \(c.devices) devices over \(c.days) days: \(sim.sessions) sessions, \(sim.packets) packets to \(out); \(sim.labels.count) attack(s) labelled in \(labelsPath)")
        return 0
    }
}
