/// The approved tool and prompt definitions: one pin per server and tool (a prompt's under
/// `prompt:NAME`; a tool's name cannot hold a colon), the SHA-256 of the canonical definition,
/// signed with Ed25519. The CI scanner writes and checks it; the gateway enforces it.
public struct Lockfile: Sendable, Hashable {
    public struct Pin: Sendable, Hashable {
        public var server: String
        public var tool: String
        public var sha256: String
        /// The definition as approved, so a changed one can be shown beside it.
        public var definition: JSONValue
        public init(server: String, tool: String, sha256: String, definition: JSONValue) {
            self.server = server; self.tool = tool; self.sha256 = sha256; self.definition = definition
        }
        /// The pin of a definition as listed now, kept under `key` (a tool's name or `prompt:NAME`).
        public init(server: String, key: String, listed: JSONValue) {
            self.init(server: server, tool: key, sha256: Lockfile.hash(listed, key: key), definition: Lockfile.pinned(listed, key: key))
        }
    }
    public var pins: [Pin]
    public var signedBy: String?
    public var signature: String?

    public init(pins: [Pin]) {
        self.pins = pins.sorted { ($0.server, $0.tool) < ($1.server, $1.tool) }
    }

    public func pin(server: String, tool: String) -> Pin? {
        pins.first { $0.server == server && $0.tool == tool }
    }

    /// What a pin covers: name, title, description, input and output schema and annotations;
    /// not `_meta` or cache hints, which change without the tool changing.
    public static func pinnedDefinition(_ tool: JSONValue) -> JSONValue {
        select(tool, ["name", "title", "description", "inputSchema", "outputSchema", "annotations"])
    }
    private static func select(_ definition: JSONValue, _ fields: [String]) -> JSONValue {
        var o: [String: JSONValue] = [:]
        for k in fields { if let v = definition[k] { o[k] = v } }
        return .object(o)
    }
    public static func hash(_ tool: JSONValue) -> String { Sodium.sha256Hex(pinnedDefinition(tool).canonical) }

    /// The key a prompt's pin is kept under.
    public static func promptKey(_ name: String) -> String { "prompt:" + name }
    /// What a prompt's pin covers: its name, title, description and arguments.
    public static func pinnedPrompt(_ prompt: JSONValue) -> JSONValue { select(prompt, ["name", "title", "description", "arguments"]) }
    /// The pinned part of the definition kept under `key` (a tool's or a prompt's), and its hash.
    public static func pinned(_ definition: JSONValue, key: String) -> JSONValue {
        key.hasPrefix("prompt:") ? pinnedPrompt(definition) : pinnedDefinition(definition)
    }
    public static func hash(_ definition: JSONValue, key: String) -> String { Sodium.sha256Hex(pinned(definition, key: key).canonical) }

    /// How a listed definition stands against its pin.
    public func status(server: String, key: String, definition: JSONValue) -> PinStatus {
        guard let pin = pin(server: server, tool: key) else { return .unpinned }
        return Lockfile.hash(definition, key: key) == pin.sha256 ? .pinned : .changed(was: pin.definition)
    }

    /// The bytes the signature covers: the pins in canonical JSON.
    public var signedBody: String {
        JSONValue.array(pins.map { ["server": .string($0.server), "tool": .string($0.tool), "sha256": .string($0.sha256)] }).canonical
    }

    public mutating func sign(secretKey: [UInt8]) throws {
        let sig = try Sodium.sign(Array(signedBody.utf8), secretKey: secretKey)
        signedBy = Sodium.base64(try Sodium.publicKey(ofSecret: secretKey))
        signature = Sodium.base64(sig)
    }

    /// Throws unless signed by one of the trusted keys and every pin matches its definition.
    public func verify(trustedKeys: [String], file: String) throws {
        guard let signedBy, let signature, let sig = Sodium.fromBase64(signature), let pk = Sodium.fromBase64(signedBy) else {
            throw MCPError.lockfile("not signed (vigil mcp lock --key signs it)", place: file)
        }
        guard trustedKeys.contains(where: { Sodium.fromBase64($0) == pk }) else {
            throw MCPError.lockfile("signed by \(signedBy), which is not a trusted key", place: file)
        }
        guard Sodium.verify(sig, Array(signedBody.utf8), publicKey: pk) else {
            throw MCPError.lockfile("the signature does not match the pins: the file was changed after signing", place: file)
        }
        for p in pins where Lockfile.hash(p.definition, key: p.tool) != p.sha256 {
            throw MCPError.lockfile("the definition kept for \(p.server)/\(p.tool) does not match its pin", place: file)
        }
    }

    public var json: JSONValue {
        var o: [String: JSONValue] = [
            "vigil_mcp_lock": 1,
            "pins": .array(pins.map { ["server": .string($0.server), "tool": .string($0.tool),
                                      "sha256": .string($0.sha256), "definition": $0.definition] }),
        ]
        if let signedBy { o["signed_by"] = .string(signedBy) }
        if let signature { o["signature"] = .string(signature) }
        return .object(o)
    }

    public static func parse(_ text: String, file: String) throws -> Lockfile {
        let v: JSONValue
        do { v = try JSONValue.parse(text) } catch let e as MCPError { throw MCPError.lockfile(e.message, place: file) }
        guard v["vigil_mcp_lock"]?.int == 1, let pins = v["pins"]?.array else {
            throw MCPError.lockfile("not a Vigil MCP lockfile (vigil_mcp_lock: 1 and pins expected)", place: file)
        }
        var out: [Pin] = []
        for (i, p) in pins.enumerated() {
            guard let s = p["server"]?.string, let t = p["tool"]?.string, let h = p["sha256"]?.string, let d = p["definition"] else {
                throw MCPError.lockfile("pin needs server, tool, sha256 and definition", place: "\(file): pins[\(i)]")
            }
            out.append(Pin(server: s, tool: t, sha256: h, definition: d))
        }
        var lock = Lockfile(pins: out)
        lock.signedBy = v["signed_by"]?.string
        lock.signature = v["signature"]?.string
        return lock
    }
}

/// How a listed tool or prompt stands against the lockfile.
public enum PinStatus: Hashable, Sendable {
    case pinned
    case unpinned
    case changed(was: JSONValue)

    /// The finding a listed definition earns against its pin (nil when it matches). `label`
    /// names it ("docs/greet", "the prompt docs/summarize"); `held` says the gateway holds an
    /// unpinned one back.
    public func finding(_ label: String, now: JSONValue, key: String, channel: String, held: Bool) -> Finding? {
        switch self {
        case .pinned: return nil
        case .unpinned:
            return Finding(.unpinnedTool, .medium, channel: channel, "\(label) is not in the lockfile" + (held ? "; held until it is approved (vigil mcp lock)" : ""))
        case .changed(let was):
            return Finding(.rugPull, .critical, channel: channel, "\(label) changed since it was pinned: \(Gateway.describeChange(from: was, to: now, key: key))")
        }
    }
}
