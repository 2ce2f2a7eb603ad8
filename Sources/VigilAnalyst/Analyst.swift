import VigilCore

/// What the analyst produced from one batch of breaches and alerts.
public struct AnalystResult: Sendable {
    /// Reported incidents, highest priority first.
    public var incidents: [Incident]
    /// Breaches and alerts considered.
    public var signals: Int
    /// Groups formed; those below the report threshold are kept out of the incident list.
    public var groups: Int
}

/// The level-2 analyst: takes every breach and outside alert, works out which belong to one
/// story, weighs each story (severity, how many independent witnesses agree, how far along the
/// kill chain it got, how important the devices are), asks the stored observations the
/// follow-up questions, and writes the incident up. Pure: the store is reached only through
/// `EvidenceQuery`; the wording comes from deterministic templates.
public struct Analyst: Sendable {
    public let configuration: AnalystConfiguration
    /// The learner's view of devices (names, servers), by address.
    public let directory: [String: DeviceInfo]

    public init(configuration: AnalystConfiguration = AnalystConfiguration(), directory: [String: DeviceInfo] = [:]) {
        self.configuration = configuration
        self.directory = directory
    }

    public func signals(breaches: [Breach], alerts: [Alert]) -> [Signal] {
        breaches.map { Signal(breach: $0, configuration) } + alerts.map { Signal(alert: $0, configuration, directory: directory) }
    }

    public func investigate(breaches: [Breach], alerts: [Alert] = [], query: (any EvidenceQuery)? = nil) -> AnalystResult {
        let signals = signals(breaches: breaches, alerts: alerts)
        let groups = IncidentGrouping.groups(signals, configuration)
        var incidents: [Incident] = []
        for g in groups {
            var facts = GroupFacts(g.map { signals[$0] }, configuration)
            let weight = facts.weigh(configuration, directory)
            guard weight.reported else { continue }
            var steps: [InvestigationStep] = []
            if let query {
                let found = Investigator(query: query, configuration: configuration).investigate(facts)
                steps = found.steps
                facts.devices += found.moreDevices.filter { !facts.devices.contains($0) }
            }
            incidents.append(Narrative.write(facts, weight, steps, directory))
        }
        incidents.sort { $0.priority != $1.priority ? $0.priority > $1.priority : $0.start != $1.start ? $0.start < $1.start : $0.id < $1.id }
        return AnalystResult(incidents: incidents, signals: signals.count, groups: groups.count)
    }
}

/// One group's signals and what they add up to.
struct GroupFacts {
    var signals: [Signal]
    var start: Timestamp
    var end: Timestamp
    /// In order of first appearance: the first is where it began.
    var devices: [String]
    var devicesWithSignals: Set<String>
    var subjectEndpoints: [String]
    var reachedPeers: [String]
    var models: Set<String>
    var techniques: [String]
    var tactics: [String]
    var users: [String]

    init(_ signals: [Signal], _ c: AnalystConfiguration) {
        self.signals = signals
        start = signals.map(\.first).min() ?? .zero
        end = signals.map(\.last).max() ?? .zero
        var devices: [String] = [], endpoints: [String] = [], peers: [String] = [], techniques: [String] = [], users: [String] = []
        // What the incident is about comes from its substantive signals, strongest first;
        // background ones (below the link floor, or context below 50) only add to the timeline.
        let substantive = signals.filter { $0.score >= c.linkFloor }
        for s in (substantive.isEmpty ? signals : substantive).sorted(by: { $0.strength != $1.strength ? $0.strength > $1.strength : $0.first < $1.first }) {
            for e in s.endpoints where !endpoints.contains(e) { endpoints.append(e) }
        }
        for s in signals {
            for d in s.devices where !devices.contains(d) { devices.append(d) }
            for p in s.peers where !peers.contains(p) { peers.append(p) }
            for u in s.users where !users.contains(u) { users.append(u) }
            if s.decisive || s.score >= 50 { for t in s.techniques where !techniques.contains(t) { techniques.append(t) } }
        }
        devicesWithSignals = Set(devices)
        // Devices reached by the first ones that also had signals of their own are part of
        // the story; those merely reached are listed as peers.
        for p in peers where devicesWithSignals.contains(p) && !devices.contains(p) { devices.append(p) }
        self.devices = devices
        subjectEndpoints = endpoints
        reachedPeers = peers
        models = Set(signals.map(\.source))
        self.techniques = techniques.sorted { (Attack.order(of: Attack.tactic(of: $0) ?? ""), $0) < (Attack.order(of: Attack.tactic(of: $1) ?? ""), $1) }
        var tactics: [String] = []
        for t in self.techniques { if let a = Attack.tactic(of: t), !tactics.contains(a) { tactics.append(a) } }
        self.tactics = tactics
        self.users = users
    }

    struct Weight {
        var priority: Double
        var severity: Double
        var confidence: Double
        var witnesses: [(name: String, strength: Double)]
        var reported: Bool
        var servers: [String]
    }

    /// Priority from severity, independent agreement, kill-chain progression and importance.
    func weigh(_ c: AnalystConfiguration, _ directory: [String: DeviceInfo]) -> Weight {
        var strongest: [String: Double] = [:]
        for s in signals { strongest[s.witness] = max(strongest[s.witness] ?? 0, min(0.99, s.strength)) }
        let witnesses = strongest.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map { (name: $0.key, strength: $0.value) }
        // Independent witnesses combine like independent detectors: the chance all are wrong.
        let confidence = 1 - witnesses.reduce(1.0) { $0 * (1 - $1.strength) }
        let severity = signals.map(\.score).max() ?? 0
        let progression = Double(min(3, max(0, tactics.count - 1))) * 5
        let servers = devices.filter { directory[$0]?.isServer == true }
        let importance = servers.isEmpty ? 0.0 : 5.0
        let priority = (min(100, 100 * confidence + progression + importance) * 10).rounded() / 10
        let decisive = signals.contains { $0.decisive }
        let corroborated = witnesses.filter { $0.strength >= 0.3 }.count >= 2
        return Weight(priority: priority, severity: severity, confidence: confidence, witnesses: witnesses,
                      reported: priority >= c.reportThreshold && (decisive || corroborated), servers: servers)
    }
}
