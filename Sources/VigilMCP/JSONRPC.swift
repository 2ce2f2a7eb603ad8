/// A JSON-RPC 2.0 message as MCP frames it (one per stdio line, or one per HTTP body).
public enum RPCMessage: Hashable, Sendable {
    case request(id: JSONValue, method: String, params: JSONValue?)
    case notification(method: String, params: JSONValue?)
    case result(id: JSONValue, result: JSONValue)
    case error(id: JSONValue, code: Int, message: String, data: JSONValue?)

    /// JSON-RPC's own error codes and MCP's.
    public enum Code {
        public static let parseError = -32700
        public static let invalidRequest = -32600
        public static let methodNotFound = -32601
        public static let invalidParams = -32602
        public static let internalError = -32603
        /// 2026-07-28: the request's protocol version is not one this side speaks.
        public static let unsupportedVersion = -32022
        /// 2026-07-28: an HTTP header disagrees with the body.
        public static let headerMismatch = -32020
        /// Vigil: refused by the gateway's policy (server-defined range -32000 to -32099).
        public static let denied = -32001
        /// Vigil: held until a person approves it.
        public static let heldForApproval = -32002
    }

    /// Reads one message. A batch (array) is refused: MCP since 2025-06-18 does not carry batches.
    public static func parse(_ line: String) throws -> RPCMessage {
        try decode(try JSONValue.parse(line))
    }

    public static func decode(_ v: JSONValue) throws -> RPCMessage {
        guard case .object(let o) = v else {
            if case .array = v { throw MCPError.invalid("JSON-RPC batches are not part of MCP") }
            throw MCPError.invalid("a JSON-RPC message is an object")
        }
        guard o["jsonrpc"] == "2.0" else { throw MCPError.invalid("jsonrpc must be \"2.0\"", place: "jsonrpc") }
        let id = o["id"]
        if let id {
            switch id {
            case .string, .int: break
            case .double(let d) where d == d.rounded(): break
            default: throw MCPError.invalid("id must be a string or an integer", place: "id")
            }
        }
        let params = o["params"]
        if let params {
            switch params { case .object, .array: break
            default: throw MCPError.invalid("params must be an object or an array", place: "params") }
        }
        if let m = o["method"] {
            guard let method = m.string, !method.isEmpty else { throw MCPError.invalid("method must be a string", place: "method") }
            if let id { return .request(id: id, method: method, params: params) }
            return .notification(method: method, params: params)
        }
        guard let id else { throw MCPError.invalid("a message needs a method or an id", place: "id") }
        if let r = o["result"] { return .result(id: id, result: r) }
        if let e = o["error"]?.object {
            guard let code = e["code"]?.int else { throw MCPError.invalid("error.code must be an integer", place: "error.code") }
            return .error(id: id, code: Int(code), message: e["message"]?.string ?? "", data: e["data"])
        }
        throw MCPError.invalid("a response needs a result or an error", place: "result")
    }

    public var json: JSONValue {
        switch self {
        case .request(let id, let method, let params):
            var o: [String: JSONValue] = ["jsonrpc": "2.0", "id": id, "method": .string(method)]
            if let params { o["params"] = params }
            return .object(o)
        case .notification(let method, let params):
            var o: [String: JSONValue] = ["jsonrpc": "2.0", "method": .string(method)]
            if let params { o["params"] = params }
            return .object(o)
        case .result(let id, let result):
            return ["jsonrpc": "2.0", "id": id, "result": result]
        case .error(let id, let code, let message, let data):
            var e: [String: JSONValue] = ["code": .int(Int64(code)), "message": .string(message)]
            if let data { e["data"] = data }
            return ["jsonrpc": "2.0", "id": id, "error": .object(e)]
        }
    }

    /// The line to write (no embedded newline).
    public var line: String { json.canonical }
    /// The message as a stdio line: canonical bytes and a newline.
    public var lineBytes: [UInt8] { json.canonicalBytes(terminator: 0x0A) }

    public var method: String? {
        switch self {
        case .request(_, let m, _), .notification(let m, _): return m
        default: return nil
        }
    }

    public var params: JSONValue? {
        switch self {
        case .request(_, _, let p), .notification(_, let p): return p
        default: return nil
        }
    }

    /// The id of a request (nil for anything else).
    public var requestID: JSONValue? {
        if case .request(let i, _, _) = self { return i }
        return nil
    }
}
