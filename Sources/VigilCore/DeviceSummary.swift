/// What the learner knows about one device, as the API and console show it: who it is, when
/// it was seen, what it does, and its learned normal for each hour of the week.
public struct DeviceSummary: Hashable, Sendable, Codable {
    public var address: String
    public var name: String?
    public var mac: String?
    /// The peer group found from behaviour (0 while none) and that group's description.
    public var group: Int
    public var role: String?
    public var firstSeen: Timestamp
    public var lastSeen: Timestamp
    public var servesOthers: Bool
    public var connectionsOut: Double
    public var connectionsIn: Double
    public var bytesOut: Double
    public var bytesIn: Double
    /// Bytes it usually sends and receives in each hour of the week (168 entries, Monday 00:00
    /// local first) and how many weeks each was learned from (capped: the learner forgets slowly); empty until the volume model has
    /// seen the device.
    public var usualSent: [Double]
    public var usualReceived: [Double]
    public var learnedWeeks: [Int]

    public init(address: String, name: String? = nil, mac: String? = nil, group: Int = 0, role: String? = nil,
                firstSeen: Timestamp, lastSeen: Timestamp, servesOthers: Bool = false,
                connectionsOut: Double = 0, connectionsIn: Double = 0, bytesOut: Double = 0, bytesIn: Double = 0,
                usualSent: [Double] = [], usualReceived: [Double] = [], learnedWeeks: [Int] = []) {
        self.address = address; self.name = name; self.mac = mac; self.group = group; self.role = role
        self.firstSeen = firstSeen; self.lastSeen = lastSeen; self.servesOthers = servesOthers
        self.connectionsOut = connectionsOut; self.connectionsIn = connectionsIn; self.bytesOut = bytesOut; self.bytesIn = bytesIn
        self.usualSent = usualSent; self.usualReceived = usualReceived; self.learnedWeeks = learnedWeeks
    }
}

/// One hour of a device's stored traffic: what it sent and received (as originator and as
/// responder) and how many connections.
public struct DeviceHour: Hashable, Sendable, Codable {
    public var hour: Timestamp
    public var sent: Double
    public var received: Double
    public var connections: Int
    public init(hour: Timestamp, sent: Double, received: Double, connections: Int) {
        self.hour = hour; self.sent = sent; self.received = received; self.connections = connections
    }
}

/// A device's learned normal and what it did hour by hour around an incident, for charts.
public struct DeviceActivity: Hashable, Sendable, Codable {
    public var device: DeviceSummary
    public var hours: [DeviceHour]
    /// The offset from UTC the hour-of-week normal was learned in.
    public var utcOffsetHours: Int
    public init(device: DeviceSummary, hours: [DeviceHour], utcOffsetHours: Int) {
        self.device = device; self.hours = hours; self.utcOffsetHours = utcOffsetHours
    }

    /// What the device usually sends in the hour starting at `t` (its hour of the week).
    public func usualSent(at t: Timestamp) -> Double? {
        let h = t.hourOfWeek(offsetHours: utcOffsetHours)
        return h < device.usualSent.count && (device.learnedWeeks.isEmpty || device.learnedWeeks[h] > 0) ? device.usualSent[h] : nil
    }
}

extension Timestamp {
    /// Hour of the week in local time, Monday 00:00 = 0 (1970-01-01 was a Thursday).
    public func hourOfWeek(offsetHours: Int) -> Int {
        let s = nanoseconds / 1_000_000_000
        let hour = (s >= 0 || s % 3600 == 0 ? s / 3600 : s / 3600 - 1) + Int64(offsetHours)
        return Int(((hour + 72) % 168 + 168) % 168)
    }
}

/// Byte counts for people.
public enum Bytes {
    public static func human(_ v: Double) -> String {
        let units = ["B", "KB", "MB", "GB", "TB"]
        var x = max(0, v), i = 0
        while x >= 1000, i < units.count - 1 { x /= 1000; i += 1 }
        return i == 0 ? "\(Int(x)) B" : String(format: x < 10 ? "%.1f %@" : "%.0f %@", x, units[i])
    }
}
