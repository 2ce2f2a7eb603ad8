import VigilCore

/// Which signals tell one story. Signals join when they share a device close in time, when
/// they name the same external endpoint within a day, or when one device reached another
/// (lateral movement, brute force, an alert between them) and the reached device then did
/// something unusual: scan from A, A reaches B over SMB, B beacons out is one incident,
/// while B's beacon that began before A arrived stays its own.
///
/// Pure and deterministic: the same signals give the same groups in any input order.
public enum IncidentGrouping {
    /// Groups of signal indices; each group in time order, groups by their first signal.
    public static func groups(_ signals: [Signal], _ c: AnalystConfiguration) -> [[Int]] {
        let order = signals.indices.sorted {
            signals[$0].first != signals[$1].first ? signals[$0].first < signals[$1].first : signals[$0].id < signals[$1].id
        }
        var sets = DisjointSets(signals.count)
        var deviceLast: [String: (last: Timestamp, index: Int)] = [:]
        var endpointLast: [String: (last: Timestamp, index: Int)] = [:]
        var reached: [String: [(at: Timestamp, index: Int)]] = [:]
        var lastStart: [String: (first: Timestamp, index: Int)] = [:]
        let maxPeers = 32

        for i in order {
            let s = signals[i]
            // A background signal joins at most one story (its device's own, first): it must
            // not bridge two stories that nothing substantive ties together.
            let background = s.score < c.linkFloor
            var joined = false
            func link(_ j: Int) {
                if background && joined { return }
                sets.union(i, j)
                joined = true
            }
            // Joins the story last seen under a key if it was still going within `gap`.
            func joinRecent(_ table: inout [String: (last: Timestamp, index: Int)], _ key: String, within gap: Duration) {
                var last = s.last
                if let prev = table[key], s.first <= prev.last + gap {
                    link(prev.index)
                    last = max(last, prev.last)
                }
                table[key] = (last, i)
            }
            for d in s.devices {
                joinRecent(&deviceLast, d, within: c.deviceGap)
                lastStart[d] = (s.first, i)
            }
            for d in s.devices {
                for r in reached[d] ?? [] where s.first >= r.at - c.propagationSlack && s.first <= r.at + c.propagationWindow {
                    link(r.index)
                }
            }
            // Background-level signals (a new site browsed) do not tie stories together by endpoint.
            for e in s.endpoints where !background { joinRecent(&endpointLast, e, within: c.endpointWindow) }
            if s.peers.count <= maxPeers && !background {
                for p in s.peers where !s.devices.contains(p) {
                    reached[p, default: []].append((s.first, i))
                    // The reached device starting to show something at that very moment (a server
                    // answering on a new port as the guessing begins) is the same story; what it
                    // had been doing since before is not.
                    if let prev = lastStart[p], prev.first >= s.first - c.propagationSlack {
                        link(prev.index)
                    }
                }
            }
        }
        var byRoot: [Int: [Int]] = [:]
        for i in order { byRoot[sets.find(i), default: []].append(i) }
        return byRoot.values.sorted { signals[$0[0]].first != signals[$1[0]].first ? signals[$0[0]].first < signals[$1[0]].first : signals[$0[0]].id < signals[$1[0]].id }
    }
}

/// Union-find with path halving and union by size.
struct DisjointSets {
    private var parent: [Int]
    private var size: [Int]
    init(_ n: Int) { parent = Array(0..<n); size = Array(repeating: 1, count: n) }
    mutating func find(_ x: Int) -> Int {
        var x = x
        while parent[x] != x { parent[x] = parent[parent[x]]; x = parent[x] }
        return x
    }
    mutating func union(_ a: Int, _ b: Int) {
        var ra = find(a), rb = find(b)
        guard ra != rb else { return }
        if size[ra] < size[rb] { swap(&ra, &rb) }
        parent[rb] = ra
        size[ra] += size[rb]
    }
}
