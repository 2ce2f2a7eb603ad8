import VigilCore

/// What the analyst knows of one device from the learner: its name and whether it serves
/// others (servers weigh more in an incident's priority).
public struct DeviceInfo: Sendable, Hashable {
    public var name: String?
    public var isServer: Bool
    public init(name: String? = nil, isServer: Bool = false) { self.name = name; self.isServer = isServer }
}

/// Settings for the analyst. Defaults are what the evaluation was run with.
public struct AnalystConfiguration: Sendable {
    /// Address blocks that are "ours" (devices); others are external endpoints.
    public var localNetworks: [CIDR] = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7", "fe80::/10"].compactMap { CIDR($0) }
    /// Signals on one device this close in time are one story.
    public var deviceGap = Duration.seconds(4 * 3600)
    /// Signals naming the same subject endpoint this close in time are one story.
    public var endpointWindow = Duration.seconds(24 * 3600)
    /// After A reaches B (lateral movement, brute force, an alert between them), what B does
    /// within this long is followed as part of A's story...
    public var propagationWindow = Duration.seconds(24 * 3600)
    /// ...and from this long before (clock skew, a breach dated to its hour's start).
    public var propagationSlack = Duration.seconds(15 * 60)
    /// Signals scoring below this are background: they join a device's story as context but
    /// neither tie stories together by endpoint nor name the incident's endpoints and tactics.
    public var linkFloor = 30.0
    /// An incident is reported at this priority or above.
    public var reportThreshold = 50.0
    /// Evidence weight of models that judge behaviour against what it means (beacon, scan...)
    /// against those that only say "unusual for this device" (volume, outlier...).
    public var contextWeight = 0.6
    public init() {}
}

/// One piece of evidence the analyst works with: a model breach or an outside alert,
/// reduced to the entities, time, strength and meaning that grouping and scoring need.
public struct Signal: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable { case breach, alert }
    public var kind: Kind
    public var id: String
    /// The model's name, or the alert's source.
    public var source: String
    /// What counts as one independent witness: a model, or one outside tool's rule.
    public var witness: String
    /// Internal devices the signal is about (addresses as text, or EDR host names).
    public var devices: [String]
    /// External endpoints that are the subject of the signal (a beacon's destination,
    /// an alert's outside address): shared ones tie signals together.
    public var endpoints: [String]
    /// Internal peers the device reached: what the peers do next belongs to this story.
    public var peers: [String]
    public var users: [String]
    public var first: Timestamp
    public var last: Timestamp
    /// As reported, 0-100.
    public var score: Double
    /// How much this signal counts as evidence, 0-1 (score × the witness's weight).
    public var strength: Double
    /// Whether this signal alone can open an incident (a behaviour with a meaning) or only
    /// adds weight to one (unusual for the device, a probe that went unanswered).
    public var decisive: Bool
    public var techniques: [String]
    public var text: String
    public var deviceName: String?

    /// The tactics of the signal's techniques, in kill-chain order.
    public var tactics: [String] {
        var seen: [String] = []
        for t in techniques { if let a = Attack.tactic(of: t), !seen.contains(a) { seen.append(a) } }
        return seen.sorted { Attack.order(of: $0) < Attack.order(of: $1) }
    }
}

extension Signal {
    /// Models whose breach says what is happening (a beacon, a scan, a tunnel), not only that
    /// a device is unlike itself.
    static let behaviourModels: Set<String> = ["beacon", "scan", "web-probe", "brute-force", "lateral-movement", "exfiltration", "dns-tunnel", "dga"]
    /// Models whose endpoints are the subject of the breach (not a list of top destinations).
    static let subjectEndpointModels: Set<String> = ["beacon", "rare-endpoint", "exfiltration", "dns-tunnel"]
    /// Models whose peers were reached by the device (the next hop of an intrusion).
    static let propagatingModels: Set<String> = ["lateral-movement", "brute-force", "new-service"]

    public init(breach b: Breach, _ c: AnalystConfiguration) {
        let behaviour = Self.behaviourModels.contains(b.model)
        let weight = behaviour ? 1.0 : c.contextWeight
        self.init(kind: .breach, id: b.id, source: b.model, witness: b.model, devices: [b.device],
                  endpoints: Self.subjectEndpointModels.contains(b.model) ? b.endpoints : [],
                  peers: Self.propagatingModels.contains(b.model) ? b.peers.filter { !$0.isEmpty } : [],
                  users: [], first: b.first, last: max(b.last, b.first), score: b.score,
                  strength: weight * b.score / 100, decisive: behaviour, techniques: b.techniques,
                  text: b.reason, deviceName: b.deviceName)
    }

    public init(alert a: Alert, _ c: AnalystConfiguration, directory: [String: DeviceInfo] = [:]) {
        func isLocal(_ ip: IPAddress) -> Bool { c.localNetworks.contains { $0.contains(ip) } }
        var devices: [String] = []
        var endpoints: [String] = []
        var peers: [String] = []
        switch (a.sourceAddress, a.destinationAddress) {
        case let (s?, d?):
            switch (isLocal(s), isLocal(d)) {
            case (true, true): devices = [s.description]; peers = [d.description]
            case (true, false): devices = [s.description]; endpoints = [d.description]
            case (false, true): devices = [d.description]; endpoints = [s.description]
            case (false, false): endpoints = [s.description, d.description]
            }
        case let (s?, nil): if isLocal(s) { devices = [s.description] } else { endpoints = [s.description] }
        case let (nil, d?): if isLocal(d) { devices = [d.description] } else { endpoints = [d.description] }
        case (nil, nil): break
        }
        // EDR alerts name hosts; match them to the learner's device names where one fits.
        for h in a.hosts {
            if let ip = IPAddress(h) {
                if isLocal(ip) { if !devices.contains(ip.description) { devices.append(ip.description) } }
                else if !endpoints.contains(ip.description) { endpoints.append(ip.description) }
            } else if let known = Self.device(named: h, in: directory) {
                if !devices.contains(known) { devices.append(known) }
            } else if !devices.contains(h.lowercased()) {
                devices.append(h.lowercased())
            }
        }
        endpoints += a.domains.map { $0.lowercased() }.filter { !endpoints.contains($0) }
        var techniques = a.techniques
        if techniques.isEmpty, let t = Attack.technique(forCategory: (a.category ?? "") + " " + a.title) { techniques = [t] }
        // An unanswered probe from outside counts for less: most are Internet background.
        let strength = a.severity / 100 * (a.unanswered ? 0.5 : 1)
        // One witness per tool and kind of finding: forty reputation-list signatures from one
        // ruleset are one opinion, not forty.
        self.init(kind: .alert, id: a.id, source: a.source, witness: "\(Self.sourceName(a.source)): \(a.category ?? a.title)", devices: devices,
                  endpoints: endpoints, peers: peers, users: a.users, first: a.time, last: a.time,
                  score: a.severity, strength: strength, decisive: !a.unanswered && a.severity >= 50,
                  techniques: techniques, text: "\(Self.sourceName(a.source)) alert: \(a.title)", deviceName: nil)
    }

    /// A host name from an EDR matched to a device the learner named ("WS-014.corp.local"
    /// matches "ws-014").
    static func device(named host: String, in directory: [String: DeviceInfo]) -> String? {
        let short = host.lowercased().split(separator: ".").first.map(String.init) ?? host.lowercased()
        guard !short.isEmpty else { return nil }
        return directory.lazy.filter { _, info in
            guard let n = info.name?.lowercased() else { return false }
            return n == host.lowercased() || (n.split(separator: ".").first.map(String.init) ?? n) == short
        }.map(\.key).sorted().first
    }

    static func sourceName(_ s: String) -> String {
        switch s {
        case "suricata": "Suricata"
        case "zeek-notice": "Zeek notice"
        case "crowdstrike": "CrowdStrike"
        case "defender": "Microsoft Defender"
        case "sentinelone": "SentinelOne"
        case "ocsf": "OCSF finding"
        case "sigma": "Sigma rule"
        default: s
        }
    }
}
