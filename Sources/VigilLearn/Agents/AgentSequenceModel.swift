/// One tool after another in an order this agent has never used (after `git_log`, `fetch`).
/// Weighed at half: a new order of tools the agent already uses is weak evidence alone (a
/// routine that starts a day at another step looks the same); it corroborates the others.
struct AgentSequenceModel: AgentModel {
    let name = "agent-sequence"
    func observe(_ c: inout AgentContext) {
        guard let previous = c.previousTool else { return }
        let step = "\(previous) -> \(c.call.tool)"
        guard let n = c.novelty("sequence", step) else { return }
        c.report(model: name, key: step, bits: n.bits,
                 reason: "\(c.call.agent) called \(c.call.tool) right after \(previous), an order not seen in \(n.asked) steps (\(n.distinct) distinct)",
                 facts: ["steps": Double(n.asked), "distinct": Double(n.distinct)], scale: 0.5)
    }
}
