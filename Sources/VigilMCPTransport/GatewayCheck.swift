import Foundation
import VigilMCP

/// `vigil mcp proxy --config F --check`: everything the gateway would refuse to start on, checked
/// without starting it or touching a file: the policy (already parsed), the lockfile and its
/// signature, the audit key and the audit log's last line, the issuer's key set. Each line says
/// what was found; the first problem throws, naming its file or key.
public enum GatewayCheck {
    public static func run(_ config: GatewayConfig, now: Double = Date().timeIntervalSince1970) throws -> [String] {
        var lines: [String] = []
        lines.append("\(config.servers.count) server(s): " + config.servers.values.sorted { $0.name < $1.name }
            .map { "\($0.name) (\($0.url != nil ? "http" : "stdio")\($0.labels.isEmpty ? "" : ", " + $0.labels.map(\.rawValue).sorted().joined(separator: "/")))" }
            .joined(separator: ", "))
        let agents = config.agents.values.sorted { $0.name < $1.name }
        lines.append("\(agents.count) agent(s): " + agents.map { a in
            let how = [a.tokenSHA256.isEmpty ? nil : "token", a.subject.map { "subject \($0)" }].compactMap { $0 }.joined(separator: " or ")
            return "\(a.name) (\(how); \(a.rules.count) rule(s)\(a.approval.isEmpty ? "" : ", approval for \(a.approval.sorted().joined(separator: "/"))"); input: \(a.input.map(\.rawValue).sorted().joined(separator: "/")))"
        }.joined(separator: ", "))
        if let l = try GatewaySetup.lockfile(config), let path = config.lockfile {
            let prompts = l.pins.filter { $0.tool.hasPrefix("prompt:") }.count
            lines.append("lockfile \(path): \(l.pins.count - prompts) pinned tool(s)\(prompts > 0 ? " and \(prompts) prompt(s)" : ""), signature verified")
        } else {
            lines.append("no lockfile: each tool's first definition in a session is its pin")
        }
        if let (log, _) = try GatewaySetup.auditKey(config), let key = config.auditKey {
            if let last = try AuditFile.lastEntry(log) {
                lines.append("audit log \(log): continues after entry \(last.sequence), signed with \(key)")
            } else {
                lines.append("audit log \(log): new, signed with \(key)")
            }
        } else {
            lines.append("no audit log (calls are not recorded)")
        }
        if let o = config.oauth {
            var how: [String] = []
            if let jwks = o.jwks { how.append("\(try IssuerKeys(settings: o, source: jwks, now: now).count) signing key(s) from \(jwks)") }
            if let i = o.introspection {
                _ = try TokenIntrospection(settings: o, introspection: i)
                how.append("introspection at \(i.url) as \(i.clientID)")
            }
            lines.append("oauth: tokens from \(o.issuer) (\(how.joined(separator: "; ")))" + (o.scope.map { ", scope \($0)" } ?? "")
                         + ", audience \(o.audience ?? "this gateway's URL"), agents by \(o.agentClaim)")
        }
        return lines
    }
}
