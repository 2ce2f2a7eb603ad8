/// A small deterministic generator (SplitMix64): uids and generated traffic are reproducible
/// for a given seed. Randomness is injected through it, never read from the system.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64

    /// Starts from `seed` as given.
    public init(seed: UInt64) { state = seed }

    /// Starts from a mix of `seed`, so that nearby seeds give unrelated streams.
    public init(mixing seed: UInt64) {
        state = Self.mix(seed &+ 0x5DEE_CE66_D1CE_4E5B)
    }

    @inline(__always) static func mix(_ x: UInt64) -> UInt64 {
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return Self.mix(state)
    }

    /// Uniform in [0, 1).
    public mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
    /// Uniform in 0..<n (0 when n <= 1).
    public mutating func int(_ n: Int) -> Int { n <= 1 ? 0 : Int(next() % UInt64(n)) }
    public mutating func u32() -> UInt32 { UInt32(truncatingIfNeeded: next()) }
}
