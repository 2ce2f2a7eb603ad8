import Foundation
import VigilCore

/// The lethal trifecta, tracked by value within one session: private data read by a tool,
/// untrusted content arrived, and then an outbound call whose arguments carry that private data
/// (as is, percent-encoded or base64). Memory is bounded per session.
public struct DataFlowTracker: Sendable {
    /// Length of the text windows compared; shorter shared runs are coincidence.
    public static let window = 20
    /// Most windows and tokens remembered per session (oldest forgotten first).
    public var capacity = 200_000

    private var hashes = Set<UInt64>()
    private var order: [UInt64] = []
    private var head = 0
    public private(set) var untrustedFrom: String?
    public private(set) var privateFrom: String?

    public init() {}

    /// Records what a tool returned, by the tool's labels.
    public mutating func recordResult(_ result: JSONValue, labels: Set<DataLabel>, tool: String) {
        if labels.contains(.untrusted), untrustedFrom == nil { untrustedFrom = tool }
        guard labels.contains(.private) else { return }
        if privateFrom == nil { privateFrom = tool }
        result.forEachString { s in
            Self.forEachPiece(of: s) { insert($0) }
        }
    }

    /// A finding when an outbound call carries private data: critical after untrusted content
    /// arrived in the session (the trifecta), low otherwise (the user may have asked for it).
    public func check(arguments: JSONValue, labels: Set<DataLabel>, tool: String) -> Finding? {
        guard labels.contains(.outbound), !hashes.isEmpty else { return nil }
        var carried = 0
        arguments.forEachString { s in
            for form in Self.decodedForms(s) {
                Self.forEachPiece(of: form) { if hashes.contains($0) { carried += 1 } }
            }
        }
        guard carried > 0 else { return nil }
        let from = privateFrom ?? "a private source"
        if let untrusted = untrustedFrom {
            return Finding(.trifecta, .critical, channel: "arguments",
                           "\(tool) would send data read by \(from) out, after untrusted content arrived from \(untrusted)")
        }
        return Finding(.trifecta, .low, channel: "arguments", "\(tool) sends data read by \(from) out")
    }

    private mutating func insert(_ h: UInt64) {
        guard hashes.insert(h).inserted else { return }
        if order.count < capacity { order.append(h); return }
        hashes.remove(order[head])
        order[head] = h
        head = (head + 1) % capacity
    }

    /// Every window of `window` bytes of the whitespace-collapsed text, and every token of 12 or
    /// more characters (keys, hashes, ids) even when shorter than a window.
    static func forEachPiece(of s: String, _ body: (UInt64) -> Void) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(s.utf8.count)
        var lastSpace = true
        for b in s.utf8 {
            let space = b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09
            if space { if !lastSpace { bytes.append(0x20) }; lastSpace = true } else { bytes.append(b); lastSpace = false }
        }
        if bytes.count >= window {
            for i in 0...(bytes.count - window) { body(FNV1a.hash(bytes[i..<(i + window)])) }
        }
        var start = 0
        for i in 0...bytes.count {
            let boundary = i == bytes.count || !isTokenByte(bytes[i])
            if boundary {
                if i - start >= 12 && i - start < window { body(FNV1a.hash(bytes[start..<i]) ^ 0x9E37_79B9_7F4A_7C15) }
                start = i + 1
            }
        }
    }

    static func isTokenByte(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2D || b == 0x5F || b >= 0x80
    }

    /// The string, and what it decodes to as percent-encoding and as base64 (the usual wrappings
    /// of data smuggled into a URL or a body).
    static func decodedForms(_ s: String) -> [String] {
        var out = [s]
        if s.contains("%"), let p = s.removingPercentEncoding, p != s { out.append(p) }
        for token in s.split(whereSeparator: { !($0.isLetter || $0.isNumber || "+/=-_".contains($0)) }) where token.count >= 16 {
            if let bytes = ByteText.base64(token), let text = String(bytes: bytes, encoding: .utf8) { out.append(text) }
        }
        return out
    }
}
