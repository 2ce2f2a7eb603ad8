/// The core's error: what went wrong, where (file, byte offset or line, field), and what to do.
public struct VigilError: Error, Hashable, Sendable, CustomStringConvertible {
    private enum Code: Hashable, Sendable {
        case badInput, io, corruptStore, foreignStore, unsupported, usage
    }
    private let code: Code
    public let message: String
    public let file: String?
    public let offset: Int64?
    public let line: Int?
    public let field: String?

    private init(_ code: Code, _ message: String, file: String?, offset: Int64?, line: Int?, field: String?) {
        self.code = code; self.message = message; self.file = file; self.offset = offset
        self.line = line; self.field = field
    }

    public static func badInput(_ message: String, file: String? = nil, offset: Int64? = nil,
                                line: Int? = nil, field: String? = nil) -> VigilError {
        VigilError(.badInput, message, file: file, offset: offset, line: line, field: field)
    }
    public static func io(_ message: String, file: String? = nil) -> VigilError {
        VigilError(.io, message, file: file, offset: nil, line: nil, field: nil)
    }
    public static func corruptStore(_ message: String, file: String) -> VigilError {
        VigilError(.corruptStore, message, file: file, offset: nil, line: nil, field: nil)
    }
    public static func foreignStore(_ message: String, file: String) -> VigilError {
        VigilError(.foreignStore, message, file: file, offset: nil, line: nil, field: nil)
    }
    public static func unsupported(_ message: String, file: String? = nil) -> VigilError {
        VigilError(.unsupported, message, file: file, offset: nil, line: nil, field: nil)
    }
    public static func usage(_ message: String) -> VigilError {
        VigilError(.usage, message, file: nil, offset: nil, line: nil, field: nil)
    }

    public var isBadInput: Bool { code == .badInput }
    public var isCorruptStore: Bool { code == .corruptStore }
    public var isForeignStore: Bool { code == .foreignStore }

    public var description: String {
        var place: [String] = []
        if let file { place.append(file) }
        if let line { place.append("line \(line)") }
        if let offset { place.append("offset \(offset)") }
        if let field { place.append("field \(field)") }
        return place.isEmpty ? message : place.joined(separator: ", ") + ": " + message
    }
}
