import VigilCore

/// The gateway's audit log read back for analysis: every call as a `ToolCall` for the learner,
/// every finding as an `Alert` for the analyst (source "vigil-mcp", on the entity "agent:NAME").
public struct AuditRecords: Sendable {
    public var calls: [ToolCall] = []
    public var alerts: [Alert] = []
    /// Lines that are not audit entries, by line number.
    public var problems: [(line: Int, reason: String)] = []

    public init() {}

    public mutating func read(lines: [Substring], file: String) {
        for (i, raw) in lines.enumerated() where !raw.isEmpty {
            guard let v = try? JSONValue.parse(String(raw)), let event = v["event"]?.string,
                  let agent = v["agent"]?.string, let t = v["time"] else {
                problems.append((i + 1, "not an audit entry (event, agent and time expected)"))
                continue
            }
            guard let seconds = t.number, let time = Timestamp(epochSeconds: seconds) else {
                problems.append((i + 1, "time is not epoch seconds between 1970 and 2255"))
                continue
            }
            switch event {
            case "call":
                guard let tool = v["tool"]?.string else { continue }
                var shape: [String: String] = [:]
                for (k, s) in v["shape"]?.object ?? [:] { if let s = s.string { shape[k] = s } }
                calls.append(ToolCall(time: time, agent: agent, server: v["server"]?.string ?? "", tool: tool,
                                      decision: v["decision"]?.string ?? "allow", shape: shape))
            case "alert":
                guard let f = v["finding"], let kind = f["kind"]?.string else { continue }
                let severity: Double = ["critical": 90, "high": 75, "medium": 55, "low": 30, "info": 10][f["severity"]?.string ?? ""] ?? 50
                let subject = [v["server"]?.string, v["tool"]?.string].compactMap { $0 }.joined(separator: "/")
                let seq = v["seq"]?.int.map(String.init) ?? "\(i + 1)"
                alerts.append(Alert(id: "\(file):\(seq)", source: "vigil-mcp", time: time,
                                    title: "MCP \(kind.replacingOccurrences(of: "-", with: " "))\(subject.isEmpty ? "" : " on \(subject)"): \(f["detail"]?.string ?? "")",
                                    category: kind, severity: severity, hosts: ["agent:" + agent],
                                    techniques: Self.techniques[kind] ?? [], raw: String(raw)))
            default:
                continue
            }
        }
    }

    /// ATT&CK techniques a gateway finding implies (prompt injection itself is ATLAS AML.T0051,
    /// which the ATT&CK table does not hold; the trifecta is exfiltration over a web service).
    static let techniques: [String: [String]] = [
        "lethal-trifecta": ["T1567"], "secret": ["T1552"], "personal-data": ["T1567"],
        "rug-pull": ["T1195"], "unpinned-tool": ["T1195"], "name-collision": ["T1036"],
    ]
}

extension AuditRecords {
    /// The audit entry the gateway writes for an allowed call, from a `ToolCall` (for simulated
    /// logs: the demo and the tests write what the gateway would).
    public static func entry(for c: ToolCall) -> [String: JSONValue] {
        ["event": "call", "agent": .string(c.agent), "server": .string(c.server), "tool": .string(c.tool),
         "decision": .string(c.decision), "outcome": "ok", "time": .double(Double(c.time.nanoseconds) / 1e9),
         "shape": .object(c.shape.mapValues { .string($0) })]
    }

    /// The audit entry of a gateway finding about an agent's call.
    public static func entry(finding f: Finding, agent: String, server: String, tool: String, time: Timestamp) -> [String: JSONValue] {
        ["event": "alert", "agent": .string(agent), "server": .string(server), "tool": .string(tool),
         "time": .double(Double(time.nanoseconds) / 1e9), "finding": f.json]
    }
}
