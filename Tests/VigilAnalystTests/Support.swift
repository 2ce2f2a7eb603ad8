import Foundation
import VigilAnalyst
import VigilCore
import VigilLearn
import VigilSim
import VigilStore
import VigilWire

let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
let datasets = packageRoot.deletingLastPathComponent().appendingPathComponent("shared/datasets")
let haveDatasets = FileManager.default.fileExists(atPath: datasets.path)

func tempDir(_ name: String = #function) throws -> URL {
    let base = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("vigil-analyst-tests-\(getpid())")
        .appendingPathComponent(name.filter { $0.isLetter || $0.isNumber } + "-" + UUID().uuidString.prefix(8))
    try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
    return base
}

/// A simulated office decoded by the real packet engine, learned by the real learner, its
/// observations in a real SQLite store, investigated by the analyst.
struct OfficeCase {
    var breaches: [Breach]
    var labels: [AttackLabel]
    var store: SQLiteStore
    var directory: [String: DeviceInfo]
    var frames: [(Timestamp, [UInt8])]

    init(devices: Int, days: Int, attacks: [OfficeAttack], seed: UInt64, keepFrames: Bool = false) throws {
        var c = OfficeConfiguration()
        c.devices = devices; c.days = days; c.attacks = attacks; c.seed = seed
        let sim = OfficeSimulator(c)
        let engine = PacketEngine(configuration: WireConfiguration())
        let learner = Learner(configuration: LearnConfiguration())
        let store = try SQLiteStore(path: try tempDir().appendingPathComponent("office.sqlite").path)
        var raw: [Breach] = []
        var frames: [(Timestamp, [UInt8])] = []
        func drain() throws {
            for o in engine.output { learner.observe(o); try store.consume(o) }
            engine.output.removeAll(keepingCapacity: true)
        }
        var failure: Error?
        sim.run { ts, frame in
            if keepFrames { frames.append((ts, Array(frame))) }
            engine.process(frame, link: .ethernet, at: ts)
            do { try drain() } catch { failure = error }
        }
        if let failure { throw failure }
        engine.finish()
        try drain()
        learner.finish()
        raw += learner.drainBreaches()
        try store.commit()
        var directory: [String: DeviceInfo] = [:]
        learner.context.devices.forEach { ip, p in directory[ip.description] = DeviceInfo(name: p.name, isServer: p.servesOthers) }
        self.breaches = Breach.latestVersions(raw)
        self.labels = sim.labels
        self.store = store
        self.directory = directory
        self.frames = frames
    }

    func investigate(alerts: [Alert] = []) -> AnalystResult {
        Analyst(directory: directory).investigate(breaches: breaches, alerts: alerts, query: store)
    }

    /// The internal devices an attack involves (the campaign's second device too).
    static func devices(of l: AttackLabel) -> Set<String> {
        var s: Set<String> = [l.device]
        if l.attack == "campaign" || l.attack == "bruteforce" {
            for p in l.peers where IPAddress(p)?.isPrivate == true && !p.contains("/") { s.insert(p) }
        }
        return s
    }

    /// Breaches scoring 50+ that belong to an attack: on its devices, within its window.
    func attackBreaches(_ l: AttackLabel) -> [Breach] {
        let devices = Self.devices(of: l)
        return breaches.filter { b in
            b.score >= 50 && devices.contains(b.device) && b.last.seconds >= l.startSeconds - 600 && b.first.seconds <= l.endSeconds + 3600
        }
    }
}
