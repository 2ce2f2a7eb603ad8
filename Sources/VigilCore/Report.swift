/// The JSON report `vigil analyze` writes. The fields `../shared/DESIGN.md` fixes are
/// `incidents[]` {id, title, score, start, end, devices, endpoints, techniques, summary, breaches}
/// and `breaches[]` {id, model, device, time, score, reason}; the rest is extra.
public struct AnalysisReport: Sendable, Codable {
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
        public init(id: String, title: String, score: Double, start: String, end: String, devices: [String],
                    endpoints: [String], techniques: [String], summary: String, breaches: [String]) {
            self.id = id; self.title = title; self.score = score; self.start = start; self.end = end
            self.devices = devices; self.endpoints = endpoints; self.techniques = techniques
            self.summary = summary; self.breaches = breaches
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
        public init(observations: Int, devices: Int, deviceDays: Double, first: String?, last: String?,
                    breachesAtOrAbove50: Int, modelTests: [String: Int], peerGroups: [PeerGroup] = []) {
            self.observations = observations; self.devices = devices; self.deviceDays = deviceDays
            self.first = first; self.last = last; self.breachesAtOrAbove50 = breachesAtOrAbove50; self.modelTests = modelTests
            self.peerGroups = peerGroups
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
