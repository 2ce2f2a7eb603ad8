import Foundation
import VigilCore

/// What a model fills in when it judges something worth a breach.
public struct BreachDraft: Sendable {
    public var reason: String
    public var first: Timestamp
    public var last: Timestamp
    public var endpoints: [String] = []
    public var peers: [String] = []
    public var techniques: [String] = []
    public var facts: [String: Double] = [:]
    public var scope = BreachScope()

    public init(reason: String, first: Timestamp, last: Timestamp, endpoints: [String] = [], peers: [String] = [],
                techniques: [String] = [], facts: [String: Double] = [:], scope: BreachScope = BreachScope()) {
        self.reason = reason; self.first = first; self.last = last; self.endpoints = endpoints; self.peers = peers
        self.techniques = techniques; self.facts = facts; self.scope = scope
    }
}

/// A name seen for an address (DNS answer, SNI, HTTP Host) and its zone, computed once.
public struct PeerName: Codable, Sendable {
    public var name: String
    /// Stored only when it differs from the name.
    private var z: String?
    public var zone: String { z ?? name }
    init(_ n: String) { name = n; let zone = Domains.zone(n) ?? n; z = zone == n ? nil : zone }
}

/// The state every model shares — devices, external endpoints, names, peer groups, the clock,
/// the calibrators — and the one way a model reports: `judge`.
public final class LearnContext {
    public let configuration: LearnConfiguration
    /// Observation time: the latest record time seen.
    public internal(set) var now = Timestamp.zero
    public internal(set) var started: Timestamp?
    public internal(set) var devices: BoundedTable<IPAddress, DeviceProfile>
    public internal(set) var endpoints: BoundedTable<String, EndpointProfile>
    var names: BoundedTable<IPAddress, PeerName>
    /// The zone of the DNS query being shown to the models (computed once per record).
    public internal(set) var queryZone: String?
    public internal(set) var groups = PeerGroups()
    /// Per model, in the order models first reported: found by comparing the name (a short
    /// literal, compared in two words) rather than hashing it into three dictionaries per test.
    struct ModelBook {
        let name: String
        var calibrator = Calibrator()
        var tests = 0
        /// Each peer group's own calibrator for this model.
        var groups: [Int: Calibrator] = [:]
    }
    var books: [ModelBook] = []
    /// Tests run per model.
    public var tests: [String: Int] { Dictionary(books.map { ($0.name, $0.tests) }, uniquingKeysWith: +) }
    var calibrators: [String: Calibrator] { Dictionary(books.map { ($0.name, $0.calibrator) }, uniquingKeysWith: { a, _ in a }) }
    var groupCalibrators: [GroupKey: Calibrator] {
        var out: [GroupKey: Calibrator] = [:]
        for b in books { for (g, c) in b.groups { out[GroupKey(model: b.name, group: g)] = c } }
        return out
    }

    @inline(__always) func book(_ model: String) -> Int {
        for i in books.indices where books[i].name == model { return i }
        books.append(ModelBook(name: model))
        return books.count - 1
    }
    var completedDeviceDays = 0.0
    var day: Int64 = .min
    var activeToday: Set<IPAddress> = []
    var reported: BoundedTable<String, ReportMark>
    var breachSequence = 0
    var breaches: [Breach] = []
    public internal(set) var breachesAtOrAbove50 = 0
    var modelCount = 1

    struct ReportMark: Codable, Sendable { var time: Timestamp; var score: Double; var surprisal: Double; var id: String; var first: Timestamp; var alertedAt: Timestamp? }

    init(configuration c: LearnConfiguration) {
        configuration = c
        devices = BoundedTable(capacity: c.maxDevices)
        endpoints = BoundedTable(capacity: c.maxEndpoints)
        names = BoundedTable(capacity: c.maxNames)
        reported = BoundedTable(capacity: max(1024, c.maxDevices * 4))
    }

    // MARK: Facts

    public func isLocal(_ ip: IPAddress) -> Bool {
        configuration.localNetworks.contains { $0.contains(ip) }
    }

    /// Device-days watched so far, counting today's active devices for the part of today seen.
    public var deviceDays: Double {
        // Before the first observation there is no day yet (and `day` is a sentinel).
        guard day != .min, started != nil else { return completedDeviceDays }
        let dayStart = day &* 86_400 &- Int64(configuration.utcOffsetHours) &* 3600
        let from = max(dayStart, (started?.nanoseconds ?? 0) / 1_000_000_000)
        let secondsToday = Double((now.nanoseconds / 1_000_000_000) &- from)
        let fraction = max(0, min(1, secondsToday / 86_400))
        return completedDeviceDays + Double(activeToday.count) * fraction
    }

    /// Still inside the learning period for the network as a whole.
    public var isLearning: Bool {
        guard let s = started else { return true }
        return now - s < configuration.baseline
    }

    /// The device has been watched for the whole learning period.
    public func isMature(_ device: IPAddress) -> Bool {
        guard !isLearning else { return false }
        return devices.peek(device, { $0.pointee.age(at: now) >= configuration.baseline }) ?? false
    }

    public func name(of ip: IPAddress) -> String? { names[ip]?.name }

    public func deviceName(_ ip: IPAddress) -> String? { devices.peek(ip, { $0.pointee.name }) ?? nil }

    /// "10.1.0.7 (laptop-3)".
    public func label(_ ip: IPAddress) -> String {
        if let n = deviceName(ip) { return "\(ip) (\(n))" }
        return ip.description
    }

    public func endpoint(_ key: String) -> EndpointProfile? { endpoints[key] }

    /// Devices the learner knows now.
    public var deviceCount: Int { devices.count }

    // MARK: Judging

    /// Drops the marks of breaches whose cooldown ended more than four days ago: a mark only
    /// joins a repeat within the cooldown to its breach, and models judge after the fact (the
    /// beacon model judges a series at the time of its last connection, for up to three days
    /// after it). Without this the marks grew with every breach ever reported.
    func forgetClosedBreaches() {
        let horizon = Duration(nanoseconds: configuration.cooldown.nanoseconds &+ 4 * 86_400 * 1_000_000_000)
        reported.removeAll { _, mark in now - mark.time > horizon }
    }

    /// Records a test whose surprisal is too small to be a breach (keeps calibration honest
    /// without paying for a score).
    public func pass(_ model: String, surprisal x: Double, device: IPAddress) {
        let m = book(model)
        books[m].calibrator.record(x)
        if let g = calibrationGroup(device) { books[m].groups[g, default: Calibrator()].record(x) }
        books[m].tests += 1
    }

    struct GroupKey: Hashable, Codable { var model: String; var group: Int }

    /// The peer group whose own score distribution judges this device, when it has one.
    func calibrationGroup(_ device: IPAddress) -> Int? {
        guard configuration.peerGroupCalibration, let g = devices.peek(device, { $0.pointee.group }), g > 0 else { return nil }
        return g
    }

    /// Scores a test; when it is a breach (score at or above the report level, outside the
    /// learning period where `needsHistory`, and not a repeat within the cooldown) it is
    /// recorded. Returns the score.
    @discardableResult
    public func judge(_ model: String, surprisal x: Double, device: IPAddress, subject: String,
                      at t: Timestamp, needsHistory: Bool, _ draft: () -> BreachDraft) -> Double {
        let m = book(model)
        books[m].tests += 1
        let budget = configuration.budgetPerDeviceDay / Double(max(1, modelCount))
        // Scored against the device's peer group once that group has enough history of this
        // model (a noisy group of laptops is calibrated among laptops, servers among servers),
        // otherwise against the whole network; both keep learning.
        var score = books[m].calibrator.score(x, deviceDays: deviceDays, budget: budget)
        if let g = calibrationGroup(device) {
            let share = Double(max(1, groups.size(of: g))) / Double(max(1, devices.count))
            if (books[m].groups[g]?.tests ?? 0) >= 200 {
                score = books[m].groups[g, default: Calibrator()].score(x, deviceDays: deviceDays * share, budget: budget)
            } else {
                books[m].groups[g, default: Calibrator()].record(x)
            }
        }
        if needsHistory && !isMature(device) { return score }
        let key = "\(model)|\(device)|\(subject)"
        let open = reported[key].map { t - $0.time < configuration.cooldown } ?? false
        guard score >= configuration.reportScore || open else { return score }
        // The same subject again within the cooldown is the same breach: it is updated (same
        // id) when the evidence grew, and otherwise only keeps the breach open.
        var previous: ReportMark? = nil
        if let mark = reported[key], t - mark.time < configuration.cooldown {
            reported.modify(key) { $0.time = max($0.time, t) }
            guard score > mark.score + 0.5 || x > mark.surprisal * 1.25 else { return score }
            previous = mark
        }
        let d = draft()
        let breachID: String
        if let p = previous { breachID = p.id } else { breachSequence += 1; breachID = "B\(breachSequence)" }
        let first = previous?.first ?? t
        let best = max(score, previous?.score ?? 0)
        // When it first reached 50: the moment an analyst would have been told.
        let alertedAt = previous?.alertedAt ?? (best >= 50 ? t : nil)
        if best >= 50, previous?.alertedAt == nil { breachesAtOrAbove50 += 1 }
        let mark = ReportMark(time: t, score: best, surprisal: max(x, previous?.surprisal ?? 0), id: breachID, first: first, alertedAt: alertedAt)
        reported.update(key, at: t, make: { mark }) { $0 = mark }
        breaches.append(Breach(
            id: breachID, model: model, device: device.description, deviceName: deviceName(device),
            time: t, first: min(d.first, first), last: d.last, score: best, surprisal: x, reason: d.reason,
            endpoints: d.endpoints, peers: d.peers, techniques: d.techniques, facts: d.facts, scope: d.scope,
            alertedAt: alertedAt))
        return score
    }
}

extension LearnContext {
    struct Snapshot: Codable {
        var now: Timestamp
        var started: Timestamp?
        var devices: BoundedTable<IPAddress, DeviceProfile>
        var endpoints: BoundedTable<String, EndpointProfile>
        var names: BoundedTable<IPAddress, PeerName>
        var groups: PeerGroups
        var calibrators: [String: Calibrator]
        var groupCalibrators: [GroupKey: Calibrator]?
        var tests: [String: Int]
        var completedDeviceDays: Double
        var day: Int64
        var activeToday: [IPAddress]
        var reported: BoundedTable<String, ReportMark>
        var breachSequence: Int
        var breachesAtOrAbove50: Int
    }

    var snapshot: Snapshot {
        Snapshot(now: now, started: started, devices: devices, endpoints: endpoints, names: names, groups: groups,
                 calibrators: calibrators, groupCalibrators: groupCalibrators, tests: tests, completedDeviceDays: completedDeviceDays, day: day,
                 activeToday: activeToday.sorted(), reported: reported, breachSequence: breachSequence,
                 breachesAtOrAbove50: breachesAtOrAbove50)
    }

    func restore(_ s: Snapshot) {
        now = s.now; started = s.started; devices = s.devices; endpoints = s.endpoints; names = s.names
        groups = s.groups
        // Books in name order (a dictionary's order is not stable).
        let names = Set(s.calibrators.keys).union(s.tests.keys).union((s.groupCalibrators ?? [:]).keys.map(\.model)).sorted()
        books = names.map { ModelBook(name: $0, calibrator: s.calibrators[$0] ?? Calibrator(), tests: s.tests[$0] ?? 0) }
        for (k, c) in s.groupCalibrators ?? [:] { books[book(k.model)].groups[k.group] = c }
        completedDeviceDays = s.completedDeviceDays
        day = s.day; activeToday = Set(s.activeToday); reported = s.reported; breachSequence = s.breachSequence
        breachesAtOrAbove50 = s.breachesAtOrAbove50
    }
}
