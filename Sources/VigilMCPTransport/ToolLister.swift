import Foundation
import VigilMCP

/// Starts one stdio MCP server in a sandbox, asks it for its tools the way a client would
/// (`server/discover`, falling back to `initialize`), and stops it. What `vigil mcp scan` and
/// `vigil mcp lock` read. The sandbox for a command: no network (a fresh network namespace via
/// `unshare` when the kernel allows it), an empty working directory, and only the environment the
/// configuration names. A remote server (a URL) is asked over Streamable HTTP.
public enum ToolLister {
    public struct Listing: Sendable {
        public var server: String
        public var revision: String
        public var declaresListChanged: Bool
        public var tools: [JSONValue]
        public var sandboxed: Bool
        /// Prompts, resources and resource templates, when the server offers them (what reaches
        /// the model besides tools, checked the same way).
        public var prompts: [JSONValue] = []
        public var resources: [JSONValue] = []
        public var templates: [JSONValue] = []
    }

    public static func list(_ server: GatewayConfig.Server, timeout: Double = 30, sandbox: Bool = true) throws -> Listing {
        var s = server
        let remote = server.url != nil
        let isolate = !remote && sandbox && canIsolateNetwork
        if isolate, let unshare = StdioUpstream.which("unshare") {
            s.command = [unshare, "-rn", "--"] + [StdioUpstream.which(s.command[0]) ?? s.command[0]] + s.command.dropFirst()
        }
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-scan-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        let up: any UpstreamConnection
        if remote {
            up = try HTTPUpstream(server: s, maxBody: 16 << 20)
        } else {
            let stdio = try StdioUpstream(server: s, maxLine: 16 << 20)
            stdio.process.currentDirectoryURL = work
            up = stdio
        }
        let box = Box()
        try up.start(onMessage: { line in box.put(line) }, onExit: { _ in box.end() })
        defer { up.stop() }

        func ask(_ id: Int, _ method: String, _ params: JSONValue) throws -> Result<JSONValue, MCPError> {
            up.send(RPCMessage.request(id: .int(Int64(id)), method: method, params: params))
            let deadline = Date().addingTimeInterval(timeout)
            while true {
                guard let line = box.take(until: deadline) else {
                    throw MCPError.invalid("no answer to \(method) within \(Int(timeout)) s (the server ended or hung)", place: "servers.\(server.name)")
                }
                guard let m = try? RPCMessage.parse(line) else { continue }
                switch m {
                case .result(let rid, let r) where rid.int == Int64(id): return .success(r)
                case .error(let rid, let code, let msg, _) where rid.int == Int64(id): return .failure(MCPError.invalid("\(code) \(msg)"))
                case .request(let rid, let method, _):
                    up.send(RPCMessage.error(id: rid, code: RPCMessage.Code.methodNotFound, message: "the scanner does not answer \(method)", data: nil))
                default: continue
                }
            }
        }
        let meta = Revision.modernMeta(clientName: "vigil-mcp-scan")
        var revision = Revision.latestModern
        var listChanged = false
        var capabilities: JSONValue?
        var listParams: [String: JSONValue] = ["_meta": meta]
        if case .success(let d) = try ask(1, "server/discover", ["_meta": meta]),
           d["supportedVersions"]?.array?.contains(.string(Revision.latestModern)) ?? false {
            listChanged = d["capabilities"]?["tools"]?["listChanged"]?.bool ?? false
            capabilities = d["capabilities"]
        } else {
            let r = try ask(2, "initialize", ["protocolVersion": .string(Revision.latestHandshake), "capabilities": [:],
                                              "clientInfo": ["name": "vigil-mcp-scan", "version": "0.1.0"]])
            guard case .success(let i) = r else {
                if case .failure(let e) = r { throw MCPError.invalid("initialize refused: \(e.message)", place: "servers.\(server.name)") }
                throw MCPError.invalid("initialize refused", place: "servers.\(server.name)")
            }
            revision = i["protocolVersion"]?.string ?? Revision.latestHandshake
            listChanged = i["capabilities"]?["tools"]?["listChanged"]?.bool ?? false
            capabilities = i["capabilities"]
            up.send(RPCMessage.notification(method: "notifications/initialized", params: nil))
            listParams = [:]
        }
        var id = 2
        /// Every page of one listing (within the gateway's bounds); nil when the server refuses it.
        func all(_ method: String, _ field: String) throws -> [JSONValue]? {
            var items: [JSONValue] = []
            var params = listParams
            for _ in 0..<Gateway.maxPages {
                id += 1
                guard case .success(let r) = try ask(id, method, .object(params)) else { return nil }
                items += r[field]?.array ?? []
                guard let c = r["nextCursor"]?.string, items.count < Gateway.maxListed else { return items }
                params["cursor"] = .string(c)
            }
            return items
        }
        guard let tools = try all("tools/list", "tools") else { throw MCPError.invalid("tools/list refused", place: "servers.\(server.name)") }
        var listing = Listing(server: server.name, revision: revision, declaresListChanged: listChanged, tools: tools, sandboxed: isolate)
        if capabilities?["prompts"] != nil { listing.prompts = try all("prompts/list", "prompts") ?? [] }
        if capabilities?["resources"] != nil {
            listing.resources = try all("resources/list", "resources") ?? []
            listing.templates = try all("resources/templates/list", "resourceTemplates") ?? []
        }
        return listing
    }

    /// Whether `unshare -rn` works here (user namespaces may be disabled).
    public static let canIsolateNetwork: Bool = {
        guard let u = StdioUpstream.which("unshare") else { return false }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: u)
        p.arguments = ["-rn", "true"]
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return false }
        p.waitUntilExit()
        return p.terminationStatus == 0
    }()

    /// Lines handed from the reader thread to the asking one.
    final class Box: @unchecked Sendable {
        private let cond = NSCondition()
        private var lines: [String] = []
        private var ended = false
        func put(_ l: String) { cond.lock(); lines.append(l); cond.signal(); cond.unlock() }
        func end() { cond.lock(); ended = true; cond.broadcast(); cond.unlock() }
        func take(until deadline: Date) -> String? {
            cond.lock(); defer { cond.unlock() }
            while lines.isEmpty {
                if ended || !cond.wait(until: deadline) { if lines.isEmpty { return nil } }
            }
            return lines.removeFirst()
        }
    }
}
