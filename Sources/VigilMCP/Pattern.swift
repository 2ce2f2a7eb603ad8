import CPCRE2

/// A regular expression compiled once by PCRE2 (Debian's libpcre2, JIT-compiled where the CPU
/// allows) and matched on a string's UTF-8 bytes. Policy patterns and the content checks use it:
/// ICU through NSRegularExpression cost tens of microseconds per call at the gateway (bridging to
/// UTF-16 and cloning a matcher), PCRE2 well under one. Perl syntax; Unicode-aware `\w`, `\b`, `\d`
/// and case folding. A compiled pattern is read-only and shared between threads (PCRE2 allows it);
/// each match has its own match data.
public final class Pattern: @unchecked Sendable {
    public let source: String
    private let code: OpaquePointer
    private let jit: Bool

    /// Compiles `source`; `whole` makes a match span the entire subject (nothing before or after it,
    /// not even a final newline); `caseless` folds case. Throws the reason and byte offset.
    public init(_ source: String, caseless: Bool = false, whole: Bool = false) throws {
        var options = vigil_pcre2_utf()
        if caseless { options |= vigil_pcre2_caseless() }
        if whole { options |= vigil_pcre2_whole() }
        var error: Int32 = 0, offset = 0
        var s = source
        let code = s.withUTF8 { vigil_pcre2_compile($0.baseAddress, $0.count, options, &error, &offset) }
        guard let code else {
            var buf = [UInt8](repeating: 0, count: 256)
            let n = vigil_pcre2_error(error, &buf, buf.count)
            throw PatternError(reason: String(decoding: buf.prefix(max(0, Int(n))), as: UTF8.self), offset: offset)
        }
        self.source = source
        self.code = code
        jit = vigil_pcre2_jit(code) == 0
    }

    deinit { vigil_pcre2_free(code) }

    public struct PatternError: Error, CustomStringConvertible {
        public let reason: String
        public let offset: Int
        public var description: String { "\(reason) at byte \(offset)" }
    }

    /// What one search found: a byte range of the subject, nothing, or that the engine gave up
    /// (a resource limit); callers decide what giving up means (a policy denies, a check alerts).
    public enum Match: Equatable { case found(Range<Int>), none, failed }

    /// The first match at or after byte `start`.
    public func firstMatch(in s: String, from start: Int = 0) -> Match {
        var text = s
        return text.withUTF8 { u in
            var from = 0, to = 0
            var rc = vigil_pcre2_match(code, u.baseAddress, u.count, start, jit ? 1 : 0, &from, &to)
            // The JIT's stack is small; the interpreter keeps its frames on the heap.
            if rc < 0 && jit { rc = vigil_pcre2_match(code, u.baseAddress, u.count, start, 0, &from, &to) }
            switch rc {
            case 1: return .found(from..<to)
            case 0: return .none
            default: return .failed
            }
        }
    }

    /// Whether it matches anywhere (or, for a `whole` pattern, the whole string); `ifFailed` is the
    /// answer when the engine gives up.
    public func matches(_ s: String, ifFailed: Bool) -> Bool {
        switch firstMatch(in: s) {
        case .found: return true
        case .none: return false
        case .failed: return ifFailed
        }
    }
}
