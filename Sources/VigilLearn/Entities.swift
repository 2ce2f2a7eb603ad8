import VigilCore

/// What the learner keeps about each of the network's own devices (shared by the models).
public struct DeviceProfile: Sendable, Codable {
    public var firstSeen: Timestamp
    public var lastSeen: Timestamp
    public var mac: MACAddress?
    public var name: String?
    public var group = 0
    public var connsOut = 0.0
    public var connsIn = 0.0
    public var bytesOut = 0.0
    public var bytesIn = 0.0
    /// Ports this device answered on (accepted inbound connections).
    public var servedPorts = BoundedKeySet(capacity: 16)
    /// (proto, port) it used as a client.
    public var clientServices = BoundedKeySet(capacity: 48)
    /// Hours of the day it was ever active in.
    public var activeHourMask: UInt32 = 0
    public var activeDays = 0
    public var lastActiveDay: Int64 = .min
    /// What it did in the current hour (the hourly models read this at the end of the hour).
    public var hour = HourActivity()

    public init(at t: Timestamp) { firstSeen = t; lastSeen = t }

    /// Age in observation time.
    public func age(at t: Timestamp) -> Duration { t - firstSeen }

    /// A server: it answers on some port and is reached more than it reaches out.
    public var servesOthers: Bool { !servedPorts.keys.isEmpty && connsIn > connsOut }
}

/// One device's activity in the current hour of observation time, counted once by the learner
/// for every model that judges hours (volume, unusual time, the device outlier).
public struct HourActivity: Sendable, Codable {
    /// All bytes it sent and received, whichever side started.
    public var sent = 0.0, received = 0.0
    /// Connections it started, with their bytes and failures.
    public var started = 0.0, startedSent = 0.0, startedReceived = 0.0, failed = 0.0
    public var dns = 0.0
    public var peers = DistinctCounter()
    public var ports = DistinctCounter()
    /// Up to eight external endpoints with the bytes it sent them.
    public var uploads = Uploads()
    /// A few endpoints it started connections to, as examples for reasons.
    public var examples: [String] = []

    public init() {}
    public var isEmpty: Bool { sent == 0 && received == 0 && started == 0 && dns == 0 }

    /// Starts the next hour, keeping the lists' storage: a busy device fills them again every
    /// hour, and growing them afresh was an allocation per doubling per device-hour.
    mutating func reset() {
        var lists = (peers, ports, uploads, examples)
        self = HourActivity()
        lists.0.reset(); lists.1.reset(); lists.2.items.removeAll(keepingCapacity: true); lists.3.removeAll(keepingCapacity: true)
        (peers, ports, uploads, examples) = lists
    }

    mutating func count(_ f: ConnFacts) {
        sent += f.sentBytes
        received += f.receivedBytes
        guard f.deviceIsOrig else { return }
        started += 1; startedSent += f.sentBytes; startedReceived += f.receivedBytes
        if f.failed { failed += 1 }
        peers.insert(hash: Stats.hash(f.peer))
        ports.insert(hash: UInt64(f.respPort))
        if f.sentBytes > 0, !f.isInternal { uploads.add(f.sentBytes, to: f.peerKey, hash: f.peerKeyHash) }
        if examples.count < 4, !examples.contains(f.peerKey) { examples.append(f.peerKey) }
    }
}

/// Bytes a device sent to each of up to eight endpoints in an hour. A short list found by the
/// key's hash (computed once per connection), not a dictionary hashing the text again; saved
/// as the dictionary it replaced.
public struct Uploads: Sendable, Codable {
    struct Item: Sendable { var hash: UInt64; var key: String; var bytes: Double }
    var items: [Item] = []
    public init() {}

    public subscript(key: String, hash h: UInt64) -> Double? {
        for i in items where i.hash == h && i.key == key { return i.bytes }
        return nil
    }

    mutating func add(_ bytes: Double, to key: String, hash h: UInt64) {
        for k in items.indices where items[k].hash == h && items[k].key == key { items[k].bytes += bytes; return }
        if items.count < 8 { items.append(Item(hash: h, key: key, bytes: bytes)) }
    }

    /// Endpoints and bytes, most bytes first.
    public var largest: [(key: String, bytes: Double)] { items.sorted { $0.bytes > $1.bytes }.map { ($0.key, $0.bytes) } }

    public init(from decoder: any Decoder) throws {
        let d = try decoder.singleValueContainer().decode([String: Double].self)
        items = d.keys.sorted().map { Item(hash: Stats.hash($0), key: $0, bytes: d[$0]!) }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(Dictionary(items.map { ($0.key, $0.bytes) }, uniquingKeysWith: +))
    }
}

/// What the network knew of a connection's external endpoint just before it.
public struct EndpointFacts: Sendable {
    /// Devices that had used it (0 when it is new to the network).
    public var users: Int
    public var seenByDevice: Bool
    /// Nil when the network had never seen it.
    public var firstSeen: Timestamp?
}

/// What the learner keeps about each endpoint outside the network (an address or a zone).
public struct EndpointProfile: Sendable, Codable {
    public var firstSeen: Timestamp
    public var lastSeen: Timestamp
    public var conns = 0.0
    /// Up to eight devices exactly, then a HyperLogLog for "how many devices".
    @Packed var exact: [UInt64] = []
    var hll: HyperLogLog?
    /// Made for a connection that has not been counted yet (never saved: set and cleared
    /// within one connection).
    var isNew = false
    private enum CodingKeys: String, CodingKey { case firstSeen, lastSeen, conns, exact, hll }

    public init(at t: Timestamp, new: Bool = false) { firstSeen = t; lastSeen = t; isNew = new }

    public var deviceCount: Int {
        exact.count < 8 ? exact.count : max(8, Int((hll?.estimate ?? 8).rounded()))
    }

    public func hasSeen(device h: UInt64) -> Bool? { exact.count < 8 ? exact.contains(h) : nil }

    /// Returns true when this device had not been seen with the endpoint (exactly known only
    /// while fewer than eight devices used it).
    @discardableResult mutating func add(device h: UInt64) -> Bool {
        if exact.count < 8 {
            if exact.contains(h) { return false }
            exact.append(h)
            if exact.count == 8 { var x = HyperLogLog(p: 6); for e in exact { x.insert(hash: e) }; _ = x.refresh(); hll = x }
            return true
        }
        if hll?.insert(hash: h) == true { _ = hll?.refresh() }
        return false
    }
}

/// A short label for a device's role, from what it was seen doing.
public enum DeviceRole {
    public static func describe(_ p: DeviceProfile) -> String {
        let served = p.servedPorts.keys.map { UInt16(truncatingIfNeeded: $0) }.sorted()
        if !served.isEmpty, p.connsIn > p.connsOut {
            return "server (" + served.prefix(4).map(String.init).joined(separator: ", ") + ")"
        }
        return "client"
    }
}
