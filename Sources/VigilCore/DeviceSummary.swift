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
