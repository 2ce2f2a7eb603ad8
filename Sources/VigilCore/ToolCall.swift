/// One tool call an AI agent made through the MCP gateway, as its audit log records it: the
/// agent is an entity like a device ("agent:NAME"), and what it calls, in what order, with what
/// shape of arguments, how often and when, is its pattern of life.
public struct ToolCall: Hashable, Sendable, Codable {
    public var time: Timestamp
    public var agent: String
    public var server: String
    public var tool: String
    /// The gateway's decision: allow, deny or hold.
    public var decision: String
    /// The arguments' shape, not their values: for each argument its kind, size class and, for
    /// paths, URLs and addresses, where they point ("path:/srv/repo", "url:docs.example.org").
    public var shape: [String: String]

    public init(time: Timestamp, agent: String, server: String, tool: String, decision: String, shape: [String: String] = [:]) {
        self.time = time; self.agent = agent; self.server = server; self.tool = tool
        self.decision = decision; self.shape = shape
    }

    /// The entity name breaches and incidents use for an agent.
    public var entity: String { "agent:" + agent }

    /// The shape as one comparable string ("repo_path=path:/srv/repo;max_count=number").
    public var shapeKey: String { shape.keys.sorted().map { "\($0)=\(shape[$0]!)" }.joined(separator: ";") }
}
