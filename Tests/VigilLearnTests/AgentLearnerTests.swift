import Testing
import VigilCore
import VigilLearn
import VigilSim

@Suite struct AgentLearnerTests {
    func breaches(_ w: AgentWorkday) -> [Breach] {
        let learner = AgentLearner()
        for c in w.calls() { learner.observe(c) }
        return learner.drainBreaches()
    }

    @Test func aQuietWeekOfRoutineWorkRaisesNothing() {
        var w = AgentWorkday()
        w.intrusion = false
        w.days = 12
        let strong = breaches(w).filter { $0.score >= 50 }
        #expect(strong.isEmpty, "\(strong.map(\.reason))")
    }

    @Test func theNightSessionIsFoundByWhatItDidDifferently() {
        let w = AgentWorkday()
        let all = breaches(w)
        let strong = all.filter { $0.score >= 50 }
        let models = Set(strong.map(\.model))
        #expect(models.isSuperset(of: ["agent-new-tool", "agent-argument-shape", "agent-hour", "agent-volume"]), "\(all.map { "\($0.model) \(Int($0.score)) \($0.reason)" })")
        #expect(strong.allSatisfy { $0.device == "agent:build-bot" && $0.time >= w.intrusionStart })
        let mail = strong.first { $0.model == "agent-new-tool" }
        #expect(mail?.reason.contains("mail/send_email") == true && mail?.reason.contains("no other agent") == true)
        let host = strong.first { $0.model == "agent-argument-shape" && $0.endpoints == ["paste.attacker.example"] }
        #expect(host != nil)
        // The same calls give the same breaches, ids included.
        #expect(breaches(w).map(\.id) == all.map(\.id))
    }

    @Test func stateStaysBoundedUnderAFloodOfAgentsAndAnswers() {
        var c = AgentLearner.Configuration()
        c.maxAgents = 100
        c.maxValues = 16
        let learner = AgentLearner(configuration: c)
        for i in 0..<5_000 {
            learner.observe(ToolCall(time: Timestamp(seconds: Int64(i)), agent: "a\(i % 1_000)", server: "s", tool: "t\(i)", decision: "allow"))
        }
        #expect(learner.agentCount == 100)
    }
}
