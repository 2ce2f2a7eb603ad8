/// The MCP module's error: what was wrong with a message, a policy, a lockfile or a log, and where.
public struct MCPError: Error, Hashable, Sendable, CustomStringConvertible {
    private enum Code: Hashable, Sendable { case parse, invalid, policy, lockfile, audit, crypto }
    private let code: Code
    public let message: String
    public let place: String?

    private init(_ code: Code, _ message: String, place: String?) {
        self.code = code; self.message = message; self.place = place
    }
    public static func parse(_ m: String, place: String? = nil) -> MCPError { MCPError(.parse, m, place: place) }
    public static func invalid(_ m: String, place: String? = nil) -> MCPError { MCPError(.invalid, m, place: place) }
    public static func policy(_ m: String, place: String? = nil) -> MCPError { MCPError(.policy, m, place: place) }
    public static func lockfile(_ m: String, place: String? = nil) -> MCPError { MCPError(.lockfile, m, place: place) }
    public static func audit(_ m: String, place: String? = nil) -> MCPError { MCPError(.audit, m, place: place) }
    public static func crypto(_ m: String) -> MCPError { MCPError(.crypto, m, place: nil) }

    public var isParse: Bool { code == .parse }
    public var description: String { place.map { "\($0): \(message)" } ?? message }
}
