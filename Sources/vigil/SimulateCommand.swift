import Foundation
import VigilCapture
import VigilCore
import VigilSim

/// `vigil simulate`: an office network's week as a capture, with optional attacks and labels.
enum SimulateCommand {
    static func run(_ a: ArraySlice<String>) throws -> Int32 {
        let args = try Arguments(a, flags: ["no-novelty"])
        try args.allowOnly(["out", "devices", "days", "attacks", "seed", "labels"])
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
        sim.run { ts, frame in writer.write(frame, at: ts) }
        writer.close()
        let labelsPath = args.options["labels"] ?? (out.hasSuffix(".pcap") ? String(out.dropLast(5)) : out) + ".labels.json"
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        do { try e.encode(sim.labels).write(to: URL(fileURLWithPath: labelsPath)) } catch {
            throw VigilError.io("cannot write labels: \(error.localizedDescription)", file: labelsPath)
        }
        err("vigil simulate: \(c.devices) devices over \(c.days) days: \(sim.sessions) sessions, \(sim.packets) packets to \(out); \(sim.labels.count) attack(s) labelled in \(labelsPath)")
        return 0
    }
}
