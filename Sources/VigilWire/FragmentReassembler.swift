import VigilCore

/// Reassembles fragmented IPv4 and IPv6 datagrams, bounded in count and age.
/// Overlapping fragments keep the first bytes seen (as most stacks do); a datagram is given
/// up when it is older than `timeout` or when `capacity` others are pending.
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
    private var pending: [Key: Pending] = [:]
    private var order: [Key] = []   // arrival order, for eviction; compacted lazily
    private(set) var evicted: UInt64 = 0
    private(set) var expired: UInt64 = 0

    init(capacity: Int, timeout: Duration) {
        self.capacity = capacity
        self.timeout = timeout
    }

    /// Adds a fragment; returns the whole datagram's transport bytes when it is complete.
    mutating func add(_ p: DecodedPacket, bytes: UnsafeRawBufferPointer, at now: Timestamp) -> (DecodedPacket, [UInt8])? {
        expire(now)
        let key = Key(src: p.src, dst: p.dst, id: p.fragmentID, proto: p.proto.rawValue, version: p.ipVersion)
        let frag = bytes.slice(p.payloadOffset, p.payloadLength)
        let start = p.fragmentOffset
        let end = start + frag.count
        guard end <= 65_535 + 8 else { return nil }
        if pending[key] == nil {
            if pending.count >= capacity, let oldest = order.first(where: { pending[$0] != nil }) {
                pending[oldest] = nil
                evicted += 1
            }
            pending[key] = Pending(first: now, data: [], headerCopy: p)
            order.append(key)
            if order.count > capacity * 4 { order.removeAll { pending[$0] == nil } }
        }
        guard var entry = pending[key] else { return nil }
        pending[key] = nil  // keep the entry uniquely referenced while it is edited
        if entry.data.count < end { entry.data.append(contentsOf: repeatElement(0, count: end - entry.data.count)) }
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

    private mutating func expire(_ now: Timestamp) {
        while let k = order.first {
            guard let e = pending[k] else { order.removeFirst(); continue }
            if now - e.first > timeout {
                pending[k] = nil
                order.removeFirst()
                expired += 1
            } else { break }
        }
    }

    var pendingCount: Int { pending.count }
}
