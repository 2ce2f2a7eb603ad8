import VigilCore

/// A keyed table with a fixed capacity. When it fills, the coldest eighth (least recently
/// touched in observation time) is evicted in one pass, so a flood of new keys costs amortised
/// O(1) per insert and memory never grows past `capacity` entries. Evictions are counted.
public struct BoundedTable<Key: Hashable & Codable & Sendable, Value: Codable & Sendable>: Sendable, Codable {
    private var index: [Key: Int] = [:]
    private var keys: [Key] = []
    private var values: [Value] = []
    private var touched: [Int64] = []
    public let capacity: Int
    public private(set) var evicted = 0

    public init(capacity: Int) { self.capacity = max(8, capacity) }

    public var count: Int { keys.count }

    public subscript(key: Key) -> Value? {
        guard let i = index[key] else { return nil }
        return values[i]
    }

    /// Reads a value in place (no copy of the whole value), or nil when absent.
    public func peek<R>(_ key: Key, _ body: (borrowing Value) -> R) -> R? {
        guard let i = index[key] else { return nil }
        return body(values[i])
    }

    /// Gets the value for `key` (making it with `make` when absent), lets `body` change it, and
    /// marks it touched at `now`.
    @discardableResult
    public mutating func update<R>(_ key: Key, at now: Timestamp, make: () -> Value, _ body: (inout Value) -> R) -> R {
        let i: Int
        if let j = index[key] {
            i = j
        } else {
            if keys.count >= capacity { evictColdest() }
            i = keys.count
            index[key] = i
            keys.append(key); values.append(make()); touched.append(now.nanoseconds)
        }
        touched[i] = max(touched[i], now.nanoseconds)
        return body(&values[i])
    }

    /// Changes a value in place without creating it; returns nil when absent.
    public mutating func modify<R>(_ key: Key, _ body: (inout Value) -> R) -> R? {
        guard let i = index[key] else { return nil }
        return body(&values[i])
    }

    public func forEach(_ body: (Key, Value) -> Void) {
        for i in keys.indices { body(keys[i], values[i]) }
    }

    public mutating func mutateAll(_ body: (Key, inout Value) -> Void) {
        for i in keys.indices { body(keys[i], &values[i]) }
    }

    /// Removes every entry for which `drop` is true.
    public mutating func removeAll(where drop: (Key, Value) -> Bool) {
        var k2: [Key] = [], v2: [Value] = [], t2: [Int64] = []
        k2.reserveCapacity(keys.count); v2.reserveCapacity(keys.count); t2.reserveCapacity(keys.count)
        for i in keys.indices where !drop(keys[i], values[i]) { k2.append(keys[i]); v2.append(values[i]); t2.append(touched[i]) }
        keys = k2; values = v2; touched = t2
        index = Dictionary(uniqueKeysWithValues: keys.enumerated().map { ($1, $0) })
    }

    private mutating func evictColdest() {
        let n = max(1, keys.count / 8)
        let cutoff = touched.sorted()[n - 1]
        var removed = 0
        var k2: [Key] = [], v2: [Value] = [], t2: [Int64] = []
        for i in keys.indices {
            if removed < n, touched[i] <= cutoff { removed += 1; continue }
            k2.append(keys[i]); v2.append(values[i]); t2.append(touched[i])
        }
        keys = k2; values = v2; touched = t2
        index = Dictionary(uniqueKeysWithValues: keys.enumerated().map { ($1, $0) })
        evicted += removed
    }

    private enum CodingKeys: String, CodingKey { case keys, values, touched, capacity, evicted }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        capacity = try c.decode(Int.self, forKey: .capacity)
        keys = try c.decode([Key].self, forKey: .keys)
        values = try c.decode([Value].self, forKey: .values)
        touched = try c.decode([Int64].self, forKey: .touched)
        evicted = try c.decode(Int.self, forKey: .evicted)
        guard keys.count == values.count, keys.count == touched.count else {
            throw DecodingError.dataCorrupted(.init(codingPath: c.codingPath, debugDescription: "table columns differ in length"))
        }
        var idx: [Key: Int] = [:]
        for (i, k) in keys.enumerated() { idx[k] = i }
        guard idx.count == keys.count else {
            throw DecodingError.dataCorrupted(.init(codingPath: c.codingPath, debugDescription: "duplicate keys in table"))
        }
        index = idx
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(capacity, forKey: .capacity)
        try c.encode(keys, forKey: .keys)
        try c.encode(values, forKey: .values)
        try c.encode(touched, forKey: .touched)
        try c.encode(evicted, forKey: .evicted)
    }
}
