/// Prompts and resources: what a server offers beside its tools. Both reach the model (a prompt's
/// messages, a resource's text) and `prompts/get` runs the server's code with the agent's
/// arguments, so both pass the same gates as a tool call: deny by default (an agent's rules name
/// the prompts and resource URI prefixes it may use), the rule's argument constraints, the rate
/// limit, secrets and the trifecta in what leaves, hidden instructions in what comes back, and
/// the audit log. Listings are gathered from the upstreams when the client asks for them, so
/// they are never stale; what an agent may not use is not listed to it.
extension Gateway {
    enum ContextKind: String, Sendable {
        /// Listed (gathered from the upstreams) and fetched.
        case prompts, resources, templates
        /// Suggestions for a prompt's or a template's argument: fetched, never listed.
        case completions

        var method: String {
            switch self {
            case .prompts: return "prompts/list"; case .resources: return "resources/list"
            case .templates: return "resources/templates/list"; case .completions: return "completion/complete"
            }
        }
        /// The field of a result that holds the items.
        var field: String {
            switch self {
            case .prompts: return "prompts"; case .resources: return "resources"
            case .templates: return "resourceTemplates"; case .completions: return "completion"
            }
        }
        /// The server capability that offers them.
        var capability: String {
            switch self { case .prompts: return "prompts"; case .resources, .templates: return "resources"; case .completions: return "completions" }
        }
    }

    /// One listing the client asked for, gathered from every upstream that offers the kind
    /// (each followed through its pages) before the client gets the whole.
    struct Gathering: Sendable {
        var clientID: JSONValue
        var kind: ContextKind
        var waiting: Set<String>
        var items: [Item] = []
        var pages = 0
        struct Item: Sendable { var server: String; var definition: JSONValue }
    }

    /// The capabilities the gateway declares to the client: tools always; prompts and resources
    /// (with change notices and resource subscriptions, relayed from the servers that offer
    /// them) when the agent's policy allows any, and completions with either.
    var offeredCapabilities: JSONValue {
        var c: [String: JSONValue] = ["tools": ["listChanged": true]]
        if agent.rules.contains(where: { !$0.prompts.isEmpty }) { c["prompts"] = ["listChanged": true] }
        if agent.rules.contains(where: { !$0.resources.isEmpty }) { c["resources"] = ["listChanged": true, "subscribe": true] }
        if c["prompts"] != nil || c["resources"] != nil { c["completions"] = [:] }
        return .object(c)
    }

    /// Whether the agent's rules allow anything of this kind on the server.
    func agentReaches(_ kind: ContextKind, server: String) -> Bool {
        agent.rules.contains { $0.server == server && (kind == .prompts ? !$0.prompts.isEmpty : !$0.resources.isEmpty) }
    }

    mutating func gather(_ kind: ContextKind, id: JSONValue) -> [Effect] {
        let servers = upstreams.filter { name, u in
            u.state == .ready && u.capabilities?[kind.capability] != nil && agentReaches(kind, server: name)
        }.keys.sorted()
        guard !servers.isEmpty else {
            return [.toClient(.result(id: id, result: clientResult([kind.field: [], "ttlMs": 0, "cacheScope": "private"])))]
        }
        // A server that never answers must not make the gateway hold listings without bound.
        guard gatherings.count < 16 else {
            return [.toClient(.error(id: id, code: RPCMessage.Code.internalError, message: "too many listings in progress", data: nil))]
        }
        nextGathering += 1
        gatherings[nextGathering] = Gathering(clientID: id, kind: kind, waiting: Set(servers))
        return servers.map { send($0, kind.method, listParams($0, cursor: nil), .gather(nextGathering)) }
    }

    /// A page of a listing arrived (or its server failed it, or closed).
    mutating func gathered(_ server: String, _ g: Int, result: JSONValue?, error: String?, now: Double) -> [Effect] {
        guard var gathering = gatherings[g] else { return [] }
        var out: [Effect] = []
        for item in result?[gathering.kind.field]?.array ?? [] where gathering.items.count < Self.maxListed {
            gathering.items.append(.init(server: server, definition: item))
        }
        gathering.pages += 1
        if let cursor = result?["nextCursor"]?.string, gathering.items.count < Self.maxListed, gathering.pages < Self.maxPages {
            gatherings[g] = gathering
            return [send(server, gathering.kind.method, listParams(server, cursor: cursor), .gather(g))]
        }
        if let error { out.append(.log("upstream \(server) did not list its \(gathering.kind.field): \(error)")) }
        gathering.waiting.remove(server)
        guard gathering.waiting.isEmpty else { gatherings[g] = gathering; return out }
        gatherings[g] = nil
        return out + offer(gathering, now: now)
    }

    /// The gathered listing as the agent may see it: what its policy allows, without definitions
    /// that hide instructions and without prompt names two servers both claim.
    mutating func offer(_ gathering: Gathering, now: Double) -> [Effect] {
        var out: [Effect] = []
        var offered: [JSONValue] = []
        let kind = gathering.kind
        var claims: [String: Set<String>] = [:]
        if kind == .prompts {
            for i in gathering.items { if let n = i.definition["name"]?.string { claims[n, default: []].insert(i.server) } }
        }
        var servers: [String: String] = [:]
        var blocked: [String: String] = [:]
        // What was alerted is remembered so repeated listings stay quiet, within a bound.
        if contextAlerted.count > Self.maxListed { contextAlerted.removeAll() }
        for item in gathering.items {
            let d = item.definition
            switch kind {
            case .prompts:
                guard let name = d["name"]?.string, Policy.mayList(agent: agent, server: item.server, prompt: name) else { continue }
                if let (why, alerts) = promptPinProblem(item.server, name, d, now: now) {
                    blocked[name] = why
                    out += alerts
                    continue
                }
                if let owners = claims[name], owners.count > 1 {
                    let key = "collision/\(name)/\(owners.sorted().joined(separator: ","))"
                    blocked[name] = "the name is offered by \(owners.sorted().joined(separator: ", "))"
                    if contextAlerted.insert(key).inserted {
                        out += note(Finding(.nameCollision, .high, channel: "prompts/list", "the prompt \(name) is offered by \(owners.sorted().joined(separator: ", ")); neither is offered until one is renamed or removed"), server: nil, tool: "prompt:\(name)", now: now)
                    }
                    continue
                }
            case .resources:
                guard let uri = d["uri"]?.string, case .success(let s) = Policy.resource(agent: agent, uri: uri), s == item.server else { continue }
            case .templates:
                guard d["uriTemplate"]?.string != nil, agentReaches(.resources, server: item.server) else { continue }
            case .completions:
                continue
            }
            // Names, titles and descriptions reach the model like a tool's description.
            let found = injection.check(InjectionCheck.text(of: InjectionCheck.shownFields(d)), channel: kind.field)
            if let worst = found.max(by: { $0.severity < $1.severity }), worst.severity >= .medium {
                let key = "\(kind.rawValue)/\(item.server)/\(Lockfile.hash(d))"
                let label = InjectionCheck.label(d)
                if kind == .prompts { blocked[label] = worst.detail }
                if contextAlerted.insert(key).inserted {
                    for f in found { out += note(f, server: item.server, tool: "\(kind == .prompts ? "prompt" : "resource"):\(label)", now: now) }
                }
                continue
            }
            if kind == .prompts, let name = d["name"]?.string { servers[name] = item.server }
            if kind == .templates, let t = d["uriTemplate"]?.string { servers[t] = item.server }
            var clean = d.object ?? [:]
            clean["_meta"] = nil
            offered.append(.object(clean))
        }
        if kind == .prompts { promptServers = servers; promptsBlocked = blocked }
        if kind == .templates { templateServers = servers }
        return out + [.toClient(.result(id: gathering.clientID, result: clientResult([kind.field: .array(offered), "ttlMs": 0, "cacheScope": "private"])))]
    }

    /// A listed prompt against its pin: the lockfile's, or without one the first words it had
    /// in this session. Nil when it may be offered; otherwise why not, with its alert (once).
    mutating func promptPinProblem(_ server: String, _ name: String, _ d: JSONValue, now: Double) -> (String, [Effect])? {
        let key = Lockfile.promptKey(name)
        let finding: Finding
        if let lockfile {
            guard let f = lockfile.status(server: server, key: key, definition: d)
                .finding("the prompt \(server)/\(name)", now: d, key: key, channel: "prompts/list", held: true) else { return nil }
            finding = f
        } else {
            let k = "\(server)/\(name)"
            guard let first = promptPins[k] else {
                if promptPins.count < Self.maxListed { promptPins[k] = d }
                return nil
            }
            guard Lockfile.hash(first, key: key) != Lockfile.hash(d, key: key) else { return nil }
            finding = Finding(.rugPull, .critical, channel: "prompts/list", "the prompt \(server)/\(name) changed since it was first listed in this session: \(Self.describeChange(from: first, to: d, key: key))")
        }
        let alerts = contextAlerted.insert("pin/\(server)/\(Lockfile.hash(d, key: key))").inserted
            ? note(finding, server: server, tool: "prompt:\(name)", now: now) : []
        return (finding.detail, alerts)
    }

    /// How a resource URI is named in the audit log: `PREFIX:SCHEME` (the URI itself may hold
    /// a path the log should not).
    static func resourceLabel(_ prefix: String, _ uri: String) -> String {
        prefix + ":" + (uri.split(separator: ":", maxSplits: 1).first.map(String.init) ?? "?")
    }

    /// The server a prompt named by the client lives on: the one that listed it, or before any
    /// listing the one server whose rule names it; a refusal when it was withheld or is unknown.
    func promptServer(_ name: String, id: JSONValue, label: String, arguments: JSONValue, now: Double) -> Result<String, Refused> {
        if let why = promptsBlocked[name] {
            return .failure(Refused(refuseContext(id, code: RPCMessage.Code.denied, label: label, server: nil, reason: "the prompt \(name) is blocked: \(why)", arguments: arguments, now: now)))
        }
        let named = Set(agent.rules.filter { $0.prompts.contains(name) }.map(\.server))
        guard let server = promptServers[name] ?? (named.count == 1 ? named.first : nil) else {
            return .failure(Refused(refuseContext(id, code: RPCMessage.Code.invalidParams, label: label, server: nil,
                                                  reason: "no prompt named \(name) is offered to this agent (list the prompts first)", arguments: arguments, now: now)))
        }
        return .success(server)
    }

    /// The server a resource URI belongs to under the agent's rules; a refusal, alerted, when
    /// no rule lets the agent reach it.
    mutating func resourceServer(_ uri: String, id: JSONValue, label: String, arguments: JSONValue, now: Double) -> Result<String, Refused> {
        switch Policy.resource(agent: agent, uri: uri) {
        case .success(let s): return .success(s)
        case .failure(let refusal):
            return .failure(Refused(note(Finding(.policyDenied, .medium, channel: "arguments", refusal.reason), server: nil, tool: label, now: now)
                + refuseContext(id, code: RPCMessage.Code.denied, label: label, server: nil, reason: refusal.reason, arguments: arguments, now: now)))
        }
    }

    /// The leak and trifecta checks on what a request sends out: their alerts, and a refusal
    /// when any of them blocks it.
    mutating func checkOutbound(_ arguments: JSONValue, id: JSONValue, server: String, label: String, now: Double) -> (alerts: [Effect], refusal: [Effect]?) {
        let (found, blockers) = outbound(arguments, responses: nil, labels: config.servers[server]?.labels ?? [], name: label)
        var alerts: [Effect] = []
        for f in found { alerts += note(f, server: server, tool: label, now: now) }
        guard !blockers.isEmpty else { return (alerts, nil) }
        return (alerts, refuseContext(id, code: RPCMessage.Code.denied, label: label, server: server,
                                      reason: blockers.map(\.detail).joined(separator: "; "), arguments: arguments, findings: blockers, now: now))
    }

    /// What the gateway answers instead of passing a request on.
    struct Refused: Error { var effects: [Effect]; init(_ e: [Effect]) { effects = e } }

    /// The audit entry and error for a prompt or resource request the gateway refuses itself.
    func refuseContext(_ id: JSONValue, code: Int, label: String, server: String?, reason: String, arguments: JSONValue?,
                       findings: [Finding] = [], now: Double) -> [Effect] {
        var e: [String: JSONValue] = ["tool": .string(label), "decision": "deny", "reason": .string(reason)]
        if let server { e["server"] = .string(server) }
        if !findings.isEmpty { e["findings"] = .array(findings.map(\.json)) }
        return [.audit(entry("call", now: now, e, arguments: arguments)),
                .toClient(.error(id: id, code: code, message: "Vigil gateway: \(reason)", data: nil))]
    }

    mutating func getPrompt(id: JSONValue, params: JSONValue?, now: Double) -> [Effect] {
        guard let name = params?["name"]?.string else {
            return [.toClient(.error(id: id, code: RPCMessage.Code.invalidParams, message: "prompts/get needs a prompt name", data: nil))]
        }
        let label = "prompt:\(name)"
        let arguments = params?["arguments"] ?? [:]
        guard let args = arguments.object else {
            return [.toClient(.error(id: id, code: RPCMessage.Code.invalidParams, message: "arguments must be an object", data: nil))]
        }
        let server: String
        switch promptServer(name, id: id, label: label, arguments: arguments, now: now) {
        case .failure(let r): return r.effects
        case .success(let s): server = s
        }
        if case .deny(let why) = Policy.decide(agent: agent, server: server, prompt: name, arguments: args) {
            let f = Finding(.policyDenied, .medium, channel: "arguments", why)
            return note(f, server: server, tool: label, now: now)
                + refuseContext(id, code: RPCMessage.Code.denied, label: label, server: server, reason: why, arguments: arguments, now: now)
        }
        let (alerts, refusal) = checkOutbound(arguments, id: id, server: server, label: label, now: now)
        return alerts + (refusal ?? pass(id: id, server: server, method: "prompts/get", params: params, kind: .prompts, label: label, arguments: arguments, now: now))
    }

    mutating func readResource(id: JSONValue, params: JSONValue?, now: Double) -> [Effect] {
        guard let uri = params?["uri"]?.string else {
            return [.toClient(.error(id: id, code: RPCMessage.Code.invalidParams, message: "resources/read needs a uri", data: nil))]
        }
        let arguments: JSONValue = ["uri": .string(uri)]
        let label = Self.resourceLabel("resource", uri)
        let server: String
        switch resourceServer(uri, id: id, label: label, arguments: arguments, now: now) {
        case .failure(let r): return r.effects
        case .success(let s): server = s
        }
        guard upstreams[server]?.capabilities?["resources"] != nil else {
            return refuseContext(id, code: RPCMessage.Code.invalidParams, label: label, server: server,
                                 reason: "\(server) offers no resources", arguments: arguments, now: now)
        }
        return pass(id: id, server: server, method: "resources/read", params: params, kind: .resources, label: label, arguments: arguments, now: now)
    }

    /// `completion/complete`: suggestions for an argument of a prompt or resource template the
    /// agent may use, from the server that offers it. What the user has typed so far leaves
    /// through the leak and trifecta checks (the rule's argument constraints are for the finished
    /// value, so they are not held against a prefix); the suggestions come back checked like a
    /// prompt, since the client shows them and the model may read them.
    mutating func complete(id: JSONValue, params: JSONValue?, now: Double) -> [Effect] {
        guard let ref = params?["ref"], let type = ref["type"]?.string, let argument = params?["argument"],
              argument["name"]?.string != nil, argument["value"]?.string != nil else {
            return [.toClient(.error(id: id, code: RPCMessage.Code.invalidParams, message: "completion/complete needs ref (type and name or uri) and argument (name and value)", data: nil))]
        }
        var fields: [String: JSONValue] = params?["context"]?["arguments"]?.object ?? [:]
        fields[argument["name"]!.string!] = argument["value"]!
        let arguments = JSONValue.object(fields)
        let label: String, server: String
        switch (type, ref["name"]?.string, ref["uri"]?.string) {
        case ("ref/prompt", let name?, _):
            // The prompt's server is known only for a prompt the agent may use.
            label = "complete:prompt:\(name)"
            switch promptServer(name, id: id, label: label, arguments: arguments, now: now) {
            case .failure(let r): return r.effects
            case .success(let s): server = s
            }
        case ("ref/resource", _, let template?):
            label = Self.resourceLabel("complete:resource", template)
            let reaching = upstreams.keys.filter { agentReaches(.resources, server: $0) }
            guard let s = templateServers[template] ?? (reaching.count == 1 ? reaching.first : nil) else {
                return refuseContext(id, code: RPCMessage.Code.invalidParams, label: label, server: nil,
                                     reason: "no resource template \(template) is offered to this agent (list the resource templates first)", arguments: arguments, now: now)
            }
            server = s
        default:
            return [.toClient(.error(id: id, code: RPCMessage.Code.invalidParams, message: "ref.type must be ref/prompt (with name) or ref/resource (with uri)", data: nil))]
        }
        // A server without completions has none to give: an empty answer, as the spec's default.
        guard upstreams[server]?.capabilities?["completions"] != nil else {
            return [.toClient(.result(id: id, result: clientResult(["completion": ["values": [], "hasMore": false]])))]
        }
        let (alerts, refusal) = checkOutbound(arguments, id: id, server: server, label: label, now: now)
        return alerts + (refusal ?? pass(id: id, server: server, method: "completion/complete", params: params, kind: .completions, label: label, arguments: arguments, now: now))
    }

    /// Passes an allowed request on, within the agent's rate and the session's calls in flight.
    private mutating func pass(id: JSONValue, server: String, method: String, params: JSONValue?, kind: ContextKind,
                               label: String, arguments: JSONValue, now: Double) -> [Effect] {
        if inFlight >= options.maxInFlight {
            return refuseContext(id, code: RPCMessage.Code.internalError, label: label, server: server, reason: "too many calls in flight", arguments: arguments, now: now)
        }
        guard rate.admit(agent: agent.name, rate: agent.rate, now: now) else {
            let f = Finding(.rateLimited, .medium, channel: "arguments", "\(agent.name) is over its rate of \(agent.rate!.calls) calls per \(Int(agent.rate!.perSeconds)) s")
            return note(f, server: server, tool: label, now: now)
                + refuseContext(id, code: RPCMessage.Code.denied, label: label, server: server, reason: f.detail, arguments: arguments, now: now)
        }
        inFlight += 1
        let upstream = upstreams[server]?.revision ?? .handshake(Revision.latestHandshake)
        let p = upstream.upstreamParams(params, clientName: options.serverName)
        return [send(server, method, p, .fetch(clientID: id, kind: kind, name: label, arguments: arguments, started: now))]
    }

    /// A prompt or resource came back: what the model would read is checked like a tool result.
    mutating func fetched(_ server: String, clientID: JSONValue, kind: ContextKind, name: String, arguments: JSONValue, started: Double,
                          result: JSONValue?, error: (Int, String, JSONValue?)?, now: Double) -> [Effect] {
        inFlight -= 1
        let base = AuditEntry(fields: ["server": .string(server), "tool": .string(name), "decision": "allow",
                                       "ms": .int(Int64((now - started) * 1000))], arguments: arguments)
        if let error {
            return [callEntry(base, "error", ["error": .string(error.1)], now: now),
                    .toClient(.error(id: clientID, code: error.0, message: error.1, data: error.2))]
        }
        guard let result else { return [] }
        if result["resultType"]?.string == "input_required" {
            let why = "\(server) asked for input mid-request for \(name); the gateway relays that for tool calls only"
            return [callEntry(base, "refused", ["reason": .string(why)], now: now),
                    .toClient(.error(id: clientID, code: RPCMessage.Code.denied, message: "Vigil gateway: \(why)", data: nil))]
        }
        if kind == .completions { return completed(server, clientID: clientID, base: base, result: result, now: now) }
        var texts: [String] = []
        if kind == .prompts {
            if let d = result["description"]?.string { texts.append(d) }
            for m in result["messages"]?.array ?? [] {
                if let t = m["content"]?["text"]?.string { texts.append(t) }
                if let t = m["content"]?["resource"]?["text"]?.string { texts.append(t) }
            }
        } else {
            for c in result["contents"]?.array ?? [] { if let t = c["text"]?.string { texts.append(t) } }
        }
        let found = injection.check(texts.joined(separator: "\n"), channel: kind == .prompts ? "prompt" : "resource")
        flow.recordResult(result, labels: config.servers[server]?.labels ?? [], tool: name)
        var out: [Effect] = []
        for f in found { out += note(f, server: server, tool: name, now: now) }
        let withheld = found.filter { $0.severity >= options.withholdResultsAt }
        out.append(callEntry(base, withheld.isEmpty ? "ok" : "withheld", [:], now: now))
        if !withheld.isEmpty {
            let why = withheld.map(\.detail).joined(separator: "; ")
            return out + [.toClient(.error(id: clientID, code: RPCMessage.Code.denied, message: "Vigil withheld \(name) from \(server): \(why)", data: nil))]
        }
        var r = result.object ?? [:]
        r["_meta"] = nil
        return out + [.toClient(.result(id: clientID, result: clientResult(r)))]
    }

    /// Suggestions came back: each is checked on its own, and one that hides an instruction is
    /// left out (and alerted) while the rest reach the client.
    private mutating func completed(_ server: String, clientID: JSONValue, base: AuditEntry, result: JSONValue, now: Double) -> [Effect] {
        var out: [Effect] = []
        var kept: [JSONValue] = [], dropped = 0
        for v in (result["completion"]?["values"]?.array ?? []).prefix(100) {
            let found = v.string.map { injection.check($0, channel: "completion") } ?? []
            for f in found { out += note(f, server: server, tool: base.fields["tool"]?.string ?? "", now: now) }
            if v.string == nil || found.contains(where: { $0.severity >= options.withholdResultsAt }) { dropped += 1 } else { kept.append(v) }
        }
        out.append(callEntry(base, dropped == 0 ? "ok" : "filtered", dropped == 0 ? [:] : ["withheld": .int(Int64(dropped))], now: now))
        var completion = result["completion"]?.object ?? [:]
        completion["values"] = .array(kept)
        if dropped > 0, let total = completion["total"]?.int { completion["total"] = .int(max(0, total - Int64(dropped))) }
        return out + [.toClient(.result(id: clientID, result: clientResult(["completion": .object(completion)])))]
    }
}
