/// FNV-1a, 64 bits: a stable hash (the same bytes give the same value in every run, unlike
/// `Hasher`) for ids that must not change between runs and for cheap fingerprints.
public enum FNV1a {
    @inlinable public static func hash<S: Sequence>(_ bytes: S) -> UInt64 where S.Element == UInt8 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return h
    }
}
