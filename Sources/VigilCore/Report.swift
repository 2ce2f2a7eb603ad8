/// The JSON report `vigil analyze` writes. The fields `../shared/DESIGN.md` fixes are
/// `incidents[]` {id, title, score, start, end, devices, endpoints, techniques, summary, breaches}
/// and `breaches[]` {id, model, device, time, score, reason}; the rest is extra. An incident's
/// `score` is the analyst's priority.
public struct AnalysisReport: Sendable, Codable {
    /// An incident in the report: the contract's fields, then the analyst's write-up.
    public struct Incident: Sendable, Codable, Hashable {
        public var id: String
        public var title: String
        public var score: Double
        public var start: String
        public var end: String
        public var devices: [String]
        public var endpoints: [String]
        public var techniques: [String]
        public var summary: String
        public var breaches: [String]
        public var alerts: [String]
        public var severity: Double
        public var confidence: Double
        public var tactics: [String]
        public var deviceNames: [String: String]
        public var users: [String]
        public var narrative: [String]
        public var conclusion: String
        public var steps: [InvestigationStep]
        public var timeline: [Entry]

        /// A timeline entry with its time as ISO-8601 text.
        public struct Entry: Sendable, Codable, Hashable {
            public var time: String
            public var kind: String
            public var ref: String
            public var source: String
            public var device: String
            public var score: Double
            public var tactic: String?
            public var text: String
        }

        public init(_ i: VigilCore.Incident) {
            id = i.id; title = i.title; score = i.priority; start = i.start.iso8601; end = i.end.iso8601
            devices = i.devices; endpoints = i.endpoints; techniques = i.techniques; summary = i.summary
            breaches = i.breaches; alerts = i.alerts; severity = i.severity; confidence = i.confidence
            tactics = i.tactics; deviceNames = i.deviceNames; users = i.users; narrative = i.narrative
            conclusion = i.conclusion; steps = i.steps
            timeline = i.timeline.map { Entry(time: $0.time.iso8601, kind: $0.kind.rawValue, ref: $0.ref, source: $0.source,
                                              device: $0.device, score: $0.score, tactic: $0.tactic, text: $0.text) }
        }
    }
    public struct BreachEntry: Sendable, Codable, Hashable {
        public var id: String
        public var model: String
        public var device: String
        public var deviceName: String?
        public var time: String
        public var first: String
        public var last: String
        public var score: Double
        public var surprisal: Double
        public var reason: String
        public var endpoints: [String]
        public var peers: [String]
        public var techniques: [String]
        public var facts: [String: Double]
        public var scope: BreachScope
        public var alertedAt: String?

        public init(_ b: Breach) {
            id = b.id; model = b.model; device = b.device; deviceName = b.deviceName
            time = b.time.iso8601; first = b.first.iso8601; last = b.last.iso8601
            score = (b.score * 10).rounded() / 10; surprisal = (b.surprisal * 100).rounded() / 100
            reason = b.reason; endpoints = b.endpoints; peers = b.peers; techniques = b.techniques
            facts = b.facts; scope = b.scope; alertedAt = b.alertedAt?.iso8601
        }
    }
    /// A peer group the learner found: its size, a role description and a few members.
    public struct PeerGroup: Sendable, Codable, Hashable {
        public var id: Int
        public var size: Int
        public var role: String
        public var examples: [String]
        public init(id: Int, size: Int, role: String, examples: [String]) {
            self.id = id; self.size = size; self.role = role; self.examples = examples
        }
    }
    public struct Summary: Sendable, Codable {
        public var observations: Int
        public var devices: Int
        public var deviceDays: Double
        public var first: String?
        public var last: String?
        public var breachesAtOrAbove50: Int
        public var modelTests: [String: Int]
        public var peerGroups: [PeerGroup]
        /// Outside alerts read, signals the analyst weighed (breaches + alerts), the groups it
        /// formed, and incidents reported.
        public var alerts: Int
        public var signals: Int
        public var groups: Int
        public var incidents: Int
        public init(observations: Int, devices: Int, deviceDays: Double, first: String?, last: String?,
                    breachesAtOrAbove50: Int, modelTests: [String: Int], peerGroups: [PeerGroup] = [],
                    alerts: Int = 0, signals: Int = 0, groups: Int = 0, incidents: Int = 0) {
            self.observations = observations; self.devices = devices; self.deviceDays = deviceDays
            self.first = first; self.last = last; self.breachesAtOrAbove50 = breachesAtOrAbove50; self.modelTests = modelTests
            self.peerGroups = peerGroups; self.alerts = alerts; self.signals = signals; self.groups = groups; self.incidents = incidents
        }
    }
    public var generator: String
    public var summary: Summary
    public var incidents: [Incident]
    public var breaches: [BreachEntry]
    public init(generator: String, summary: Summary, incidents: [Incident], breaches: [BreachEntry]) {
        self.generator = generator; self.summary = summary; self.incidents = incidents; self.breaches = breaches
    }
}
