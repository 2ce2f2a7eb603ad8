/// A model breach: one deviation from learned normal, scored 0-100 and explained.
///
/// `reason` is the sentence an analyst reads; `facts` are the numbers behind it, by name,
/// so a report or the analyst can show them without parsing prose. `scope` says which flows
/// the breach is about, so an evaluation (or a responder) can find them again.
public struct Breach: Hashable, Sendable, Codable {
    public var id: String
    /// The model's name, e.g. "beacon".
    public var model: String
    /// The device the breach is about (an internal address, as text) and its name when known.
    public var device: String
    public var deviceName: String?
    /// When it was seen (observation time) and the span of the evidence.
    public var time: Timestamp
    public var first: Timestamp
    public var last: Timestamp
    /// 0-100, calibrated so that 50+ is rare by construction (see `VigilLearn.Calibrator`).
    public var score: Double
    /// -log2 of the probability of what was seen under what the model had learned.
    public var surprisal: Double
    public var reason: String
    /// External endpoints (IP or domain) and internal peers involved.
    public var endpoints: [String]
    public var peers: [String]
    /// ATT&CK technique ids this kind of breach suggests (e.g. "T1071").
    public var techniques: [String]
    public var facts: [String: Double]
    public var scope: BreachScope
    /// When the breach first scored 50 or more (it may have been reported lower, then grown).
    public var alertedAt: Timestamp?

    public init(id: String, model: String, device: String, deviceName: String? = nil, time: Timestamp,
                first: Timestamp, last: Timestamp, score: Double, surprisal: Double, reason: String,
                endpoints: [String] = [], peers: [String] = [], techniques: [String] = [],
                facts: [String: Double] = [:], scope: BreachScope = BreachScope(), alertedAt: Timestamp? = nil) {
        self.id = id; self.model = model; self.device = device; self.deviceName = deviceName; self.time = time
        self.first = first; self.last = last; self.score = score; self.surprisal = surprisal; self.reason = reason
        self.endpoints = endpoints; self.peers = peers; self.techniques = techniques; self.facts = facts
        self.scope = scope; self.alertedAt = alertedAt
    }
}

extension Breach {
    /// A breach reported again with more evidence keeps its id: the latest version of each
    /// stands, in the order the ids first appeared.
    public static func latestVersions(_ reports: [Breach]) -> [Breach] {
        var at: [String: Int] = [:], out: [Breach] = []
        for b in reports { if let i = at[b.id] { out[i] = b } else { at[b.id] = out.count; out.append(b) } }
        return out
    }
}

/// Which connections a breach covers: the device, optionally some peers (addresses), ports,
/// direction, and whether only failed attempts count, within `first...last` of the breach.
public struct BreachScope: Hashable, Sendable, Codable {
    public enum Direction: String, Hashable, Sendable, Codable { case outbound, inbound, any }
    public var direction: Direction
    /// Empty means "any peer".
    public var peers: [String]
    /// Empty means "any port" (the responder's port).
    public var ports: [UInt16]
    public var failedOnly: Bool
    /// DNS names under this zone (for DNS breaches).
    public var zone: String?

    public init(direction: Direction = .any, peers: [String] = [], ports: [UInt16] = [], failedOnly: Bool = false, zone: String? = nil) {
        self.direction = direction; self.peers = peers; self.ports = ports; self.failedOnly = failedOnly; self.zone = zone
    }
}
