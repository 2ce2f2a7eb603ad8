import Foundation

/// Text work on bytes, shared by the content checks: substring search (Foundation's
/// `String.contains` cost more than the expressions it guarded) and base64 payloads.
enum ByteText {
    /// Whether `needle`'s UTF-8 occurs in `haystack`.
    static func contains(_ haystack: [UInt8], _ needle: String) -> Bool {
        var n = needle
        return n.withUTF8 { k in haystack.withUnsafeBufferPointer { h in contains(h, k) } }
    }

    static func contains(_ h: UnsafeBufferPointer<UInt8>, _ k: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let first = k.first, k.count <= h.count else { return k.isEmpty }
        var i = 0
        let last = h.count - k.count
        while i <= last {
            if h[i] == first {
                var j = 1
                while j < k.count && h[i + j] == k[j] { j += 1 }
                if j == k.count { return true }
            }
            i += 1
        }
        return false
    }

    /// A token read as base64, standard or URL-safe, padded or not; nil when it is not.
    static func base64(_ token: Substring) -> [UInt8]? {
        var b = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while b.count % 4 != 0 { b += "=" }
        return Data(base64Encoded: b).map { [UInt8]($0) }
    }
}
