import Foundation
import VigilCore

/// A self-learning model: one file, one registration in `ModelRegistry.all`. It learns from the
/// observations it is shown, and reports through `LearnContext.judge`, which scores and
/// explains. Its state is `Codable` so the learner can be saved and restored.
public protocol LearningModel: AnyObject {
    /// Short name used in breaches ("beacon").
    var name: String { get }
    /// One sentence on what it finds.
    var summary: String { get }
    func conn(_ f: ConnFacts, _ ctx: LearnContext)
    func dns(_ r: DNSRecord, device: IPAddress, _ ctx: LearnContext)
    /// A web request and its answer, for the device that made it.
    func http(_ r: HTTPRecord, device: IPAddress, _ ctx: LearnContext)
    /// Called once for every hour of observation time that ends (by local hour index).
    func hourEnded(_ hour: Int64, _ ctx: LearnContext)
    /// The end of the input: judge what is still open.
    func finish(_ ctx: LearnContext)
    func encodeState(_ e: JSONEncoder) throws -> Data
    func decodeState(_ d: JSONDecoder, _ data: Data) throws
}

extension LearningModel {
    public func conn(_ f: ConnFacts, _ ctx: LearnContext) {}
    public func dns(_ r: DNSRecord, device: IPAddress, _ ctx: LearnContext) {}
    public func http(_ r: HTTPRecord, device: IPAddress, _ ctx: LearnContext) {}
    public func hourEnded(_ hour: Int64, _ ctx: LearnContext) {}
    public func finish(_ ctx: LearnContext) {}
}

/// Every model the learner runs. Adding one is a file plus a line here.
public enum ModelRegistry {
    public static func all(_ c: LearnConfiguration) -> [any LearningModel] {
        [
            RareEndpointModel(c),
            NewServiceModel(c),
            VolumeModel(c),
            BeaconModel(c),
            DNSTunnelModel(c),
            DGAModel(c),
            ScanModel(c),
            WebProbeModel(c),
            BruteForceModel(c),
            LateralMovementModel(c),
            ExfiltrationModel(c),
            UnusualTimeModel(c),
            DeviceOutlierModel(c),
        ]
    }
}

/// The pattern-of-life engine: observations in (in observation-time order, as sources emit
/// them), breaches out. Pure: no I/O, no wall clock.
public final class Learner {
    public let configuration: LearnConfiguration
    public let context: LearnContext
    public let models: [any LearningModel]
    public private(set) var observations = 0
    /// Connections between two addresses that are both outside the local networks.
    public private(set) var foreign = 0
    var hour: Int64 = .min

    public init(configuration: LearnConfiguration = LearnConfiguration()) {
        self.configuration = configuration
        context = LearnContext(configuration: configuration)
        models = ModelRegistry.all(configuration)
        context.modelCount = models.count
    }

    /// Breaches found since the last call.
    public func drainBreaches() -> [Breach] {
        defer { context.breaches.removeAll(keepingCapacity: true) }
        return context.breaches
    }

    public func observe(_ o: Observation) {
        observations += 1
        advanceClock(to: o.ts)
        switch o {
        case .conn(let r): conn(r)
        case .dns(let r):
            if let q = r.query, !r.answers.isEmpty {
                var made: PeerName?
                for a in r.answers {
                    // Names and other records are not addresses; only try those that could be.
                    guard let c = a.utf8.first, (c >= 48 && c <= 57) || a.utf8.contains(58), let ip = IPAddress(a) else { continue }
                    learnName(q, of: ip, at: r.ts, made: &made)
                }
            }
            // A reverse lookup answered for one of our devices names it (DHCP names win).
            if r.qtype == 12, let q = r.query, let ip = Learner.reverseAddress(q), context.isLocal(ip),
               let n = r.answers.first(where: { IPAddress($0) == nil }), !n.isEmpty {
                context.devices.modify(ip) { p in if p.name == nil { p.name = n.hasSuffix(".") ? String(n.dropLast()) : n } }
            }
            guard isLocal(r.id.origHost, flag: nil) else { return }
            touchDevice(r.id.origHost, at: r.ts) { $0.hour.dns += 1 }
            context.queryZone = r.query.flatMap(Domains.zone)
            for m in models { m.dns(r, device: r.id.origHost, context) }
        case .tls(let r):
            var made: PeerName?
            if let sni = r.serverName, !sni.isEmpty { learnName(sni, of: r.id.respHost, at: r.ts, made: &made) }
        case .http(let r):
            if let h = r.host, !h.isEmpty, IPAddress(h) == nil {
                var made: PeerName?
                learnName(String(h.split(separator: ":").first ?? Substring(h)), of: r.id.respHost, at: r.ts, made: &made)
            }
            guard isLocal(r.id.origHost, flag: nil) else { return }
            for m in models { m.http(r, device: r.id.origHost, context) }
        case .ssh:
            break
        case .dhcp(let r):
            guard let ip = r.assignedAddr ?? r.clientAddr, let n = r.hostName ?? r.clientFQDN, !n.isEmpty else { return }
            touchDevice(ip, at: r.ts)
            context.devices.modify(ip) { p in p.name = n; if let m = r.mac { p.mac = m } }
        }
    }

    /// Ties a name seen for an address (DNS answer, SNI, HTTP Host) to it. The name's zone is
    /// worked out only when the address did not already carry this name, and once for all the
    /// addresses of one record (`made` keeps it).
    func learnName(_ n: String, of ip: IPAddress, at t: Timestamp, made: inout PeerName?) {
        func entry() -> PeerName {
            if let e = made { return e }
            let e = PeerName(n)
            made = e
            return e
        }
        context.names.update(ip, at: t, make: entry) { if $0.name != n { $0 = entry() } }
    }

    /// Ends the input: closes the open hour and lets every model judge what is pending.
    public func finish() {
        if hour != .min { endHour(hour) }
        for m in models { m.finish(context) }
    }

    /// "7.0.20.10.in-addr.arpa" -> 10.20.0.7.
    static func reverseAddress(_ q: String) -> IPAddress? {
        let lower = q.lowercased()
        guard lower.hasSuffix(".in-addr.arpa") || lower.hasSuffix(".in-addr.arpa.") else { return nil }
        let parts = lower.split(separator: ".").prefix(4)
        guard parts.count == 4 else { return nil }
        return IPAddress(parts.reversed().joined(separator: "."))
    }

    func isLocal(_ ip: IPAddress, flag: Bool?) -> Bool {
        if configuration.trustRecordLocality, let flag { return flag }
        return context.isLocal(ip)
    }

    func advanceClock(to t: Timestamp) {
        if context.started == nil { context.started = t; context.day = LearnClock.dayIndex(t, offsetHours: configuration.utcOffsetHours) }
        guard t > context.now else { return }
        context.now = t
        let h = LearnClock.hourIndex(t)
        if hour == .min { hour = h }
        // Hours end in order. After a gap of more than a few hours only the hour that had
        // activity and the two before the new one are closed: a long silence in the input is
        // more often a gap in capture than a quiet network, and a time jump in hostile input
        // must not cost a week of hourly passes.
        if h > hour {
            endHour(hour)
            for ended in max(hour + 1, h - 2)..<h { endHour(ended) }
            hour = h
        }
        let d = LearnClock.dayIndex(t, offsetHours: configuration.utcOffsetHours)
        if d > context.day {
            context.completedDeviceDays += Double(context.activeToday.count)
            context.activeToday.removeAll(keepingCapacity: true)
            context.day = d
            context.groups.recluster(&context.devices)
            context.forgetClosedBreaches()
        }
    }

    /// Models judge the hour that ended; then every device's hourly activity starts afresh.
    func endHour(_ h: Int64) {
        for m in models { m.hourEnded(h, context) }
        context.devices.mutateAll { _, p in if !p.hour.isEmpty { p.hour.reset() } }
    }

    func touchDevice(_ ip: IPAddress, at t: Timestamp, _ also: (inout DeviceProfile) -> Void = { _ in }) {
        let day = context.day
        let hourOfDay = Int(((t.nanoseconds / 1_000_000_000 + Int64(configuration.utcOffsetHours) * 3600).quotientFloor(3600)) % 24)
        let firstToday = context.devices.update(ip, at: t, make: { DeviceProfile(at: t) }) { p -> Bool in
            p.lastSeen = max(p.lastSeen, t)
            p.activeHourMask |= 1 << UInt32((hourOfDay + 24) % 24)
            also(&p)
            guard p.lastActiveDay != day else { return false }
            p.lastActiveDay = day; p.activeDays += 1
            return true
        }
        if firstToday || context.activeToday.isEmpty, context.activeToday.count < configuration.maxDevices { context.activeToday.insert(ip) }
    }

    func conn(_ r: ConnRecord) {
        let o = r.id.origHost, s = r.id.respHost
        let oLocal = isLocal(o, flag: r.localOrig), sLocal = isLocal(s, flag: r.localResp)
        guard oLocal || sLocal else { foreign += 1; return }
        let device = oLocal ? o : s
        let peer = oLocal ? s : o
        let bothLocal = oLocal && sLocal
        let name = context.names.peek(peer) { ($0.pointee.name, $0.pointee.zone) }
        var facts = ConnFacts(record: r, device: device, peer: peer, deviceIsOrig: oLocal, isInternal: bothLocal,
                          peerName: name?.0, peerZone: name?.1, utcOffsetHours: configuration.utcOffsetHours)
        let accepted = !facts.failed
        let t = r.ts
        // What the network knew of the endpoint before this connection (one lookup, shared by
        // the models); outbound connections then teach it this device.
        if oLocal {
            let h = Stats.hash(device)
            let key = facts.peerKey
            facts.endpoint = context.endpoints.update(key, at: t, make: { EndpointProfile(at: t, new: true) }) { e -> EndpointFacts in
                let before = EndpointFacts(users: e.isNew ? 0 : e.deviceCount, seenByDevice: e.hasSeen(device: h) ?? false,
                                           firstSeen: e.isNew ? nil : e.firstSeen)
                e.isNew = false
                e.lastSeen = max(e.lastSeen, t)
                e.conns += 1
                e.add(device: h)
                return before
            }
        }
        // From here on a constant: the closures below borrow it rather than copy it.
        let f = facts
        let proto = r.id.proto, port = r.id.respPort, mac = oLocal ? r.origMAC : r.respMAC
        let sent = f.sentBytes, received = f.receivedBytes
        func count(_ p: inout DeviceProfile) {
            if oLocal {
                p.connsOut += 1
                p.clientServices.insert(UInt64(proto.rawValue) << 16 | UInt64(port))
            } else {
                p.connsIn += 1
                if accepted, proto != .icmp { p.servedPorts.insert(UInt64(port)) }
            }
            p.bytesOut += sent
            p.bytesIn += received
            if p.mac == nil { p.mac = mac }
        }
        if oLocal || accepted {
            touchDevice(device, at: t) { p in count(&p); p.hour.count(f) }
        } else {
            context.devices.modify(device) { p in count(&p); p.hour.count(f) }
        }
        if bothLocal, accepted {
            // The responder is a device too; it served this connection.
            touchDevice(s, at: t) { p in
                p.connsIn += 1
                if r.id.proto != .icmp { p.servedPorts.insert(UInt64(r.id.respPort)) }
                p.hour.sent += f.receivedBytes
                p.hour.received += f.sentBytes
            }
        }
        for m in models { m.conn(f, context) }
    }
}

extension Learner {
    /// The learner's whole state as one value, for the store.
    public struct Snapshot: Codable {
        public var version = 1
        var context: LearnContext.Snapshot
        var models: [String: Data]
        var observations: Int
        var foreign: Int
        var hour: Int64
    }

    public func snapshot() throws -> Data {
        let e = JSONEncoder()
        var ms: [String: Data] = [:]
        for m in models { ms[m.name] = try m.encodeState(e) }
        let s = Snapshot(context: context.snapshot, models: ms, observations: observations, foreign: foreign, hour: hour)
        return try e.encode(s)
    }

    /// Bytes of snapshot per part (the shared context and each model), for the benchmark.
    public func stateBytes() throws -> [(String, Int)] {
        let e = JSONEncoder()
        let c = context.snapshot
        var out = [("devices", try e.encode(c.devices).count), ("endpoints", try e.encode(c.endpoints).count),
                   ("names", try e.encode(c.names).count), ("reported", try e.encode(c.reported).count),
                   ("calibrators", try e.encode(c.calibrators).count)]
        for m in models { out.append((m.name, try m.encodeState(e).count)) }
        return out
    }

    /// Continues from a snapshot taken by `snapshot()`; a model missing from it starts fresh.
    public func restore(_ data: Data) throws {
        let d = JSONDecoder()
        let s: Snapshot
        do { s = try d.decode(Snapshot.self, from: data) } catch {
            throw VigilError.corruptStore("the learner snapshot cannot be read: \(error)", file: "learner snapshot")
        }
        context.restore(s.context)
        for m in models { if let md = s.models[m.name] { try m.decodeState(d, md) } }
        observations = s.observations; foreign = s.foreign; hour = s.hour
    }
}
