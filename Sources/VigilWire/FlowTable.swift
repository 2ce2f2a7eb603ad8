import VigilCore

/// A direction-independent flow key: the lower endpoint first.
struct FlowKey: Equatable {
    var a: IPAddress
    var b: IPAddress
    var ports: UInt32   // aPort << 16 | bPort
    var proto: UInt8

    @inline(__always)
    static func make(src: IPAddress, sp: UInt16, dst: IPAddress, dp: UInt16, proto: UInt8) -> (FlowKey, srcIsA: Bool) {
        if src < dst || (src == dst && sp <= dp) {
            return (FlowKey(a: src, b: dst, ports: UInt32(sp) << 16 | UInt32(dp), proto: proto), true)
        }
        return (FlowKey(a: dst, b: src, ports: UInt32(dp) << 16 | UInt32(sp), proto: proto), false)
    }

    /// A keyed 64-bit mix of the whole key (the table's own hash; the seed keeps an attacker
    /// who picks addresses from aiming at one bucket).
    @inline(__always)
    func mixed(seed: UInt64) -> UInt64 {
        @inline(__always) func m(_ x: UInt64) -> UInt64 {
            var z = x
            z = (z ^ (z >> 33)) &* 0xFF51_AFD7_ED55_8CCD
            z = (z ^ (z >> 33)) &* 0xC4CE_B9FE_1A85_EC53
            return z ^ (z >> 33)
        }
        var h = m(seed ^ a.low)
        h = m(h ^ b.low ^ (a.high &* 0x9E37_79B9_7F4A_7C15))
        return m(h ^ b.high ^ (UInt64(ports) << 8 | UInt64(proto)))
    }
}

/// TCP endpoint states, as Zeek's analyzer names them.
enum EndpointState: UInt8 {
    case inactive, synSent, synAckSent, partial, established, closed, reset
}

/// One direction of a flow. Trivially copyable: updating it allocates nothing.
struct FlowSide {
    var packets: UInt64 = 0
    var ipBytes: UInt64 = 0
    var payloadBytes: UInt64 = 0
    var state: EndpointState = .inactive
    var seqInit = false
    var sawSyn = false
    var seqBase: UInt32 = 0
    var lastRel: Int64 = 0        // highest unwrapped relative sequence seen
    var highEnd: Int64 = 0        // highest payload end (Zeek's size)
    var delivered: Int64 = 0      // next in-order byte for analyzers
    var missed: UInt64 = 0
    var retransmits: UInt32 = 0
    var gaps: UInt32 = 0
    var zeroWindows: UInt32 = 0
    var historySeen: UInt32 = 0   // bit per letter a...z
    var analyzedBytes: Int = 0
    var mac: UInt64 = 0

    /// Unwraps a 32-bit sequence number relative to `seqBase` around the last one seen.
    @inline(__always)
    func unwrap(_ seq: UInt32) -> Int64 {
        let rel32 = Int64(seq &- seqBase)
        let hiPart = lastRel & ~0xFFFF_FFFF
        var best = hiPart | rel32
        if best - lastRel > 0x8000_0000 { best -= 0x1_0000_0000 }
        else if lastRel - best > 0x8000_0000 { best += 0x1_0000_0000 }
        return best
    }
}

/// Zeek's history string, built in place: at most 24 letters.
struct History {
    var bytes: (UInt64, UInt64, UInt64) = (0, 0, 0)
    var count: UInt8 = 0

    @inline(__always)
    mutating func append(_ c: UInt8) {
        guard count < 24 else { return }
        let i = Int(count)
        let shift = UInt64((i & 7) * 8)
        switch i >> 3 {
        case 0: bytes.0 |= UInt64(c) << shift
        case 1: bytes.1 |= UInt64(c) << shift
        default: bytes.2 |= UInt64(c) << shift
        }
        count += 1
    }

    var string: String {
        var copy = bytes
        return withUnsafeBytes(of: &copy) { raw in
            String(decoding: UnsafeRawBufferPointer(rebasing: raw[0..<Int(count)]), as: UTF8.self)
        }
    }
}

/// Which timeout list a flow is on.
enum TimeoutClass {
    case short, datagram, tcp
}

/// One connection in the table.
struct Flow {
    var key: FlowKey
    var origIsA: Bool
    var origPort: UInt16
    var respPort: UInt16
    var uid: (UInt64, UInt32)
    var start: Timestamp
    var last: Timestamp
    var orig = FlowSide()
    var resp = FlowSide()
    var history = History()
    var services: UInt16 = 0
    /// 0 = no analyzer yet, 1 = attached, 2 = gave up looking.
    var appState: UInt8 = 0
    var appTries: UInt8 = 0
    var flipped = false
    var prev: Int32 = -1
    var next: Int32 = -1
    var list: TimeoutClass = .short
    var live = false

    var origHost: IPAddress { origIsA ? key.a : key.b }
    var respHost: IPAddress { origIsA ? key.b : key.a }
    var id: ConnectionID {
        ConnectionID(origHost: origHost, origPort: origPort, respHost: respHost, respPort: respPort,
                     proto: IPProtocol(rawValue: key.proto))
    }
}

/// The bounded connection table: a hash index into a flat array of flows, with one
/// least-recently-active list per timeout class, so expiry and eviction are O(1).
struct FlowTable {
    /// The flow records, in one block this table owns: a packet touches its flow a dozen times,
    /// and an array would check uniqueness and bounds on each. Indices come only from this
    /// table (its slots, free list and links), never from input.
    private let store = FlowStore()
    private var flows: UnsafeMutablePointer<Flow> { store.base }
    var analyzers: ContiguousArray<StreamAnalyzer?> = []
    /// Open addressing with linear probing. A slot holds the flow's index + 1 in its low 32
    /// bits (0 = empty) and the top 32 bits of its hash above them, so a probe that meets
    /// another flow rarely has to read that flow's record (a cache miss) to tell.
    private var slots: ContiguousArray<UInt64>
    private var hashes: ContiguousArray<UInt64> = []
    private var mask: Int
    private(set) var count = 0
    private let seed: UInt64
    private var free: [Int32] = []
    private var heads: (Int32, Int32, Int32) = (-1, -1, -1)
    private var tails: (Int32, Int32, Int32) = (-1, -1, -1)
    let capacity: Int

    init(capacity: Int, seed: UInt64) {
        self.capacity = max(1, capacity)
        self.seed = seed
        slots = ContiguousArray(repeating: 0, count: 1024)
        mask = 1023
    }

    @inline(__always) func hash(_ key: FlowKey) -> UInt64 { key.mixed(seed: seed) }

    @inline(__always) static func slot(_ i: Int32, hash h: UInt64) -> UInt64 {
        h & 0xFFFF_FFFF_0000_0000 | UInt64(UInt32(bitPattern: i) &+ 1)
    }
    @inline(__always) static func index(_ slot: UInt64) -> Int32 {
        Int32(bitPattern: UInt32(truncatingIfNeeded: slot) &- 1)
    }

    @inline(__always) func find(_ key: FlowKey) -> Int32? {
        let h = hash(key)
        let tag = h >> 32
        var pos = Int(truncatingIfNeeded: h) & mask
        while true {
            let s = slots[pos]
            if s == 0 { return nil }
            if s >> 32 == tag {
                let i = Self.index(s)
                if flows[Int(i)].key == key { return i }
            }
            pos = (pos &+ 1) & mask
        }
    }

    private mutating func place(_ i: Int32, hash h: UInt64) {
        var pos = Int(truncatingIfNeeded: h) & mask
        while slots[pos] != 0 { pos = (pos &+ 1) & mask }
        slots[pos] = Self.slot(i, hash: h)
    }

    /// Keeps the load under 3/4 by doubling; the table never exceeds 4 × capacity slots.
    private mutating func growIfNeeded() {
        guard (count + 1) * 4 > slots.count * 3 else { return }
        let size = slots.count * 2
        slots = ContiguousArray(repeating: 0, count: size)
        mask = size - 1
        for i in 0..<store.used where flows[i].live { place(Int32(i), hash: hashes[i]) }
    }

    /// Backward-shift deletion: no tombstones, so probes stay short under churn.
    private mutating func unindex(_ i: Int32) {
        let wanted = Self.slot(i, hash: hashes[Int(i)])
        var pos = Int(truncatingIfNeeded: hashes[Int(i)]) & mask
        while slots[pos] != wanted {
            if slots[pos] == 0 { return }
            pos = (pos &+ 1) & mask
        }
        var hole = pos
        var j = pos
        while true {
            j = (j &+ 1) & mask
            let s = slots[j]
            if s == 0 { break }
            let ideal = Int(truncatingIfNeeded: hashes[Int(Self.index(s))]) & mask
            let stays = hole <= j ? (hole < ideal && ideal <= j) : (hole < ideal || ideal <= j)
            if stays { continue }
            slots[hole] = s
            hole = j
        }
        slots[hole] = 0
    }

    @inline(__always) subscript(i: Int32) -> Flow {
        get { assert(Int(i) < store.used); return flows[Int(i)] }
        _modify { assert(Int(i) < store.used); yield &flows[Int(i)] }
    }

    var isFull: Bool { count >= capacity }

    mutating func insert(_ flow: Flow) -> Int32 {
        var f = flow
        f.live = true
        let h = hash(f.key)
        let i: Int32
        if let slot = free.popLast() {
            i = slot
            flows[Int(i)] = f
            analyzers[Int(i)] = nil
            hashes[Int(i)] = h
        } else {
            i = Int32(store.used)
            store.append(f)
            analyzers.append(nil)
            hashes.append(h)
        }
        growIfNeeded()
        place(i, hash: h)
        count += 1
        link(i, to: f.list)
        return i
    }

    mutating func remove(_ i: Int32) {
        unlink(i)
        unindex(i)
        count -= 1
        flows[Int(i)].live = false
        analyzers[Int(i)] = nil
        free.append(i)
    }

    /// Moves a flow to the tail (most recent) of `list`.
    @inline(__always)
    mutating func touch(_ i: Int32, list: TimeoutClass) {
        if flows[Int(i)].list == list && flows[Int(i)].next == -1 { return }  // already the tail
        unlink(i)
        flows[Int(i)].list = list
        link(i, to: list)
    }

    func head(_ list: TimeoutClass) -> Int32 {
        switch list {
        case .short: heads.0
        case .datagram: heads.1
        case .tcp: heads.2
        }
    }

    /// The least recently active flow over all lists (the one to evict under pressure).
    func coldest() -> Int32? {
        var best: Int32 = -1
        for l in [TimeoutClass.short, .datagram, .tcp] {
            let h = head(l)
            if h >= 0, best < 0 || flows[Int(h)].last < flows[Int(best)].last { best = h }
        }
        return best >= 0 ? best : nil
    }

    private mutating func setHead(_ l: TimeoutClass, _ v: Int32) {
        switch l { case .short: heads.0 = v; case .datagram: heads.1 = v; case .tcp: heads.2 = v }
    }
    private mutating func setTail(_ l: TimeoutClass, _ v: Int32) {
        switch l { case .short: tails.0 = v; case .datagram: tails.1 = v; case .tcp: tails.2 = v }
    }
    private func tail(_ l: TimeoutClass) -> Int32 {
        switch l { case .short: tails.0; case .datagram: tails.1; case .tcp: tails.2 }
    }

    private mutating func link(_ i: Int32, to l: TimeoutClass) {
        let t = tail(l)
        flows[Int(i)].prev = t
        flows[Int(i)].next = -1
        if t >= 0 { flows[Int(t)].next = i } else { setHead(l, i) }
        setTail(l, i)
    }

    private mutating func unlink(_ i: Int32) {
        let prev = flows[Int(i)].prev, next = flows[Int(i)].next, list = flows[Int(i)].list
        if prev >= 0 { flows[Int(prev)].next = next } else { setHead(list, next) }
        if next >= 0 { flows[Int(next)].prev = prev } else { setTail(list, prev) }
        flows[Int(i)].prev = -1
        flows[Int(i)].next = -1
    }

    /// Live flows in least-recently-active order, for the final flush.
    func liveIndices() -> [Int32] {
        var out: [Int32] = []
        for l in [TimeoutClass.short, .datagram, .tcp] {
            var i = head(l)
            while i >= 0 { out.append(i); i = flows[Int(i)].next }
        }
        return out.sorted { flows[Int($0)].start < flows[Int($1)].start }
    }
}

/// The block of flow records behind a `FlowTable`: grows by doubling, freed with the table.
final class FlowStore {
    // One engine, one thread (the engine is not Sendable): no dynamic exclusivity checks.
    @exclusivity(unchecked) private(set) var base: UnsafeMutablePointer<Flow>
    @exclusivity(unchecked) private(set) var used = 0
    @exclusivity(unchecked) private var capacity = 1024

    init() { base = .allocate(capacity: capacity) }

    func append(_ f: Flow) {
        if used == capacity {
            let bigger = UnsafeMutablePointer<Flow>.allocate(capacity: capacity * 2)
            bigger.moveInitialize(from: base, count: used)
            base.deallocate()
            base = bigger
            capacity *= 2
        }
        (base + used).initialize(to: f)
        used += 1
    }

    deinit {
        base.deinitialize(count: used)
        base.deallocate()
    }
}
