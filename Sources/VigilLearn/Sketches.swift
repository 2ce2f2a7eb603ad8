import Foundation
import VigilCore

/// HyperLogLog with 2^p one-byte registers: "how many distinct" in fixed space
/// (p = 6: 64 bytes, about 13% standard error; p = 8: 256 bytes, about 6.5%).
public struct HyperLogLog: Hashable, Sendable, Codable {
    public private(set) var registers: [UInt8]
    let p: Int
    /// The estimate, kept until a register changes (registers change rarely once warm).
    private var cached: Double = -1
    public static func == (a: HyperLogLog, b: HyperLogLog) -> Bool { a.p == b.p && a.registers == b.registers }
    public func hash(into h: inout Hasher) { h.combine(p); h.combine(registers) }
    private enum CodingKeys: String, CodingKey { case p, r }
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        p = try c.decode(Int.self, forKey: .p)
        registers = [UInt8](try c.decode(Data.self, forKey: .r))
        guard (4...12).contains(p), registers.count == 1 << p else {
            throw DecodingError.dataCorrupted(.init(codingPath: c.codingPath, debugDescription: "HyperLogLog registers do not match p"))
        }
    }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(p, forKey: .p)
        try c.encode(Data(registers), forKey: .r)
    }

    public init(p: Int = 6) {
        self.p = max(4, min(12, p))
        registers = [UInt8](repeating: 0, count: 1 << self.p)
    }

    /// Adds a hashed item; returns true when the estimate may have changed.
    @discardableResult
    public mutating func insert(hash raw: UInt64) -> Bool {
        let h = Stats.mix(raw)
        let idx = Int(h >> UInt64(64 - p))
        let rest = h << UInt64(p) | (1 << UInt64(p - 1))
        let rank = UInt8(rest.leadingZeroBitCount + 1)
        guard rank > registers[idx] else { return false }
        registers[idx] = rank
        cached = -1
        return true
    }

    public var estimate: Double {
        if cached >= 0 { return cached }
        return compute()
    }

    /// The estimate, remembered until the next change.
    public mutating func refresh() -> Double {
        if cached < 0 { cached = compute() }
        return cached
    }

    private func compute() -> Double {
        let m = Double(registers.count)
        var sum = 0.0, zeros = 0
        for r in registers { sum += Double(sign: .plus, exponent: -Int(r), significand: 1); if r == 0 { zeros += 1 } }
        let alpha = m == 16 ? 0.673 : m == 32 ? 0.697 : m == 64 ? 0.709 : 0.7213 / (1 + 1.079 / m)
        let e = alpha * m * m / sum
        if e <= 2.5 * m, zeros > 0 { return m * log(m / Double(zeros)) }   // linear counting for small sets
        return e
    }
}

/// "How many distinct": exact up to 24 items (small fan-outs matter most), a HyperLogLog beyond.
public struct DistinctCounter: Hashable, Sendable, Codable {
    var exact: [UInt64] = []
    var hll: HyperLogLog?
    public init() {}
    /// Returns true when the count may have grown.
    @discardableResult
    public mutating func insert(hash h: UInt64) -> Bool {
        if var x = hll { let grew = x.insert(hash: h); hll = x; return grew }
        if exact.contains(h) { return false }
        if exact.count < 24 { exact.append(h); return true }
        var x = HyperLogLog(p: 6)
        for e in exact { x.insert(hash: e) }
        x.insert(hash: h)
        hll = x
        exact = []
        return true
    }
    public var estimate: Double { hll.map { max(24, $0.estimate) } ?? Double(exact.count) }
    /// Empty again, keeping the exact list's storage.
    public mutating func reset() { exact.removeAll(keepingCapacity: true); hll = nil }
}

/// How often an entity meets something new of a kind: a Beta-Binomial estimate of the
/// probability that its next event of that kind is a first, with a prior of `priorNew` news in
/// `priorTrials` trials (from its peer group or the network).
public struct NoveltyRate: Hashable, Sendable, Codable {
    public var trials: Double = 0
    public var news: Double = 0
    public init() {}

    public mutating func record(isNew: Bool) {
        trials += 1
        if isNew { news += 1 }
    }

    public func probabilityNew(priorNew: Double, priorTrials: Double) -> Double {
        (news + priorNew) / (trials + priorTrials)
    }
}

/// A small set of 64-bit keys with a fixed capacity; when full the oldest key goes.
public struct BoundedKeySet: Hashable, Sendable, Codable {
    @Packed public private(set) var keys: [UInt64] = []
    public let capacity: Int
    public private(set) var dropped = 0
    public init(capacity: Int) { self.capacity = capacity }
    public func contains(_ k: UInt64) -> Bool { keys.contains(k) }
    public var count: Int { keys.count }
    /// Inserts; returns true when the key was new.
    @discardableResult public mutating func insert(_ k: UInt64) -> Bool {
        if keys.contains(k) { return false }
        insert(absent: k)
        return true
    }
    /// Inserts a key the caller has just found absent (skips the second search).
    public mutating func insert(absent k: UInt64) {
        if keys.count >= capacity { keys.removeFirst(); dropped += 1 }
        keys.append(k)
    }
}

/// Exponentially weighted mean and variance kept in 32-bit floats, updated once per sample
/// with weight 1/n up to `cap` samples (so it forgets at a pace of `cap` samples).
public struct CompactMoments: Codable, Sendable, Hashable {
    public var n: Float = 0
    public var mean: Float = 0
    public var variance: Float = 0
    public init() {}
    /// A prior of log counts: `samples` samples of log1p(`count`), then the variance set, so a
    /// model starts from a believable normal before it has seen the network.
    public init(priorCount count: Double, samples: Int, variance: Float, cap: Float) {
        for _ in 0..<samples { add(log1p(count), cap: cap) }
        self.variance = variance
    }
    /// A generous ceiling of the counts this normal describes (mean plus two deviations, on
    /// the count scale), the rate a count is judged against.
    public var countCeiling: Double { expm1(Double(mean)) + 1 + 2 * Double(variance).squareRoot() }
    public mutating func add(_ x: Double, cap: Float) {
        n = min(n + 1, cap)
        let a = 1 / n, d = Float(x) - mean
        mean += a * d
        variance = (1 - a) * (variance + a * d * d)
    }
    public func upperSurprisal(_ x: Double, minStd: Double) -> Double {
        let s = max(Double(variance).squareRoot(), minStd)
        let z = (x - Double(mean)) / s
        return z > 0 ? Stats.normalTailBits(z) : 0
    }
}

/// Numbers shared by the models.
public enum Stats {
    /// -log2 P(Z >= z) for a standard normal, accurate in the far tail.
    public static func normalTailBits(_ z: Double) -> Double {
        let p = 0.5 * erfc(z / 2.squareRoot())
        return p > 0 ? -log2(p) : z * z / 2 / log(2)
    }

    /// -log2 P(X >= k) for X ~ Poisson(lambda).
    public static func poissonTailBits(_ k: Double, lambda: Double) -> Double {
        let l = max(lambda, 1e-6)
        guard k > l else { return 0 }
        // Chernoff bound: P(X >= k) <= exp(-l) (e l / k)^k
        let lnp = -l + k * (1 + log(l / k))
        return max(0, -lnp / log(2))
    }

    /// Shannon entropy (bits per character) of a string's bytes.
    public static func entropy(_ s: Substring.UTF8View) -> Double {
        var s = Substring(s)
        return s.withUTF8 { entropy($0, foldCase: false) }
    }

    /// Shannon entropy (bits per byte) of bytes, optionally with ASCII case folded. Only the
    /// byte values present are visited (in ascending order, as a pass over all 256 would).
    public static func entropy(_ s: UnsafeBufferPointer<UInt8>, foldCase: Bool) -> Double {
        guard !s.isEmpty else { return 0 }
        return withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 256) { counts in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 256) { present in
                counts.initialize(repeating: 0)
                var distinct = 0
                for raw in s {
                    let b = foldCase ? lowerASCII(raw) : raw
                    if counts[Int(b)] == 0 { present[distinct] = b; distinct += 1 }
                    counts[Int(b)] &+= 1
                }
                // Insertion sort: a name has a few dozen distinct bytes at most.
                for i in 1..<max(1, distinct) {
                    let v = present[i]
                    var j = i
                    while j > 0, present[j - 1] > v { present[j] = present[j - 1]; j -= 1 }
                    present[j] = v
                }
                let n = Double(s.count)
                var h = 0.0
                for i in 0..<distinct { let p = Double(counts[Int(present[i])]) / n; h -= p * log2(p) }
                return h
            }
        }
    }

    /// Median of a small array (copied).
    public static func median(_ xs: [Double]) -> Double {
        guard !xs.isEmpty else { return 0 }
        let s = xs.sorted()
        let n = s.count
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2
    }

    /// Quantile with linear interpolation of a sorted array.
    public static func quantile(_ sorted: [Double], _ q: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        let pos = q * Double(sorted.count - 1)
        let lo = Int(pos), hi = min(sorted.count - 1, lo + 1)
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - Double(lo))
    }

    /// A stable 64-bit hash of text (FNV-1a then SplitMix finalizer), the same in every run.
    public static func hash(_ s: String) -> UInt64 { fnv(s, foldCase: false) }

    /// The same as `hash(s.lowercased())` for ASCII, without making the lower-cased copy.
    public static func hashFolded(_ s: String) -> UInt64 { fnv(s, foldCase: true) }

    /// Over the bytes in place: stepping a string's UTF-8 view costs several times the hash.
    private static func fnv(_ s: String, foldCase: Bool) -> UInt64 {
        var s = s
        return s.withUTF8 { b in
            var h: UInt64 = 0xCBF2_9CE4_8422_2325
            for c in b { h = (h ^ UInt64(foldCase ? lowerASCII(c) : c)) &* 0x100_0000_01B3 }
            return mix(h)
        }
    }

    /// A byte with ASCII A-Z lower-cased.
    @inline(__always) public static func lowerASCII(_ c: UInt8) -> UInt8 { c >= 65 && c <= 90 ? c | 0x20 : c }

    public static func hash(_ ip: IPAddress, _ salt: UInt64 = 0) -> UInt64 {
        mix(ip.high &* 0x9E37_79B9_7F4A_7C15 ^ mix(ip.low ^ salt))
    }

    @inline(__always) public static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
