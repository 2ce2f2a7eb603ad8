/// Change notices and resource subscriptions for prompts and resources, in both eras, relayed
/// only within the agent's policy. A client (older: `resources/subscribe`; modern: a
/// `subscriptions/listen` filter) may hear that a prompt or resource list changed on a server
/// whose prompts or resources its rules reach, and that a resource it may read was updated. The
/// gateway keeps one subscription of its own per upstream (modern: one `subscriptions/listen`,
/// sent again when its filter changes; older: `resources/subscribe` per URI) covering what its
/// client asked for, so nothing the agent may not see is ever subscribed to on its behalf. What a
/// notice points at is fetched through the gateway and checked like any read.
extension Gateway {
    /// What one of the client's modern subscriptions was granted; `uris` maps each resource to
    /// the server that offers it.
    struct Listen: Sendable, Hashable {
        var tools = false, prompts = false, resources = false
        var uris: [String: String] = [:]
    }

    /// Resources subscribed per session at most (both eras together, per client subscription).
    static let maxSubscribedURIs = 1_000

    /// A modern client's `subscriptions/listen`: tool list changes always; prompt and resource
    /// list changes when its rules reach any; each resource URI its rules let it read, on a server
    /// that offers subscriptions. The acknowledgement names what was granted.
    mutating func listen(id: JSONValue, wanted: JSONValue, now: Double) -> [Effect] {
        var l = Listen()
        l.tools = wanted["toolsListChanged"]?.bool == true
        l.prompts = wanted["promptsListChanged"]?.bool == true && agent.rules.contains { !$0.prompts.isEmpty }
        l.resources = wanted["resourcesListChanged"]?.bool == true && agent.rules.contains { !$0.resources.isEmpty }
        var out: [Effect] = []
        for uri in (wanted["resourceSubscriptions"]?.array ?? []).prefix(Self.maxSubscribedURIs).compactMap(\.string) {
            switch Policy.resource(agent: agent, uri: uri) {
            case .success(let server) where offersSubscriptions(server):
                l.uris[uri] = server
            case .success(let server):
                out.append(.log("\(server) does not offer resource subscriptions; \(uri) is not subscribed"))
            case .failure(let refusal):
                out += note(Finding(.policyDenied, .medium, channel: "subscriptions", refusal.reason), server: nil, tool: Self.resourceLabel("subscribe:resource", uri), now: now)
            }
        }
        listens[id] = l
        var honored: [String: JSONValue] = [:]
        if l.tools { honored["toolsListChanged"] = true }
        if l.prompts { honored["promptsListChanged"] = true }
        if l.resources { honored["resourcesListChanged"] = true }
        if !l.uris.isEmpty { honored["resourceSubscriptions"] = .array(l.uris.keys.sorted().map { .string($0) }) }
        out.append(.toClient(.notification(method: "notifications/subscriptions/acknowledged",
                                           params: ["notifications": .object(honored), "_meta": [Revision.Meta.subscriptionID: id]])))
        return out + Set(l.uris.values).sorted().flatMap { syncSubscriptions($0) }
    }

    /// An older client's `resources/subscribe`: allowed when its rules let it read the URI and
    /// the server offers subscriptions; audited like a read.
    mutating func subscribeResource(id: JSONValue, params: JSONValue?, now: Double) -> [Effect] {
        guard let uri = params?["uri"]?.string else {
            return [.toClient(.error(id: id, code: RPCMessage.Code.invalidParams, message: "resources/subscribe needs a uri", data: nil))]
        }
        let label = Self.resourceLabel("subscribe:resource", uri), arguments: JSONValue = ["uri": .string(uri)]
        let server: String
        switch resourceServer(uri, id: id, label: label, arguments: arguments, now: now) {
        case .failure(let r): return r.effects
        case .success(let s): server = s
        }
        guard offersSubscriptions(server) else {
            return refuseContext(id, code: RPCMessage.Code.invalidParams, label: label, server: server,
                                 reason: "\(server) does not offer resource subscriptions", arguments: arguments, now: now)
        }
        guard subscribed[uri] != nil || subscribed.count < Self.maxSubscribedURIs else {
            return refuseContext(id, code: RPCMessage.Code.internalError, label: label, server: server,
                                 reason: "too many resource subscriptions (\(Self.maxSubscribedURIs))", arguments: arguments, now: now)
        }
        subscribed[uri] = server
        let audit = Effect.audit(entry("call", now: now, ["server": .string(server), "tool": .string(label), "decision": "allow", "outcome": "subscribed"], arguments: arguments))
        return [audit] + syncSubscriptions(server) + [.toClient(.result(id: id, result: [:]))]
    }

    mutating func unsubscribeResource(id: JSONValue, params: JSONValue?) -> [Effect] {
        guard let uri = params?["uri"]?.string else {
            return [.toClient(.error(id: id, code: RPCMessage.Code.invalidParams, message: "resources/unsubscribe needs a uri", data: nil))]
        }
        let server = subscribed.removeValue(forKey: uri)
        return (server.map { syncSubscriptions($0) } ?? []) + [.toClient(.result(id: id, result: [:]))]
    }

    func offersSubscriptions(_ server: String) -> Bool {
        upstreams[server]?.capabilities?["resources"]?["subscribe"]?.bool == true
    }

    /// The resources the client wants to hear about on `server`, in either era.
    func wantedURIs(_ server: String) -> Set<String> {
        var s = Set(subscribed.filter { $0.value == server }.keys)
        for l in listens.values { for (uri, owner) in l.uris where owner == server { s.insert(uri) } }
        return s
    }

    /// Brings the gateway's own subscription on `server` in line with what the client wants.
    /// Modern: one `subscriptions/listen` for tool changes (when declared), prompt and resource
    /// list changes (when declared and the agent reaches them) and the wanted resources; a new
    /// filter replaces the old subscription, which is cancelled. Older: `resources/subscribe`
    /// and `resources/unsubscribe` for the difference.
    mutating func syncSubscriptions(_ server: String) -> [Effect] {
        guard let u = upstreams[server], u.state == .ready else { return [] }
        let wanted = wantedURIs(server)
        guard u.revision.isModern else {
            guard offersSubscriptions(server) else { return [] }
            var out: [Effect] = []
            for uri in wanted.subtracting(u.subscribedURIs).sorted() {
                out.append(send(server, "resources/subscribe", ["uri": .string(uri)], .subscription(uri: uri)))
            }
            for uri in u.subscribedURIs.subtracting(wanted).sorted() {
                out.append(send(server, "resources/unsubscribe", ["uri": .string(uri)], .subscription(uri: uri)))
            }
            upstreams[server]?.subscribedURIs = wanted
            return out
        }
        guard !u.listenRefused else { return [] }
        let caps = u.capabilities
        var filter: [String: JSONValue] = [:]
        if u.declaresListChanged { filter["toolsListChanged"] = true }
        if caps?["prompts"]?["listChanged"]?.bool == true, agentReaches(.prompts, server: server) { filter["promptsListChanged"] = true }
        if caps?["resources"]?["listChanged"]?.bool == true, agentReaches(.resources, server: server) { filter["resourcesListChanged"] = true }
        if !wanted.isEmpty, offersSubscriptions(server) { filter["resourceSubscriptions"] = .array(wanted.sorted().map { .string($0) }) }
        let f = JSONValue.object(filter)
        if u.listenID != nil, u.listenFilter == f { return [] }
        var out: [Effect] = []
        if let old = u.listenID {
            out.append(.toUpstream(server: server, .notification(method: "notifications/cancelled",
                                                                 params: ["requestId": .int(Int64(old)), "reason": "the subscription's filter changed"])))
            upstreams[server]?.listenID = nil
            upstreams[server]?.listenFilter = nil
        }
        guard !filter.isEmpty else { return out }
        let id = nextID + 1
        out.append(send(server, "subscriptions/listen", ["notifications": f, "_meta": Revision.modernMeta(clientName: options.serverName)], .listen(id)))
        upstreams[server]?.listenID = id
        upstreams[server]?.listenFilter = f
        return out
    }

    /// A notice from an upstream about its prompts or resources, passed to the client where its
    /// policy and its subscriptions say it may hear it.
    func upstreamEvent(_ server: String, _ method: String, _ params: JSONValue?) -> [Effect] {
        func toListens(_ which: (Listen) -> Bool, _ extra: [String: JSONValue] = [:]) -> [Effect] {
            guard let client else { return [] }
            guard client.isModern else { return [.toClient(.notification(method: method, params: extra.isEmpty ? nil : .object(extra)))] }
            return listens.filter { which($0.value) }.keys.sorted { $0.canonical < $1.canonical }.map { id in
                var p = extra
                p["_meta"] = [Revision.Meta.subscriptionID: id]
                return .toClient(.notification(method: method, params: .object(p)))
            }
        }
        switch method {
        case "notifications/prompts/list_changed" where agentReaches(.prompts, server: server):
            return toListens { $0.prompts }
        case "notifications/resources/list_changed" where agentReaches(.resources, server: server):
            return toListens { $0.resources }
        case "notifications/resources/updated":
            guard let uri = params?["uri"]?.string, case .success(let owner) = Policy.resource(agent: agent, uri: uri), owner == server else { return [] }
            if !(client?.isModern ?? false) {
                return subscribed[uri] == server ? [.toClient(.notification(method: method, params: ["uri": .string(uri)]))] : []
            }
            return toListens({ $0.uris[uri] == server }, ["uri": .string(uri)])
        default:
            return []
        }
    }
}
