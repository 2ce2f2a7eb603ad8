/// Activity at an hour of the day this agent has never worked.
struct AgentHourModel: AgentModel {
    let name = "agent-hour"
    func observe(_ c: inout AgentContext) {
        let hour = String(format: "%02d:00", c.hourOfDay)
        guard let n = c.novelty("hour", hour) else { return }
        c.report(model: name, key: hour, bits: n.bits,
                 reason: "\(c.call.agent) was active at \(hour), an hour it had not worked in \(n.asked) calls over \(n.distinct) hour(s) of the day",
                 facts: ["calls": Double(n.asked), "hours": Double(n.distinct)], scale: 0.8)
    }
}
