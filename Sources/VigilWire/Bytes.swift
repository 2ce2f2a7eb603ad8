#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Bounds-checked big-endian reads over a borrowed buffer. Every read that would run past
/// the end returns nil or zero-length, so nothing derived from a packet can trap.
extension UnsafeRawBufferPointer {
    @inline(__always) @inlinable func u8(_ at: Int) -> UInt8? {
        at >= 0 && at < count ? self[at] : nil
    }
    // One unaligned load and a byte swap each, after the bounds check.
    @inline(__always) @inlinable func u16(_ at: Int) -> UInt16? {
        guard at >= 0, at &+ 2 <= count, let base = baseAddress else { return nil }
        return UInt16(bigEndian: base.loadUnaligned(fromByteOffset: at, as: UInt16.self))
    }
    @inline(__always) @inlinable func u32(_ at: Int) -> UInt32? {
        guard at >= 0, at &+ 4 <= count, let base = baseAddress else { return nil }
        return UInt32(bigEndian: base.loadUnaligned(fromByteOffset: at, as: UInt32.self))
    }
    @inline(__always) @inlinable func u64(_ at: Int) -> UInt64? {
        guard at >= 0, at &+ 8 <= count, let base = baseAddress else { return nil }
        return UInt64(bigEndian: base.loadUnaligned(fromByteOffset: at, as: UInt64.self))
    }
    /// A sub-buffer, clamped to what exists.
    @inline(__always) @inlinable func slice(_ from: Int, _ length: Int) -> UnsafeRawBufferPointer {
        guard from >= 0, from <= count, length > 0 else { return UnsafeRawBufferPointer(start: baseAddress, count: 0) }
        let n = Swift.min(length, count &- from)
        return UnsafeRawBufferPointer(rebasing: self[from..<(from &+ n)])
    }
    @inline(__always) @inlinable func from(_ offset: Int) -> UnsafeRawBufferPointer { slice(offset, count &- offset) }

    /// The first index at or after `from` holding `byte` (memchr), or nil.
    @inline(__always) func firstIndex(of byte: UInt8, from: Int) -> Int? {
        guard from >= 0, from < count, let base = baseAddress else { return nil }
        guard let p = memchr(base + from, Int32(byte), count &- from) else { return nil }
        return base.distance(to: UnsafeRawPointer(p))
    }

    /// Text from bytes, replacing invalid UTF-8; used only when a record is made.
    func string(_ from: Int, _ length: Int) -> String {
        String(decoding: slice(from, length), as: UTF8.self)
    }

    func starts(with prefix: StaticString) -> Bool {
        let n = prefix.utf8CodeUnitCount
        guard count >= n else { return false }
        let p = prefix.utf8Start
        for i in 0..<n where self[i] != p[i] { return false }
        return true
    }
}

/// Lower-case hex of bytes, for fingerprints.
func hexString(_ bytes: some Sequence<UInt8>) -> String {
    let digits: [UInt8] = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
    return String(decoding: out, as: UTF8.self)
}
