import VigilCore

/// A key the learner's tables can hold: hashed by the table with a seed of its own, so a key
/// an attacker picks (an address, a name) cannot aim at one bucket. Fixed-size keys mix their
/// bits directly; text and composite keys fall back to the standard library's SipHash.
public protocol TableKey: Hashable, Codable, Sendable {
    func tableHash(_ seed: UInt64) -> UInt64
}

extension TableKey {
    public func tableHash(_ seed: UInt64) -> UInt64 {
        var h = Hasher()
        h.combine(seed)
        h.combine(self)
        return UInt64(bitPattern: Int64(h.finalize()))
    }
}

extension String: TableKey {}

extension IPAddress: TableKey {
    @inline(__always) public func tableHash(_ seed: UInt64) -> UInt64 { Stats.hash(self, seed) }
}

extension Int: TableKey {
    @inline(__always) public func tableHash(_ seed: UInt64) -> UInt64 { Stats.mix(UInt64(bitPattern: Int64(self)) ^ seed) }
}

extension UInt64: TableKey {
    @inline(__always) public func tableHash(_ seed: UInt64) -> UInt64 { Stats.mix(self ^ seed) }
}

/// A keyed table with a fixed capacity. When it fills, the coldest eighth (least recently
/// touched in observation time) is evicted in one pass, so a flood of new keys costs amortised
/// O(1) per insert and memory never grows past `capacity` entries. Evictions are counted.
///
/// Entries sit in one dense array, key and value and last touch together, in the order they
/// came (which is also the order of `forEach`, so results never depend on hashing). An
/// open-addressed index of 64-bit slots (32 bits of hash beside the entry's position) finds
/// them: a lookup reads one slot and one entry, where a `Dictionary` of positions beside
/// separate key, value and time arrays read five places in memory.
public struct BoundedTable<Key: TableKey, Value: Codable & Sendable>: Sendable, Codable {
    struct Entry: Sendable {
        var key: Key
        var touched: Int64
        var value: Value
    }
    private var entries: [Entry] = []
    /// 0 = empty; otherwise the hash's upper 32 bits (never 0) above the entry's position + 1.
    private var slots: [UInt64] = []
    private var seed: UInt64
    public let capacity: Int
    public private(set) var evicted = 0

    public init(capacity: Int) {
        self.capacity = max(8, capacity)
        seed = UInt64.random(in: .min ... .max)
        slots = [UInt64](repeating: 0, count: 16)
    }

    public var count: Int { entries.count }

    @inline(__always) private static func tag(_ h: UInt64) -> UInt64 { (h >> 32 | 1) << 32 }

    /// The entry's position, or nil; `slot` is where the key is or would go.
    @inline(__always) private func find(_ key: Key, _ h: UInt64) -> (slot: Int, index: Int?) {
        let mask = slots.count - 1
        let tag = BoundedTable.tag(h)
        var s = Int(truncatingIfNeeded: h) & mask
        // Through pointers: a buffer's subscript returns a copy of the whole entry (retaining
        // everything in its value) just to read the key; a pointer's reads it in place.
        return slots.withUnsafeBufferPointer { sl in
            entries.withUnsafeBufferPointer { es in
                let base = es.baseAddress.unsafelyUnwrapped
                while true {
                    let v = sl[s]
                    if v == 0 { return (s, nil) }
                    if v & 0xFFFF_FFFF_0000_0000 == tag {
                        let i = Int(truncatingIfNeeded: v & 0xFFFF_FFFF) - 1
                        if base[i].key == key { return (s, i) }
                    }
                    s = (s + 1) & mask
                }
            }
        }
    }

    @inline(__always) private func index(of key: Key) -> Int? { find(key, key.tableHash(seed)).index }

    public subscript(key: Key) -> Value? {
        guard let i = index(of: key) else { return nil }
        return entries[i].value
    }

    public func contains(_ key: Key) -> Bool { index(of: key) != nil }

    /// Reads a value in place, or nil when absent. `body` gets a pointer, valid only while it
    /// runs, so it reads just the fields it names: a closure taking the value itself is handed
    /// a copy of it (each string and array in it retained, and released after).
    public func peek<R>(_ key: Key, _ body: (UnsafePointer<Value>) -> R) -> R? {
        guard let i = index(of: key) else { return nil }
        return entries.withUnsafeBufferPointer { es in
            // An inout projection of the field yields its address (`withUnsafePointer(to:)` of
            // a value may copy it to a temporary first). Nothing is written through it.
            let entry = UnsafeMutablePointer(mutating: es.baseAddress.unsafelyUnwrapped + i)
            return withUnsafeMutablePointer(to: &entry.pointee.value) { body(UnsafePointer($0)) }
        }
    }

    /// Gets the value for `key` (making it with `make` when absent), lets `body` change it, and
    /// marks it touched at `now`.
    @discardableResult
    public mutating func update<R>(_ key: Key, at now: Timestamp, make: () -> Value, _ body: (inout Value) -> R) -> R {
        let h = key.tableHash(seed)
        var (slot, found) = find(key, h)
        if let i = found {
            if entries[i].touched < now.nanoseconds { entries[i].touched = now.nanoseconds }
            return body(&entries[i].value)
        }
        // A new key: make room (the coldest go, or the index grows), then place it.
        if entries.count >= capacity || (entries.count + 1) * 2 > slots.count {
            if entries.count >= capacity { evictColdest() } else { reindex(room: 1) }
            slot = find(key, h).slot
        }
        let i = entries.count
        entries.append(Entry(key: key, touched: now.nanoseconds, value: make()))
        slots[slot] = BoundedTable.tag(h) | UInt64(i + 1)
        return body(&entries[i].value)
    }

    /// Changes a value in place without creating it; returns nil when absent.
    public mutating func modify<R>(_ key: Key, _ body: (inout Value) -> R) -> R? {
        guard let i = index(of: key) else { return nil }
        return body(&entries[i].value)
    }

    public func forEach(_ body: (Key, Value) -> Void) {
        entries.withUnsafeBufferPointer { es in
            guard let base = es.baseAddress else { return }
            for i in es.indices { body(base[i].key, base[i].value) }
        }
    }

    public mutating func mutateAll(_ body: (Key, inout Value) -> Void) {
        for i in entries.indices { body(entries[i].key, &entries[i].value) }
    }

    /// Empties the table and returns what it held (read it with `forEach`), without copying
    /// an entry: the caller may change this table's owner while it reads.
    public mutating func removeAllTaking() -> BoundedTable {
        let taken = self
        entries = []
        reindex()
        return taken
    }

    /// Removes every entry for which `drop` is true.
    public mutating func removeAll(where drop: (Key, Value) -> Bool) {
        let before = entries.count
        entries.removeAll { drop($0.key, $0.value) }
        if entries.count != before { reindex() }
    }

    private mutating func evictColdest() {
        let n = max(1, entries.count / 8)
        let cutoff = entries.map(\.touched).sorted()[n - 1]
        var removed = 0
        entries.removeAll { e in
            guard removed < n, e.touched <= cutoff else { return false }
            removed += 1
            return true
        }
        evicted += removed
        reindex(room: 1)   // for the key that made room
    }

    /// Rebuilds the index from the entries (after removals, or with `room` for more), sized
    /// so it stays at most half full and at least a quarter.
    private mutating func reindex(room: Int = 0) {
        let n = entries.count + room
        var size = slots.count
        while size > 16, n * 4 < size { size /= 2 }
        while n * 2 > size { size *= 2 }
        var fresh = [UInt64](repeating: 0, count: size)
        let mask = size - 1
        entries.withUnsafeBufferPointer { es in
            guard let base = es.baseAddress else { return }
            for i in es.indices {
                let h = base[i].key.tableHash(seed)
                var s = Int(truncatingIfNeeded: h) & mask
                while fresh[s] != 0 { s = (s + 1) & mask }
                fresh[s] = BoundedTable.tag(h) | UInt64(i + 1)
            }
        }
        slots = fresh
    }

    private enum CodingKeys: String, CodingKey { case keys, values, touched, capacity, evicted }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        capacity = try c.decode(Int.self, forKey: .capacity)
        let keys = try c.decode([Key].self, forKey: .keys)
        let values = try c.decode([Value].self, forKey: .values)
        let touched = try c.decode([Int64].self, forKey: .touched)
        evicted = try c.decode(Int.self, forKey: .evicted)
        seed = UInt64.random(in: .min ... .max)
        guard keys.count == values.count, keys.count == touched.count else {
            throw DecodingError.dataCorrupted(.init(codingPath: c.codingPath, debugDescription: "table columns differ in length"))
        }
        guard Set(keys).count == keys.count else {
            throw DecodingError.dataCorrupted(.init(codingPath: c.codingPath, debugDescription: "duplicate keys in table"))
        }
        entries.reserveCapacity(keys.count)
        for i in keys.indices { entries.append(Entry(key: keys[i], touched: touched[i], value: values[i])) }
        slots = [UInt64](repeating: 0, count: 16)
        reindex()
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(capacity, forKey: .capacity)
        try c.encode(entries.map(\.key), forKey: .keys)
        try c.encode(entries.map(\.value), forKey: .values)
        try c.encode(entries.map(\.touched), forKey: .touched)
        try c.encode(evicted, forKey: .evicted)
    }
}
