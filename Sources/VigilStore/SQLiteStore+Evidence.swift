import CSQLite
import Foundation
import VigilCore

/// The analyst's follow-up questions, answered from stored observations with SQL. Domains are
/// found through the reversed-name index (`rname`: a name and every name under it are one
/// index range) and resolved to the addresses DNS answers, TLS server names and HTTP Host
/// headers tied them to in the same period.
extension SQLiteStore: EvidenceQuery {
    public func devicesContacting(_ endpoint: String, from: Timestamp, to: Timestamp, limit: Int) throws -> [String] {
        try commit()
        let addresses = try resolve(endpoint, from: from, to: to)
        var found: [String] = []
        func add(_ rows: [[Value]]) {
            for r in rows { if case .text(let t) = r[0], !found.contains(t), found.count < limit { found.append(t) } }
        }
        if !addresses.isEmpty {
            let marks = Array(repeating: "?", count: addresses.count).joined(separator: ",")
            add(try rows("SELECT DISTINCT orig_h FROM observations WHERE kind='conn' AND ts BETWEEN ? AND ? AND resp_h IN (\(marks)) LIMIT ?",
                         [.int(from.nanoseconds), .int(to.nanoseconds)] + addresses.map { .text($0) } + [.int(Int64(limit))]))
        }
        if IPAddress(endpoint) == nil {
            add(try rows("""
                SELECT DISTINCT orig_h FROM observations INDEXED BY observations_name WHERE \(Self.underName) AND kind='dns' AND ts BETWEEN ?2 AND ?3 LIMIT ?4
                """, [.text(Self.reversedName(endpoint)), .int(from.nanoseconds), .int(to.nanoseconds), .int(Int64(limit))]))
        }
        return found
    }

    public func traffic(device: String, endpoint: String?, from: Timestamp, to: Timestamp) throws -> TrafficSummary {
        try commit()
        var sql = """
            SELECT count(*), coalesce(sum(json_extract(body,'$.conn._0.origBytes')),0), coalesce(sum(json_extract(body,'$.conn._0.respBytes')),0),
            min(ts), max(ts) FROM observations WHERE kind='conn' AND orig_h = ? AND ts BETWEEN ? AND ?
            """
        var args: [Value] = [.text(device), .int(from.nanoseconds), .int(to.nanoseconds)]
        if let endpoint {
            let addresses = try resolve(endpoint, from: from - .seconds(86_400), to: to)
            if addresses.isEmpty {
                // A name never resolved to an address the device reached: count its lookups.
                let r = try rows("""
                    SELECT count(*), 0, 0, min(ts), max(ts) FROM observations INDEXED BY observations_name WHERE \(Self.underName) AND kind='dns' AND orig_h = ?2 AND ts BETWEEN ?3 AND ?4
                    """, [.text(Self.reversedName(endpoint))] + args)
                var t = Self.summary(r.first)
                t.lookupsOnly = true
                return t
            }
            sql += " AND resp_h IN (\(Array(repeating: "?", count: addresses.count).joined(separator: ",")))"
            args += addresses.map { .text($0) }
        }
        return Self.summary(try rows(sql, args).first)
    }

    public func lastObservationTime() throws -> Timestamp? {
        try commit()
        guard let r = try rows("SELECT max(ts) FROM observations", []).first, case .int(let v) = r[0] else { return nil }
        return Timestamp(nanoseconds: v)
    }

    public func contacts(device: String, ports: [UInt16], from: Timestamp, to: Timestamp, limit: Int) throws -> [PeerContact] {
        try commit()
        guard !ports.isEmpty else { return [] }
        let marks = Array(repeating: "?", count: ports.count).joined(separator: ",")
        let r = try rows("""
            SELECT resp_h, resp_p, count(*), sum(json_extract(body,'$.conn._0.connState') IN ('SF','S1','S2','S3','RSTO','RSTR')), min(ts)
            FROM observations WHERE kind='conn' AND orig_h = ? AND ts BETWEEN ? AND ? AND resp_p IN (\(marks))
            GROUP BY resp_h, resp_p ORDER BY count(*) DESC LIMIT ?
            """, [.text(device), .int(from.nanoseconds), .int(to.nanoseconds)] + ports.map { .int(Int64($0)) } + [.int(Int64(limit))])
        return r.compactMap { row in
            guard case .text(let peer) = row[0], case .int(let port) = row[1], case .int(let n) = row[2], case .int(let first) = row[4] else { return nil }
            var answered = 0
            if case .int(let a) = row[3] { answered = Int(a) }
            return PeerContact(peer: peer, port: UInt16(truncatingIfNeeded: port), connections: Int(n), answered: answered, first: Timestamp(nanoseconds: first))
        }
    }

    public func dnsHistory(_ domain: String, to: Timestamp) throws -> DNSHistory {
        try commit()
        let args: [Value] = [.text(Self.reversedName(domain)), .int(to.nanoseconds)]
        guard let r = try rows("""
            SELECT count(*), count(DISTINCT orig_h), min(ts) FROM observations INDEXED BY observations_name WHERE \(Self.underName) AND kind='dns' AND ts <= ?2
            """, args).first, case .int(let n) = r[0], n > 0 else { return DNSHistory() }
        var h = DNSHistory(lookups: Int(n))
        if case .int(let d) = r[1] { h.devices = Int(d) }
        if case .int(let f) = r[2] { h.first = Timestamp(nanoseconds: f) }
        for a in try rows("""
            SELECT DISTINCT a.value FROM observations INDEXED BY observations_name, json_each(json_extract(body,'$.dns._0.answers')) AS a
            WHERE \(Self.underName) AND kind='dns' AND ts <= ?2 LIMIT 8
            """, args) {
            if case .text(let t) = a[0], IPAddress(t) != nil { h.answers.append(t) }
        }
        return h
    }

    /// Addresses an endpoint stands for: itself, or what its name resolved to.
    func resolve(_ endpoint: String, from: Timestamp, to: Timestamp) throws -> [String] {
        if let ip = IPAddress(endpoint) { return [ip.description] }
        let window: [Value] = [.text(Self.reversedName(endpoint)), .int(from.nanoseconds), .int(to.nanoseconds)]
        var out: [String] = []
        for r in try rows("""
            SELECT DISTINCT a.value FROM observations INDEXED BY observations_name, json_each(json_extract(body,'$.dns._0.answers')) AS a
            WHERE \(Self.underName) AND kind='dns' AND ts BETWEEN ?2 AND ?3
            UNION SELECT DISTINCT resp_h FROM observations INDEXED BY observations_name WHERE rname = ?1 AND kind IN ('ssl','http') AND ts BETWEEN ?2 AND ?3
            LIMIT 64
            """, window) {
            if case .text(let t) = r[0], let ip = IPAddress(t), !out.contains(ip.description) { out.append(ip.description) }
        }
        return out
    }

    /// Records whose name is ?1 (reversed) or a name under it: a range of the `rname` index,
    /// then a check that the match ends at a label boundary ("elpmaxe" must not take "elpmaxe-x").
    static let underName = "rname >= ?1 AND rname < ?1 || '/' AND (rname = ?1 OR substr(rname, length(?1) + 1, 1) = '.')"

    static func summary(_ r: [Value]?) -> TrafficSummary {
        guard let r, r.count == 5, case .int(let n) = r[0] else { return TrafficSummary() }
        func u(_ v: Value) -> UInt64 {
            switch v { case .int(let i): UInt64(max(0, i)); case .double(let d): UInt64(max(0, d)); default: 0 }
        }
        func t(_ v: Value) -> Timestamp? { if case .int(let i) = v { return Timestamp(nanoseconds: i) }; return nil }
        return TrafficSummary(connections: Int(n), bytesOut: u(r[1]), bytesIn: u(r[2]), first: t(r[3]), last: t(r[4]))
    }

    // MARK: - Alerts and incidents

    /// Stores outside alerts as read (their raw record is in the body), in one transaction.
    public func saveAlerts(_ alerts: [Alert], run: Int64?) throws {
        try transaction { try writeAlerts(alerts, run: run, replacing: false) }
    }

    /// Stores incidents; an incident id seen before is replaced by its newer write-up.
    public func saveIncidents(_ incidents: [Incident], run: Int64?) throws {
        try transaction { try writeIncidents(incidents, run: run) }
    }

    func writeIncidents(_ incidents: [Incident], run: Int64?) throws {
        let enc = JSONEncoder()
        try writeRows(incidents, insert: "INSERT OR REPLACE INTO incidents(id, run, priority, start_ts, end_ts, body) VALUES(?,?,?,?,?,?)",
                      delete: nil, run: run, id: \.id) { st, i in
            sqlite3_bind_double(st, 3, i.priority)
            sqlite3_bind_int64(st, 4, i.start.nanoseconds)
            sqlite3_bind_int64(st, 5, i.end.nanoseconds)
            bind(st, 6, String(decoding: try enc.encode(i), as: UTF8.self))
        }
    }

    public func incidents() throws -> [Incident] {
        try commit()
        let decoder = JSONDecoder()
        return try rows("SELECT body FROM incidents ORDER BY priority DESC, start_ts", []).map { r in
            guard case .text(let t) = r[0] else { throw VigilError.corruptStore("an incident row has no body", file: path) }
            do { return try decoder.decode(Incident.self, from: Data(t.utf8)) } catch {
                throw VigilError.corruptStore("an incident row does not decode: \(error)", file: path)
            }
        }
    }

    // MARK: - Small SQL helpers

    enum Value { case int(Int64), double(Double), text(String), null }

    func rows(_ sql: String, _ args: [Value]) throws -> [[Value]] {
        var st: OpaquePointer?
        guard sqlite3_prepare_v2(db, sql, -1, &st, nil) == SQLITE_OK, let st else { throw error("prepare query") }
        defer { sqlite3_finalize(st) }
        for (i, a) in args.enumerated() {
            let k = Int32(i + 1)
            switch a {
            case .int(let v): sqlite3_bind_int64(st, k, v)
            case .double(let v): sqlite3_bind_double(st, k, v)
            case .text(let v): bind(st, k, v)
            case .null: sqlite3_bind_null(st, k)
            }
        }
        var out: [[Value]] = []
        while true {
            let rc = sqlite3_step(st)
            if rc == SQLITE_DONE { break }
            guard rc == SQLITE_ROW else { throw error("query") }
            var row: [Value] = []
            for c in 0..<sqlite3_column_count(st) {
                switch sqlite3_column_type(st, c) {
                case SQLITE_INTEGER: row.append(.int(sqlite3_column_int64(st, c)))
                case SQLITE_FLOAT: row.append(.double(sqlite3_column_double(st, c)))
                case SQLITE_NULL: row.append(.null)
                default:
                    let n = Int(sqlite3_column_bytes(st, c))
                    if let p = sqlite3_column_text(st, c) {
                        row.append(.text(String(decoding: UnsafeBufferPointer(start: p, count: n), as: UTF8.self)))
                    } else { row.append(.null) }
                }
            }
            out.append(row)
        }
        return out
    }

}
