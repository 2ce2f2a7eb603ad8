import Foundation
import VigilCapture
import VigilCore
import VigilMCP

/// Follows the MCP gateway's audit log as the gateway appends to it: each poll gives the new
/// tool calls (for the agent learner) and the gateway's findings (as alerts for the analyst).
/// With the gateway's public key every new line is checked against the hash chain and its
/// signature; at the first line that breaks the chain reading stops, and `broken` says where.
final class AgentAuditFollower {
    private var tail: LineTail
    private let key: [UInt8]?
    private var previous = AuditChain.genesis
    private var entries = 0
    private(set) var broken: String?
    private(set) var records = 0
    let name: String

    init(path: String, key: [UInt8]?) {
        tail = LineTail(path: path)
        self.key = key
        name = (path as NSString).lastPathComponent
    }

    /// The new tool calls and findings, and the lines that are not audit entries (file and
    /// line named; the rest is read).
    func poll() -> (calls: [ToolCall], alerts: [Alert], problems: [String]) {
        guard broken == nil else { return ([], [], []) }
        var lines: [Substring] = [], firstLine = 0
        tail.poll(restarted: { previous = AuditChain.genesis; entries = 0 }) { line, number in
            if lines.isEmpty { firstLine = number }
            lines.append(Substring(String(decoding: line, as: UTF8.self)))
        }
        guard !lines.isEmpty else { return ([], [], []) }
        if let key {
            let v = AuditChain.verify(lines: lines, publicKey: key, previous: previous, count: entries)
            if let bad = v.firstBad {
                broken = "\(tail.path): line \(bad.line): \(bad.reason); later lines are not read"
                lines = Array(lines.prefix(max(0, bad.line - entries - 1)))
            }
            previous = v.lastHash
            entries = v.entries
        }
        var r = AuditRecords()
        r.read(lines: lines, file: name)
        records += r.calls.count + r.alerts.count
        return (r.calls, r.alerts, r.problems.map { "\(tail.path): line \(firstLine + $0.line - 1): \($0.reason)" })
    }
}
