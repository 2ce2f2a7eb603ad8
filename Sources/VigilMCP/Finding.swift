/// One thing the gateway noticed: what kind, how bad, and the words a person reads.
public struct Finding: Hashable, Sendable {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        case hiddenInstruction = "hidden-instruction"
        case invisibleText = "invisible-text"
        case terminalEscape = "terminal-escape"
        case secret
        case personalData = "personal-data"
        case trifecta = "lethal-trifecta"
        case rugPull = "rug-pull"
        case unpinnedTool = "unpinned-tool"
        case nameCollision = "name-collision"
        case undeclaredListChanged = "undeclared-list-changed"
        case policyDenied = "policy-denied"
        case rateLimited = "rate-limited"
        case protocolViolation = "protocol-violation"
    }
    public enum Severity: Int, Sendable, Hashable, Comparable, CaseIterable {
        case info = 0, low, medium, high, critical
        public static func < (a: Severity, b: Severity) -> Bool { a.rawValue < b.rawValue }
        public var name: String { ["info", "low", "medium", "high", "critical"][rawValue] }
    }
    public var kind: Kind
    public var severity: Severity
    /// The channel it was found in: `tool-description`, `tool-result`, `arguments`, `tools/list` ...
    public var channel: String
    public var detail: String

    public init(_ kind: Kind, _ severity: Severity, channel: String, _ detail: String) {
        self.kind = kind; self.severity = severity; self.channel = channel; self.detail = detail
    }

    public var json: JSONValue {
        ["kind": .string(kind.rawValue), "severity": .string(severity.name), "channel": .string(channel), "detail": .string(detail)]
    }
}
