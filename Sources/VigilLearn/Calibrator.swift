import Foundation

/// Turns a model's surprisal into a 0-100 score through the model's own running distribution
/// of surprisals, so that a score of 50 or more is rare by construction.
///
/// For surprisal `x` the calibrator estimates `S(x)`, the share of this model's past tests that
/// were at least as surprising: the empirical tail from a histogram, blended
/// with the tail a well-specified model would have (`2^-x`) while history is short. Multiplied
/// by the model's tests per device-day this is `λ`, the rate of such events per device-day.
/// The score is 50 where `λ` equals the model's share of the false-alarm budget, and moves
/// 12.5 points per factor of ten: `50 + 12.5 log10(budget / λ)`, clamped to 0...100.
/// A model that is always surprised (a noisy device, a chatty protocol) thus scores itself
/// down; a surprise that has never been seen scores high.
public struct Calibrator: Hashable, Sendable, Codable {
    static let binsPerBit = 4.0
    /// 0.25-bit bins up to 64 bits, then 16 bins per doubling up to 1024 bits.
    static let binCount = 64 * 4 + 64 + 1
    public private(set) var bins: [UInt32] = [UInt32](repeating: 0, count: Calibrator.binCount)
    public private(set) var tests: UInt64 = 0
    /// Pseudo-tests given to the theoretical tail.
    static let priorTests = 50.0

    public init() {}

    static func bin(_ x: Double) -> Int {
        guard x.isFinite, x > 0 else { return x.isFinite ? 0 : binCount - 1 }
        if x < 64 { return Int(x * binsPerBit) }
        return min(binCount - 1, 256 + Int(log2(x / 64) * 16))
    }

    /// Records a test without scoring it (cheap: one increment).
    public mutating func record(_ x: Double) {
        bins[Calibrator.bin(x)] &+= 1
        tests &+= 1
    }

    /// Scores `x` against the tests seen so far, then records it.
    public mutating func score(_ x: Double, deviceDays: Double, budget: Double) -> Double {
        let b = Calibrator.bin(x)
        var above: UInt64 = 0
        for i in b..<Calibrator.binCount { above &+= UInt64(bins[i]) }
        let n = Double(tests)
        let tail = (Double(above) + Calibrator.priorTests * exp2(-min(x, 200))) / (n + Calibrator.priorTests)
        let perDeviceDay = (n + 1) / max(deviceDays, 1)
        let lambda = max(tail * perDeviceDay, 1e-300)
        record(x)
        return max(0, min(100, 50 + 12.5 * log10(budget / lambda)))
    }
}
