import Foundation
import VigilCore
import VigilLearn
import VigilSim
import VigilWire

/// `vigil bench-learn`: a simulated office streamed through the packet engine and the learner
/// in one process, timing each, so learning is measured beside decoding on the same input.
enum BenchLearnCommand {
    static func run(_ a: ArraySlice<String>) throws -> Int32 {
        let args = try Arguments(a, flags: [])
        try args.allowOnly(["devices", "days", "seed"])
        var c = OfficeConfiguration()
        c.devices = try args.int("devices", default: 1000)
        c.days = try args.int("days", default: 7)
        c.seed = UInt64(try args.int("seed", default: 1))
        c.attacks = OfficeAttack.allCases
        var lc = LearnConfiguration()
        lc.maxDevices = max(lc.maxDevices, c.devices * 2)
        let sim = OfficeSimulator(c)
        let engine = PacketEngine(configuration: WireConfiguration())
        let learner = Learner(configuration: lc)
        var decodeNs: UInt64 = 0, learnNs: UInt64 = 0, observations = 0, frames = 0
        var batch: [Observation] = []
        batch.reserveCapacity(8192)
        func learn() {
            guard !batch.isEmpty else { return }
            let t0 = DispatchTime.now().uptimeNanoseconds
            for o in batch { learner.observe(o) }
            learnNs += DispatchTime.now().uptimeNanoseconds - t0
            observations += batch.count
            batch.removeAll(keepingCapacity: true)
        }
        let wall = DispatchTime.now().uptimeNanoseconds
        // Frames are gathered into an arena and decoded in batches, so the clock is read once
        // per batch rather than per packet (which would add ~50 ns to every packet's cost).
        var arena: [UInt8] = []
        arena.reserveCapacity(2 << 20)
        var marks: [(Int, Int, Timestamp)] = []
        func decode() {
            let t0 = DispatchTime.now().uptimeNanoseconds
            arena.withUnsafeBytes { all in
                for (start, count, ts) in marks {
                    engine.process(UnsafeRawBufferPointer(rebasing: all[start..<(start + count)]), link: .ethernet, at: ts)
                    if !engine.output.isEmpty {
                        batch += engine.output
                        engine.output.removeAll(keepingCapacity: true)
                    }
                }
            }
            decodeNs += DispatchTime.now().uptimeNanoseconds - t0
            frames += marks.count
            arena.removeAll(keepingCapacity: true)
            marks.removeAll(keepingCapacity: true)
            learn()
        }
        sim.run { ts, frame in
            marks.append((arena.count, frame.count, ts))
            arena.append(contentsOf: frame)
            if arena.count >= 1 << 20 { decode() }
        }
        decode()
        engine.finish()
        batch += engine.output
        learn()
        let t0 = DispatchTime.now().uptimeNanoseconds
        learner.finish()
        learnNs += DispatchTime.now().uptimeNanoseconds - t0
        let breaches = learner.drainBreaches()
        let s0 = DispatchTime.now().uptimeNanoseconds
        let snapshot = try learner.snapshot()
        let snapshotNs = DispatchTime.now().uptimeNanoseconds - s0
        let devices = max(1, learner.context.deviceCount)
        let decodeRate = Double(observations) / (Double(decodeNs) / 1e9)
        let learnRate = Double(observations) / (Double(learnNs) / 1e9)
        print(String(format: "devices %d  days %d  packets %d  observations %d", devices, c.days, frames, observations))
        print(String(format: "decode (packet engine): %.2f s, %.0f observations/s", Double(decodeNs) / 1e9, decodeRate))
        print(String(format: "learn  (%d models):     %.2f s, %.0f observations/s  (%.2fx the decoder's rate)", ModelRegistry.all(LearnConfiguration()).count, Double(learnNs) / 1e9, learnRate, learnRate / decodeRate))
        print(String(format: "state: snapshot %d bytes, %.0f bytes per device (JSON; target 16 KiB), taken in %.0f ms (what each vigil serve checkpoint costs)",
                     snapshot.count, Double(snapshot.count) / Double(devices), Double(snapshotNs) / 1e6))
        let parts = try learner.stateBytes().sorted { $0.1 > $1.1 }.map { "\($0.0) \($0.1 / devices)" }
        print("state per device by part (bytes): " + parts.joined(separator: ", "))
        print(String(format: "breaches %d (%d scoring 50+); wall %.1f s including traffic generation", breaches.count, learner.context.breachesAtOrAbove50,
                     Double(DispatchTime.now().uptimeNanoseconds - wall) / 1e9))
        return 0
    }
}
