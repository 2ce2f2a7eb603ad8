import Foundation

/// The JSON report `vigil analyze` writes. The fields `../shared/DESIGN.md` fixes are
/// `incidents[]` {id, title, score, start, end, devices, endpoints, techniques, summary, breaches}
/// and `breaches[]` {id, model, device, time, score, reason}; the rest is extra. An incident's
/// `score` is the analyst's priority. Encode it with `userInfo[Timestamp.asText] = true`
/// (`AnalysisReport.encoder()`) so times are ISO-8601 text, as the contract says.
public struct AnalysisReport: Sendable, Codable {
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
    public var breaches: [Breach]
    /// Breach scores are given to a tenth and surprisals to a hundredth: more is noise.
    public init(generator: String, summary: Summary, incidents: [Incident], breaches: [Breach]) {
        self.generator = generator; self.summary = summary; self.incidents = incidents
        self.breaches = breaches.map { b in
            var b = b
            b.score = (b.score * 10).rounded() / 10
            b.surprisal = (b.surprisal * 100).rounded() / 100
            return b
        }
    }

    /// The encoder reports are written with: sorted keys, times as ISO-8601 text; one line
    /// when not `pretty` (API answers, live events).
    public static func encoder(pretty: Bool = true) -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        e.userInfo[Timestamp.asText] = true
        return e
    }
}
