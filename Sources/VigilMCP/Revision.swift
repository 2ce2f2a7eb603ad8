/// The two MCP eras the gateway speaks on both sides.
/// - handshake era (2024-11-05 .. 2025-11-25): `initialize`, then `notifications/initialized`;
/// - modern (2026-07-28): no handshake; every request carries its version and the client's
///   identity in `_meta`; `server/discover` replaces `initialize`; results carry `resultType`.
public enum Revision: Hashable, Sendable {
    case handshake(String)
    case modern(String)

    public static let handshakeVersions = ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"]
    public static let modernVersions = ["2026-07-28"]
    public static let latestHandshake = "2025-11-25"
    public static let latestModern = "2026-07-28"

    public enum Meta {
        public static let protocolVersion = "io.modelcontextprotocol/protocolVersion"
        public static let clientInfo = "io.modelcontextprotocol/clientInfo"
        public static let clientCapabilities = "io.modelcontextprotocol/clientCapabilities"
        public static let serverInfo = "io.modelcontextprotocol/serverInfo"
        /// On every message of a `subscriptions/listen` stream: the listen request's id.
        public static let subscriptionID = "io.modelcontextprotocol/subscriptionId"
    }

    public var version: String {
        switch self { case .handshake(let v), .modern(let v): return v }
    }
    public var isModern: Bool { if case .modern = self { return true }; return false }

    /// The version a modern request names in `params._meta`, if any.
    public static func modernVersion(in params: JSONValue?) -> String? {
        params?["_meta"]?[Meta.protocolVersion]?.string
    }

    /// The capabilities a modern request's client declares in `params._meta`, if any.
    public static func modernCapabilities(in params: JSONValue?) -> JSONValue? {
        params?["_meta"]?[Meta.clientCapabilities]
    }

    /// The `_meta` a modern request from the gateway carries.
    public static func modernMeta(clientName: String) -> JSONValue {
        [Meta.protocolVersion: .string(latestModern),
         Meta.clientInfo: ["name": .string(clientName), "version": "0.1.0"],
         Meta.clientCapabilities: [:]]
    }

    /// A request's params with the gateway's own `_meta` for this revision (what an upstream sees;
    /// the client's `_meta` is never passed on, it may carry the client's identity).
    public func upstreamParams(_ params: JSONValue?, clientName: String) -> JSONValue? {
        var o = params?.object ?? [:]
        o["_meta"] = nil
        if isModern { o["_meta"] = Revision.modernMeta(clientName: clientName) }
        if o.isEmpty && !isModern { return params == nil ? nil : .object([:]) }
        return .object(o)
    }
}
