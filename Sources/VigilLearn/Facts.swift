import VigilCore

/// What the learner knows about one connection before any model looks at it: which side is
/// the network's own device, which way it went, whether it failed, and the peer's name.
///
/// It holds only what the models read, not the whole record: copying it (into a closure, a
/// model's pending state) then retains one array rather than every string of the record.
public struct ConnFacts: Sendable {
    public let ts: Timestamp
    public let id: ConnectionID
    /// Protocols recognised on it (Zeek's `service`).
    public let service: [String]
    public let duration: Duration?
    /// Payload bytes each way (0 when the record did not say).
    public let origBytes: UInt64
    public let respBytes: UInt64
    /// The device the connection belongs to: the local originator, else the local responder.
    public let device: IPAddress
    public let peer: IPAddress
    /// The device started it (it may still be internal).
    public let deviceIsOrig: Bool
    /// Both ends are local.
    public let isInternal: Bool
    /// The other end is local too and the device is the responder.
    public let peerIsLocal: Bool
    /// No answer, refused, or reset before any data.
    public let failed: Bool
    public let sentBytes: Double
    public let receivedBytes: Double
    /// A name for the peer from DNS answers, SNI or HTTP Host seen on this network.
    public let peerName: String?
    /// Local hour of week, 0 = Monday 00:00.
    public let hourOfWeek: Int
    /// For connections the device started: what the network knew of the endpoint before.
    public internal(set) var endpoint: EndpointFacts?

    public var respPort: UInt16 { id.respPort }
    public var proto: IPProtocol { id.proto }
    /// The peer as an endpoint key: its zone when named, else its address.
    public let peerKey: String
    /// `Stats.hash(peerKey)`, computed once.
    public let peerKeyHash: UInt64

    init(record r: ConnRecord, device: IPAddress, peer: IPAddress, deviceIsOrig: Bool, isInternal: Bool,
         peerName: String?, peerZone: String?, utcOffsetHours: Int) {
        ts = r.ts; id = r.id; service = r.service; duration = r.duration
        origBytes = r.origBytes ?? 0; respBytes = r.respBytes ?? 0
        self.device = device; self.peer = peer; self.deviceIsOrig = deviceIsOrig
        self.isInternal = isInternal; self.peerIsLocal = isInternal
        let state = r.connState ?? ""
        let data = origBytes + respBytes
        switch state {
        case "S0", "REJ", "RSTOS0", "RSTRH", "SH", "SHR": failed = true
        case "OTH": failed = data == 0 && (r.id.proto == .tcp || (r.id.proto == .icmp && (r.respPackets ?? 0) == 0))
        default: failed = r.id.proto == .tcp && data == 0 && (state == "RSTO" || state == "RSTR")
        }
        let ob = Double(origBytes), rb = Double(respBytes)
        sentBytes = deviceIsOrig ? ob : rb
        receivedBytes = deviceIsOrig ? rb : ob
        self.peerName = peerName
        peerKey = peerZone ?? peer.description
        peerKeyHash = Stats.hash(peerKey)
        hourOfWeek = LearnClock.hourOfWeek(r.ts, offsetHours: utcOffsetHours)
    }
}

public enum LearnClock {
    /// Hour of week in local time, Monday 00:00 = 0 (1970-01-01 was a Thursday).
    public static func hourOfWeek(_ t: Timestamp, offsetHours: Int) -> Int { t.hourOfWeek(offsetHours: offsetHours) }
    public static func hourIndex(_ t: Timestamp) -> Int64 { (t.nanoseconds / 1_000_000_000).quotientFloor(3600) }
    public static func dayIndex(_ t: Timestamp, offsetHours: Int) -> Int64 {
        (t.nanoseconds / 1_000_000_000 + Int64(offsetHours) * 3600).quotientFloor(86_400)
    }
    public static func isWeekend(hourOfWeek h: Int) -> Bool { h >= 120 }
}

extension Int64 {
    func quotientFloor(_ d: Int64) -> Int64 {
        let q = self / d
        return (self % d != 0 && (self < 0) != (d < 0)) ? q - 1 : q
    }
}
