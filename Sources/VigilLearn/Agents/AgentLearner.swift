import Foundation
import VigilCore

/// The pattern of life of AI agents, learned from the tool calls the MCP gateway audits. An
/// agent is an entity like a device ("agent:NAME"); each model asks one question of every call
/// (is this tool, this order of tools, this shape of arguments, this hour, this rate new for
/// this agent?) and reports a breach when the answer is rare given all the agent has done.
public final class AgentLearner {
    public struct Configuration: Sendable {
        /// No breach before an agent has been seen this long.
        public var baseline = Duration.seconds(3 * 86_400)
        /// Nor before a question has this many answers for the agent.
        public var minimumCalls = 30
        /// Bounded state: agents kept, and distinct answers kept per question.
        public var maxAgents = 10_000
        public var maxValues = 256
        public var utcOffsetHours = 0
        public init() {}
    }

    /// What one agent has done.
    final class Agent {
        let first: Timestamp
        var last: Timestamp
        var previousTool: String?
        var seen: [String: Novelty] = [:]
        var hourCount = 0
        var hourIndex: Int64 = -1
        var hourlyMean = 0.0
        var hoursObserved = 0
        var reportedHour: Int64 = -1
        init(first: Timestamp) { self.first = first; last = first }
    }

    /// The answers to one question so far: how often asked, and which answers.
    struct Novelty {
        var asked = 0
        var answers: Set<String> = []
    }

    public let configuration: Configuration
    private var agents: [String: Agent] = [:]
    /// Which agents use each tool (for "new to this agent, but others use it").
    private var toolUsers: [String: Set<String>] = [:]
    private var breaches: [Breach] = []
    private let models: [any AgentModel]

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        models = AgentModelRegistry.all
    }

    public func observe(_ call: ToolCall) {
        guard call.decision == "allow" || call.decision == "deny" || call.decision == "hold" else { return }
        let agent: Agent
        if let a = agents[call.agent] { agent = a } else {
            guard agents.count < configuration.maxAgents else { return }
            agent = Agent(first: call.time)
            agents[call.agent] = agent
        }
        let learning = call.time < agent.first + configuration.baseline
        var context = AgentContext(call: call, agent: agent, learning: learning, configuration: configuration,
                                   otherUsers: toolUsers[call.tool]?.subtracting([call.agent]).count ?? 0)
        for model in models { model.observe(&context) }
        breaches += context.breaches
        agent.previousTool = call.tool
        agent.last = call.time
        if learnedUpTo.map({ call.time > $0 }) ?? true { learnedUpTo = call.time }
        if toolUsers[call.tool, default: []].count < 1000 { toolUsers[call.tool, default: []].insert(call.agent) }
    }

    public func drainBreaches() -> [Breach] {
        defer { breaches = [] }
        return breaches
    }

    public var agentCount: Int { agents.count }

    /// The time of the latest call learned (nil before any): a run that continues from a saved
    /// baseline skips what is not later, so an audit log read again is not learned twice.
    public private(set) var learnedUpTo: Timestamp?

    /// Everything learned, as JSON, for the store (`restore` reads it back).
    public func snapshot() throws -> Data {
        let s = Snapshot(version: Snapshot.currentVersion, learnedUpTo: learnedUpTo,
                         agents: agents.mapValues { a in
                             Snapshot.AgentState(first: a.first, last: a.last, previousTool: a.previousTool,
                                                 seen: a.seen.mapValues { Snapshot.Question(asked: $0.asked, answers: $0.answers.sorted()) },
                                                 hourCount: a.hourCount, hourIndex: a.hourIndex, hourlyMean: a.hourlyMean,
                                                 hoursObserved: a.hoursObserved, reportedHour: a.reportedHour)
                         },
                         toolUsers: toolUsers.mapValues { $0.sorted() })
        let e = JSONEncoder()
        e.outputFormatting = .sortedKeys
        return try e.encode(s)
    }

    /// Continues from a `snapshot`; a snapshot of another version is refused, not half read.
    public func restore(_ data: Data) throws {
        let s = try JSONDecoder().decode(Snapshot.self, from: data)
        guard s.version == Snapshot.currentVersion else {
            throw VigilError.badInput("the saved agent baseline is version \(s.version); this build reads \(Snapshot.currentVersion)")
        }
        agents = s.agents.mapValues { st in
            let a = Agent(first: st.first)
            a.last = st.last; a.previousTool = st.previousTool
            a.seen = st.seen.mapValues { Novelty(asked: $0.asked, answers: Set($0.answers)) }
            a.hourCount = st.hourCount; a.hourIndex = st.hourIndex; a.hourlyMean = st.hourlyMean
            a.hoursObserved = st.hoursObserved; a.reportedHour = st.reportedHour
            return a
        }
        toolUsers = s.toolUsers.mapValues(Set.init)
        learnedUpTo = s.learnedUpTo
    }

    struct Snapshot: Codable {
        static let currentVersion = 1
        var version: Int
        var learnedUpTo: Timestamp?
        var agents: [String: AgentState]
        var toolUsers: [String: [String]]
        struct AgentState: Codable {
            var first, last: Timestamp
            var previousTool: String?
            var seen: [String: Question]
            var hourCount: Int
            var hourIndex: Int64
            var hourlyMean: Double
            var hoursObserved: Int
            var reportedHour: Int64
        }
        struct Question: Codable { var asked: Int; var answers: [String] }
    }
}

/// What a model sees of one call, and where it leaves its breaches.
public struct AgentContext {
    public let call: ToolCall
    let agent: AgentLearner.Agent
    public let learning: Bool
    public let configuration: AgentLearner.Configuration
    /// How many other agents have called this tool.
    public let otherUsers: Int
    var breaches: [Breach] = []

    init(call: ToolCall, agent: AgentLearner.Agent, learning: Bool, configuration: AgentLearner.Configuration, otherUsers: Int) {
        self.call = call; self.agent = agent; self.learning = learning; self.configuration = configuration; self.otherUsers = otherUsers
    }

    public var previousTool: String? { agent.previousTool }
    public var hourOfDay: Int {
        let s = call.time.nanoseconds / 1_000_000_000 + Int64(configuration.utcOffsetHours * 3600)
        return Int(((s % 86_400) + 86_400) % 86_400 / 3600)
    }

    /// Asks `question` of this agent with `answer`; when the answer is new and past the
    /// baseline, returns how rare a new answer was: the Laplace estimate of meeting a new answer,
    /// (distinct + 1) / (asked + 2), its surprisal in bits, and the counts.
    public mutating func novelty(_ question: String, _ answer: String) -> (p: Double, bits: Double, asked: Int, distinct: Int)? {
        var n = agent.seen[question] ?? AgentLearner.Novelty()
        defer {
            n.asked += 1
            if n.answers.count < configuration.maxValues { n.answers.insert(answer) }
            agent.seen[question] = n
        }
        guard !n.answers.contains(answer), !learning, n.asked >= configuration.minimumCalls,
              n.answers.count < configuration.maxValues else { return nil }
        let p = Double(n.answers.count + 1) / Double(n.asked + 2)
        return (p, -log2(p), n.asked, n.answers.count)
    }

    /// Hourly call counts: the count in the call's hour, and the mean per active hour before it.
    mutating func countHour() -> (count: Int, mean: Double, hours: Int, hour: Int64) {
        let h = call.time.nanoseconds / 3_600_000_000_000
        if h != agent.hourIndex {
            if agent.hourIndex >= 0 {
                agent.hoursObserved += 1
                agent.hourlyMean += (Double(agent.hourCount) - agent.hourlyMean) / Double(min(agent.hoursObserved, 200))
            }
            agent.hourIndex = h
            agent.hourCount = 0
        }
        agent.hourCount += 1
        return (agent.hourCount, agent.hourlyMean, agent.hoursObserved, h)
    }

    mutating func reportOncePerHour(_ h: Int64) -> Bool {
        guard agent.reportedHour != h else { return false }
        agent.reportedHour = h
        return true
    }

    /// Records a breach on the agent: score from surprisal (15 points a bit, so a new answer
    /// with a one-in-ten chance scores 50), the reason a person reads, the numbers behind it.
    public mutating func report(model: String, key: String, bits: Double, reason: String,
                                endpoints: [String] = [], techniques: [String] = [], facts: [String: Double] = [:],
                                scale: Double = 1) {
        let score = min(100, max(0, bits * 15 * scale))
        // A stable hash (FNV-1a), so the same log gives the same breach ids every run.
        let id = "\(model)-\(call.agent)-\(String(FNV1a.hash(key.utf8), radix: 36))-\(call.time.nanoseconds / 1_000_000_000)"
        breaches.append(Breach(id: id, model: model, device: call.entity, deviceName: call.agent, time: call.time,
                               first: call.time, last: call.time, score: score, surprisal: bits, reason: reason,
                               endpoints: endpoints, techniques: techniques, facts: facts, alertedAt: score >= 50 ? call.time : nil))
    }
}

/// One question asked of every tool call. A new model is one file and one line in `all`.
public protocol AgentModel: Sendable {
    var name: String { get }
    func observe(_ c: inout AgentContext)
}

public enum AgentModelRegistry {
    public static let all: [any AgentModel] = [
        AgentNewToolModel(), AgentSequenceModel(), AgentArgumentShapeModel(), AgentHourModel(), AgentVolumeModel(),
    ]
}
