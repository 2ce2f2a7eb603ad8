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

    public init(at t: Timestamp) { firstSeen = t; lastSeen = t }

    /// Age in observation time.
    public func age(at t: Timestamp) -> Duration { t - firstSeen }
}

/// What the learner keeps about each endpoint outside the network (an address or a zone).
public struct EndpointProfile: Sendable, Codable {
    public var firstSeen: Timestamp
    public var lastSeen: Timestamp
    public var conns = 0.0
    /// Up to eight devices exactly, then a HyperLogLog for "how many devices".
    var exact: [UInt64] = []
    var hll: HyperLogLog?

    public init(at t: Timestamp) { firstSeen = t; lastSeen = t }

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
