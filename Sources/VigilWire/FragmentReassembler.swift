import VigilCore

/// Reassembles fragmented IPv4 and IPv6 datagrams, bounded in count, bytes and age.
/// Overlapping fragments keep the first bytes seen (as most stacks do). A datagram is given
/// up when it is older than `timeout`, when it arrives in more than `maxFragments` pieces, or
/// (oldest first) when `capacity` datagrams or `maxBytes` bytes are pending.
struct FragmentReassembler {
    struct Key: Hashable {
        var src: IPAddress, dst: IPAddress, id: UInt32, proto: UInt8, version: UInt8
    }
    struct Pending {
        var first: Timestamp
        var data: [UInt8]
        var have: [(Int, Int)] = []   // received [start, end) ranges
        var totalLength: Int? = nil
        var headerCopy: DecodedPacket
    }

    let capacity: Int
    let timeout: Duration
    let maxBytes: Int
    static let maxFragments = 64
    private var pending: [Key: Pending] = [:]
    private var order: [Key] = []   // arrival order, for eviction and expiry
    private var head = 0            // order[..<head] are done with
    private var bytes = 0
    private(set) var evicted: UInt64 = 0
    private(set) var expired: UInt64 = 0

    init(capacity: Int, timeout: Duration, maxBytes: Int = 16 << 20) {
        self.capacity = max(1, capacity)
        self.timeout = timeout
        self.maxBytes = max(65_536, maxBytes)
    }

    /// Adds a fragment; returns the whole datagram's transport bytes when it is complete.
    mutating func add(_ p: DecodedPacket, bytes packet: UnsafeRawBufferPointer, at now: Timestamp) -> (DecodedPacket, [UInt8])? {
        expire(now)
        let key = Key(src: p.src, dst: p.dst, id: p.fragmentID, proto: p.proto.rawValue, version: p.ipVersion)
        let frag = packet.slice(p.payloadOffset, p.payloadLength)
        let start = p.fragmentOffset
        let end = start + frag.count
        guard end <= 65_535 + 8 else { return nil }
        if pending[key] == nil {
            while pending.count >= capacity || bytes + end > maxBytes, evictOldest() {}
            pending[key] = Pending(first: now, data: [], headerCopy: p)
            order.append(key)
            compact()
        }
        guard var entry = pending.removeValue(forKey: key) else { return nil }  // edited uniquely
        if entry.have.count >= Self.maxFragments {
            bytes -= entry.data.count
            evicted += 1
            return nil  // a datagram in too many pieces is dropped, not kept growing
        }
        if entry.data.count < end {
            bytes += end - entry.data.count
            entry.data.append(contentsOf: repeatElement(0, count: end - entry.data.count))
        }
        // Copy only bytes not yet covered (first wins).
        entry.data.withUnsafeMutableBytes { dst in
            var i = start
            while i < end {
                if let r = entry.have.first(where: { $0.0 <= i && i < $0.1 }) { i = r.1; continue }
                let nextCovered = entry.have.filter { $0.0 > i }.map(\.0).min() ?? end
                let stop = min(end, nextCovered)
                for k in i..<stop { dst[k] = frag[k - start] }
                i = stop
            }
        }
        entry.have.append((start, end))
        if start == 0 { entry.headerCopy = p }
        if !p.moreFragments { entry.totalLength = end }
        if let total = entry.totalLength, Self.covers(entry.have, total) {
            bytes -= entry.data.count
            var header = entry.headerCopy
            header.isFragment = false
            header.ipLength = (p.l4Offset - p.ipOffset) + total
            return (header, Array(entry.data.prefix(total)))
        }
        pending[key] = entry
        return nil
    }

    private static func covers(_ ranges: [(Int, Int)], _ total: Int) -> Bool {
        var reach = 0
        for r in ranges.sorted(by: { $0.0 < $1.0 }) {
            if r.0 > reach { return false }
            reach = max(reach, r.1)
        }
        return reach >= total
    }

    /// Drops the oldest pending datagram; false when none is left.
    private mutating func evictOldest() -> Bool {
        while head < order.count {
            let k = order[head]
            head += 1
            if let e = pending.removeValue(forKey: k) {
                bytes -= e.data.count
                evicted += 1
                return true
            }
        }
        return false
    }

    private mutating func expire(_ now: Timestamp) {
        while head < order.count {
            let k = order[head]
            guard let e = pending[k] else { head += 1; continue }
            guard now - e.first > timeout else { break }
            pending[k] = nil
            bytes -= e.data.count
            head += 1
            expired += 1
        }
        compact()
    }

    private mutating func compact() {
        if head > 1024 && head * 2 > order.count {
            order.removeFirst(head)
            head = 0
        }
    }

    var pendingCount: Int { pending.count }
    var pendingBytes: Int { bytes }
}
