import Foundation
import VigilCore

/// Peer groups found from behaviour: once per observed day the devices are clustered (k-means,
/// deterministic farthest-point start) on what they do — how much they serve and consume, how
/// many services, when they are active — so a printer is judged against printers and a server
/// against servers. Group 0 is "not yet grouped".
public struct PeerGroups: Sendable, Codable {
    public private(set) var centroids: [[Double]] = []
    public private(set) var sizes: [Int] = []
    public private(set) var runs = 0

    public init() {}

    static func features(_ p: DeviceProfile) -> [Double] {
        let days = Double(max(1, p.activeDays))
        let hours = Double(p.activeHourMask.nonzeroBitCount)
        return [
            log1p(p.connsOut / days) / 3,
            log1p(p.connsIn / days) / 3,
            Double(p.servedPorts.count) / 2,
            log1p(Double(p.clientServices.count)),
            log1p(p.bytesOut / days) / 6,
            log1p(p.bytesIn / days) / 6,
            hours / 8,
        ]
    }

    static func distance(_ a: [Double], _ b: [Double]) -> Double {
        var s = 0.0
        for i in a.indices { let d = a[i] - b[i]; s += d * d }
        return s
    }

    /// Reclusters the devices in `table` and writes each device's group (1-based).
    public mutating func recluster(_ table: inout BoundedTable<IPAddress, DeviceProfile>) {
        var ips: [IPAddress] = []
        var xs: [[Double]] = []
        table.forEach { ip, p in ips.append(ip); xs.append(PeerGroups.features(p)) }
        guard !xs.isEmpty else { return }
        // Stable order so the result does not depend on insertion order.
        let order = ips.indices.sorted { ips[$0] < ips[$1] }
        ips = order.map { ips[$0] }; xs = order.map { xs[$0] }
        let k = min(8, max(1, xs.count / 5))
        var cs: [[Double]] = [xs[0]]
        var nearest = xs.map { PeerGroups.distance($0, xs[0]) }
        while cs.count < k {
            var best = 0
            for i in xs.indices where nearest[i] > nearest[best] { best = i }
            if nearest[best] < 1e-9 { break }
            cs.append(xs[best])
            for i in xs.indices { nearest[i] = min(nearest[i], PeerGroups.distance(xs[i], xs[best])) }
        }
        var assign = [Int](repeating: 0, count: xs.count)
        for _ in 0..<12 {
            var changed = false
            for i in xs.indices {
                var b = 0, bd = Double.infinity
                for (j, c) in cs.enumerated() { let d = PeerGroups.distance(xs[i], c); if d < bd { bd = d; b = j } }
                if assign[i] != b { assign[i] = b; changed = true }
            }
            var sums = [[Double]](repeating: [Double](repeating: 0, count: xs[0].count), count: cs.count)
            var counts = [Int](repeating: 0, count: cs.count)
            for i in xs.indices { counts[assign[i]] += 1; for d in xs[i].indices { sums[assign[i]][d] += xs[i][d] } }
            for j in cs.indices where counts[j] > 0 { cs[j] = sums[j].map { $0 / Double(counts[j]) } }
            if !changed { break }
        }
        centroids = cs
        sizes = [Int](repeating: 0, count: cs.count)
        var groupOf: [IPAddress: Int] = [:]
        for i in xs.indices { sizes[assign[i]] += 1; groupOf[ips[i]] = assign[i] + 1 }
        table.mutateAll { ip, p in p.group = groupOf[ip] ?? 0 }
        runs += 1
    }

    /// Each group with a description of what its members do and a few of them, for reports.
    public func describe(_ table: BoundedTable<IPAddress, DeviceProfile>) -> [(id: Int, size: Int, role: String, examples: [String])] {
        var members: [Int: [(IPAddress, DeviceProfile)]] = [:]
        table.forEach { ip, p in if p.group > 0 { members[p.group, default: []].append((ip, p)) } }
        return members.keys.sorted().map { g in
            let ms = members[g]!.sorted { $0.0 < $1.0 }
            var served: [UInt64: Int] = [:]
            for (_, p) in ms { for k in p.servedPorts.keys { served[k, default: 0] += 1 } }
            let common = served.filter { $0.value * 2 >= ms.count }.keys.sorted().map { String(UInt16(truncatingIfNeeded: $0)) }
            let hours = ms.map { Double($0.1.activeHourMask.nonzeroBitCount) }.reduce(0, +) / Double(ms.count)
            let role = (common.isEmpty ? "clients" : "serving " + common.prefix(5).joined(separator: ", "))
                + String(format: ", active %.0f h of the day", hours)
            let examples = ms.prefix(4).map { m -> String in
                if let n = m.1.name { return "\(m.0) (\(n))" }
                return m.0.description
            }
            return (g, ms.count, role, examples)
        }
    }

    public func size(of group: Int) -> Int { group >= 1 && group <= sizes.count ? sizes[group - 1] : 0 }
}
