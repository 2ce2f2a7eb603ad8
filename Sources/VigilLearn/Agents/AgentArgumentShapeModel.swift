/// Arguments of a shape this agent has never given this tool: a new argument, a path under
/// another directory, a URL to another host, a text much longer than usual.
struct AgentArgumentShapeModel: AgentModel {
    let name = "agent-argument-shape"
    func observe(_ c: inout AgentContext) {
        let tool = "\(c.call.server)/\(c.call.tool)"
        for (argument, shape) in c.call.shape.sorted(by: { $0.key < $1.key }) {
            guard let n = c.novelty("shape:\(tool):\(argument)", shape) else { continue }
            let hosts = shape.hasPrefix("url:") ? [String(shape.dropFirst(4))] : []
            c.report(model: name, key: "\(tool):\(argument)=\(shape)", bits: n.bits,
                     reason: "\(c.call.agent) gave \(tool) a '\(argument)' of a new shape (\(shape)) after \(n.asked) calls with \(n.distinct) shape(s)",
                     endpoints: hosts, facts: ["calls": Double(n.asked), "shapes": Double(n.distinct)])
        }
    }
}
