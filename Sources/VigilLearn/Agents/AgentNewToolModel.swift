/// A tool this agent has never called.
struct AgentNewToolModel: AgentModel {
    let name = "agent-new-tool"
    func observe(_ c: inout AgentContext) {
        let tool = "\(c.call.server)/\(c.call.tool)"
        guard let n = c.novelty("tool", tool) else { return }
        let others = c.otherUsers
        c.report(model: name, key: tool, bits: n.bits,
                 reason: "\(c.call.agent) called \(tool) for the first time after \(n.asked) calls to \(n.distinct) tool(s)"
                    + (others > 0 ? "; \(others) other agent(s) use it" : "; no other agent uses it")
                    + (c.call.decision == "allow" ? "" : " (the gateway refused it: \(c.call.decision))"),
                 facts: ["calls": Double(n.asked), "tools": Double(n.distinct), "other_agents": Double(others)],
                 scale: others > 0 ? 0.7 : 1)
    }
}
