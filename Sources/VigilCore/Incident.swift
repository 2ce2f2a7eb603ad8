/// An incident: breaches and outside alerts the analyst found to be one story, investigated,
/// mapped to ATT&CK, ranked and written up.
public struct Incident: Hashable, Sendable, Codable {
    /// Stable across runs and merges: derived from the earliest signal in the incident.
    public var id: String
    public var title: String
    /// 0-100: how urgently a person should look (severity, confidence, progression, importance).
    public var priority: Double
    /// The strongest single signal, 0-100.
    public var severity: Double
    /// 0-1: how much independent evidence agrees (distinct models and outside tools).
    public var confidence: Double
    public var start: Timestamp
    public var end: Timestamp
    /// Internal devices (addresses as text) and their names where known.
    public var devices: [String]
    public var deviceNames: [String: String]
    /// External endpoints: addresses or domains.
    public var endpoints: [String]
    public var users: [String]
    /// ATT&CK technique ids and tactic names (kill-chain order).
    public var techniques: [String]
    public var tactics: [String]
    /// One paragraph; then the narrative, a paragraph per entry.
    public var summary: String
    public var narrative: [String]
    public var breaches: [String]
    public var alerts: [String]
    public var timeline: [TimelineEntry]
    public var steps: [InvestigationStep]
    /// Why the conclusion follows, in one or two sentences.
    public var conclusion: String
    /// The narrative reworded by a local language model, kept only when it carries exactly the
    /// facts of `narrative` (which stays the record).
    public var rephrasing: Rephrasing?

    /// `priority` is written as `score`, the name DESIGN.md's report contract gives it.
    enum CodingKeys: String, CodingKey {
        case id, title, priority = "score", severity, confidence, start, end, devices, deviceNames, endpoints, users
        case techniques, tactics, summary, narrative, breaches, alerts, timeline, steps, conclusion, rephrasing
    }

    public init(id: String, title: String, priority: Double, severity: Double, confidence: Double,
                start: Timestamp, end: Timestamp, devices: [String], deviceNames: [String: String] = [:],
                endpoints: [String], users: [String] = [], techniques: [String], tactics: [String],
                summary: String, narrative: [String] = [], breaches: [String], alerts: [String] = [],
                timeline: [TimelineEntry] = [], steps: [InvestigationStep] = [], conclusion: String = "") {
        self.id = id; self.title = title; self.priority = priority; self.severity = severity
        self.confidence = confidence; self.start = start; self.end = end; self.devices = devices
        self.deviceNames = deviceNames; self.endpoints = endpoints; self.users = users
        self.techniques = techniques; self.tactics = tactics; self.summary = summary
        self.narrative = narrative; self.breaches = breaches; self.alerts = alerts
        self.timeline = timeline; self.steps = steps; self.conclusion = conclusion
    }
}

/// One dated line of an incident's timeline: a breach or an alert, with its tactic.
public struct TimelineEntry: Hashable, Sendable, Codable {
    public enum Kind: String, Hashable, Sendable, Codable { case breach, alert }
    public var time: Timestamp
    public var kind: Kind
    /// The breach or alert id.
    public var ref: String
    /// The model's name or the alert's source.
    public var source: String
    public var device: String
    public var score: Double
    public var tactic: String?
    public var text: String

    public init(time: Timestamp, kind: Kind, ref: String, source: String, device: String, score: Double,
                tactic: String?, text: String) {
        self.time = time; self.kind = kind; self.ref = ref; self.source = source; self.device = device
        self.score = score; self.tactic = tactic; self.text = text
    }
}

/// One question the analyst asked of the stored observations, and what it found.
public struct InvestigationStep: Hashable, Sendable, Codable {
    public var question: String
    public var finding: String
    /// The numbers behind the finding, by name.
    public var facts: [String: Double]

    public init(question: String, finding: String, facts: [String: Double] = [:]) {
        self.question = question; self.finding = finding; self.facts = facts
    }
}

/// A rewording of an incident's narrative for people, and who wrote it.
public struct Rephrasing: Hashable, Sendable, Codable {
    public var model: String
    public var narrative: [String]
    public init(model: String, narrative: [String]) { self.model = model; self.narrative = narrative }
}
