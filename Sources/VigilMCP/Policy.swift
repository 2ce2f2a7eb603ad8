/// What the gateway decides about one tool call.
public enum Decision: Hashable, Sendable {
    case allow
    case deny(String)
    /// Waits for a person: the key names this exact call (agent, tool, arguments).
    case holdForApproval(key: String, reason: String)

    public var label: String {
        switch self { case .allow: return "allow"; case .deny: return "deny"; case .holdForApproval: return "hold" }
    }
    public var reason: String {
        switch self { case .allow: return ""; case .deny(let r), .holdForApproval(_, let r): return r }
    }
}

/// Least privilege per agent: deny by default; a call passes only when a rule names its server
/// and tool and every argument constraint of that rule holds.
public enum Policy {
    public static func decide(agent: GatewayConfig.Agent, server: String, tool: String,
                              arguments: [String: JSONValue]) -> Decision {
        decide(agent.rules.filter { $0.covers(server: server, tool: tool) }, arguments,
               none: "agent '\(agent.name)' has no rule allowing \(server)/\(tool)")
    }

    /// A `prompts/get`: allowed when a rule names the prompt and its argument constraints hold.
    public static func decide(agent: GatewayConfig.Agent, server: String, prompt: String,
                              arguments: [String: JSONValue]) -> Decision {
        decide(agent.rules.filter { $0.covers(server: server, prompt: prompt) }, arguments,
               none: "agent '\(agent.name)' has no rule allowing the prompt \(server)/\(prompt)")
    }

    /// Allowed when one of the rules that cover the request allows its arguments.
    private static func decide(_ rules: [GatewayConfig.Rule], _ arguments: [String: JSONValue], none: String) -> Decision {
        guard !rules.isEmpty else { return .deny(none) }
        var reasons: [String] = []
        for rule in rules {
            if let why = violation(of: rule, arguments) { reasons.append(why); continue }
            return .allow
        }
        return .deny(reasons.joined(separator: "; "))
    }

    /// The server a `resources/read` goes to (the first rule whose prefix covers the URI), or why not.
    public static func resource(agent: GatewayConfig.Agent, uri: String) -> Result<String, PolicyRefusal> {
        if GatewayConfig.hasDotSegments(uri) { return .failure(PolicyRefusal(reason: "the resource URI \(quoted(uri)) has . or .. segments")) }
        guard let rule = agent.rules.first(where: { $0.covers(resource: uri) }) else {
            return .failure(PolicyRefusal(reason: "agent '\(agent.name)' has no rule allowing the resource \(quoted(uri))"))
        }
        return .success(rule.server)
    }

    public struct PolicyRefusal: Error, Sendable { public var reason: String }

    /// Whether the agent may see a prompt in a listing.
    public static func mayList(agent: GatewayConfig.Agent, server: String, prompt: String) -> Bool {
        agent.rules.contains { $0.covers(server: server, prompt: prompt) }
    }

    /// Nil when the rule allows these arguments.
    static func violation(of rule: GatewayConfig.Rule, _ arguments: [String: JSONValue]) -> String? {
        if rule.onlyNamedArguments {
            for k in arguments.keys.sorted() where rule.arguments[k] == nil {
                return "argument '\(k)' is not one the policy names"
            }
        }
        for (name, c) in rule.arguments.sorted(by: { $0.key < $1.key }) {
            if let why = c.violation(arguments[name], name: name) { return why }
        }
        return nil
    }

    /// Whether the agent's policy makes this tool wait for a person.
    public static func needsApproval(agent: GatewayConfig.Agent, server: String, tool: String) -> Bool {
        agent.approval.contains(tool) || agent.approval.contains("\(server)/\(tool)")
    }

    /// Whether the agent may see the tool at all (hidden tools are not listed to it).
    public static func mayList(agent: GatewayConfig.Agent, server: String, tool: String) -> Bool {
        agent.rules.contains { $0.covers(server: server, tool: tool) }
    }
}

/// A token bucket per agent: `calls` per `perSeconds`, refilled continuously. Time is injected.
public struct RateLimiter: Sendable {
    private var tokens: [String: (level: Double, at: Double)] = [:]
    public init() {}

    public mutating func admit(agent: String, rate: GatewayConfig.Rate?, now: Double) -> Bool {
        guard let rate else { return true }
        let capacity = Double(rate.calls)
        var (level, at) = tokens[agent] ?? (capacity, now)
        level = min(capacity, level + (now - at) * capacity / rate.perSeconds)
        at = now
        guard level >= 1 else { tokens[agent] = (level, at); return false }
        tokens[agent] = (level - 1, at)
        return true
    }
}
