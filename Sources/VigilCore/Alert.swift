/// An alert raised by another tool (Suricata, Zeek's notice framework, an EDR, a SIEM rule),
/// read beside Vigil's own breaches so the analyst can chain both into one incident.
///
/// The fields the analyst reasons on are typed; everything else in the source record is kept
/// verbatim in `raw` so nothing the other tool said is lost.
public struct Alert: Hashable, Sendable, Codable {
    /// Stable id: the source's own id when it has one, otherwise file and line.
    public var id: String
    /// Which tool raised it: "suricata", "zeek-notice", "crowdstrike", "defender",
    /// "sentinelone", "ocsf", "sigma".
    public var source: String
    public var time: Timestamp
    /// The signature, notice or detection name.
    public var title: String
    public var category: String?
    /// 0-100, mapped from the source's own severity scale (see each reader).
    public var severity: Double
    /// Network ends, when the alert is about traffic.
    public var sourceAddress: IPAddress?
    public var sourcePort: UInt16?
    public var destinationAddress: IPAddress?
    public var destinationPort: UInt16?
    public var transport: String?
    /// Host names or addresses of the machines the alert is about (EDR alerts name hosts).
    public var hosts: [String]
    public var users: [String]
    /// Domains or URLs' hosts the alert names.
    public var domains: [String]
    /// ATT&CK technique ids the source gave or its category implies.
    public var techniques: [String]
    /// True when the traffic behind a network alert was never answered (a probe that went
    /// nowhere), as Suricata's flow counters show; the analyst weighs such alerts lower.
    public var unanswered: Bool
    /// The source record as read (one JSON object or one log row).
    public var raw: String

    public init(id: String, source: String, time: Timestamp, title: String, category: String? = nil,
                severity: Double, sourceAddress: IPAddress? = nil, sourcePort: UInt16? = nil,
                destinationAddress: IPAddress? = nil, destinationPort: UInt16? = nil, transport: String? = nil,
                hosts: [String] = [], users: [String] = [], domains: [String] = [], techniques: [String] = [],
                unanswered: Bool = false, raw: String = "") {
        self.id = id; self.source = source; self.time = time; self.title = title; self.category = category
        self.severity = severity; self.sourceAddress = sourceAddress; self.sourcePort = sourcePort
        self.destinationAddress = destinationAddress; self.destinationPort = destinationPort
        self.transport = transport; self.hosts = hosts; self.users = users; self.domains = domains
        self.techniques = techniques; self.unanswered = unanswered; self.raw = raw
    }
}
