import CSQLite
import Foundation
import VigilCore

/// A person's decision on an incident (the API's analysts set it; re-analysis keeps it).
public struct IncidentStatus: Hashable, Sendable, Codable {
    public static let states = ["open", "acknowledged", "resolved", "false_positive"]
    public var status: String
    public var note: String
    public var updatedAt: Timestamp
    public var updatedBy: String
    public init(status: String, note: String, updatedAt: Timestamp, updatedBy: String) {
        self.status = status; self.note = note; self.updatedAt = updatedAt; self.updatedBy = updatedBy
    }
}

/// One line of the API's change log: who did what to what, and when (wall clock).
public struct AuditEntry: Hashable, Sendable, Codable {
    public var id: Int64
    public var time: Timestamp
    public var actor: String
    public var role: String
    public var action: String
    public var target: String
    public var detail: String
}

/// Which breaches a list shows.
public struct BreachFilter: Sendable {
    public var device: String?
    /// Devices whose name starts with this ("agent:" for the MCP gateway's agents).
    public var devicePrefix: String?
    public var model: String?
    public var minScore: Double = 0
    public var since: Timestamp?
    public var until: Timestamp?
    public var limit = 100
    public var offset = 0
    public init() {}
}

/// What `vigil serve` keeps: checkpoints that make learner state and the breaches it found
/// durable together, the device directory, people's decisions on incidents, the change log,
/// and the reads the API answers.
extension SQLiteStore {
    // MARK: - Checkpoints

    /// The id of the newest stored observation (0 for none).
    public func lastObservationID() throws -> Int64 {
        try commit()
        return try scalarInt("SELECT coalesce(max(id), 0) FROM observations")
    }

    /// Makes the learner's state, the breaches found up to now and the device directory durable
    /// in one transaction, with the id of the last observation the state has seen. After a
    /// crash, observations after that id are replayed into the restored state.
    public func checkpoint(state: Data, at t: Timestamp, breaches: [Breach], alerts: [Alert] = [], devices: [DeviceSummary], run: Int64?) throws -> Int64 {
        try commit()
        let position = try scalarInt("SELECT coalesce(max(id), 0) FROM observations")
        try transaction {
            try writeBreaches(breaches, run: run, replacing: true)
            try writeAlerts(alerts, run: run, replacing: true)
            try insertDevices(devices)
            try saveState("learner", state, at: t)
            try saveState("serve.position", Data(String(position).utf8), at: t)
        }
        return position
    }

    private func insertDevices(_ devices: [DeviceSummary]) throws {
        let enc = JSONEncoder()
        for d in devices {
            _ = try rows("INSERT OR REPLACE INTO devices(address, name, last_ts, body) VALUES(?,?,?,?)",
                         [.text(d.address), d.name.map { .text($0) } ?? .null, .int(d.lastSeen.nanoseconds),
                          .text(String(decoding: try enc.encode(d), as: UTF8.self))])
        }
    }

    /// Stores the device directory (what `vigil analyze --db` learned), replacing by address.
    public func saveDevices(_ devices: [DeviceSummary]) throws {
        try transaction { try insertDevices(devices) }
    }

    /// For each incident (by id), its devices' learned normal and their stored hours from a day
    /// before the incident to a day after (at most `perIncident` devices each).
    public func activity(for incidents: [Incident], utcOffsetHours: Int, perIncident: Int = 6) throws -> [String: [DeviceActivity]] {
        var out: [String: [DeviceActivity]] = [:]
        for i in incidents {
            for d in i.devices.prefix(perIncident) {
                guard let summary = try deviceSummary(address: d) else { continue }
                let hours = try deviceHours(address: d, from: i.start - .seconds(86_400), to: i.end + .seconds(86_400))
                out[i.id, default: []].append(DeviceActivity(device: summary, hours: hours, utcOffsetHours: utcOffsetHours))
            }
        }
        return out
    }

    /// The observation id the saved learner state has seen up to (nil before any checkpoint).
    public func checkpointPosition() throws -> Int64? {
        guard let d = try loadState("serve.position") else { return nil }
        return Int64(String(decoding: d, as: UTF8.self))
    }

    /// Stored observations after `id`, oldest first, with their ids (for replay after a crash).
    public func observations(after id: Int64, limit: Int) throws -> [(Int64, Observation)] {
        try commit()
        let decoder = JSONDecoder()
        return try rows("SELECT id, body FROM observations WHERE id > ? ORDER BY id LIMIT ?", [.int(id), .int(Int64(limit))]).compactMap { r in
            guard case .int(let i) = r[0], case .text(let body) = r[1] else { return nil }
            do { return (i, try decoder.decode(Observation.self, from: Data(body.utf8))) } catch {
                throw VigilError.corruptStore("observation \(i) does not decode: \(error)", file: path)
            }
        }
    }

    /// Replaces one run's incidents with a fresh analysis of the breaches since `since`: new
    /// write-ups replace old ones by id, incidents in that window that merged into others
    /// disappear, older ones stay. People's decisions (incident_status) stay.
    public func replaceIncidents(_ incidents: [Incident], run: Int64?, since: Timestamp) throws {
        try transaction {
            let keep = Set(incidents.map(\.id))
            for r in try rows("SELECT id FROM incidents WHERE run IS ? AND end_ts >= ?", [run.map { .int($0) } ?? .null, .int(since.nanoseconds)]) {
                if case .text(let id) = r[0], !keep.contains(id) { _ = try rows("DELETE FROM incidents WHERE id = ?", [.text(id)]) }
            }
            try writeIncidents(incidents, run: run)
        }
    }

    /// Deletes observations older than `observationsBefore`, and breaches, alerts and incidents
    /// older than `findingsBefore`. Returns the observations deleted.
    @discardableResult
    public func prune(observationsBefore: Timestamp, findingsBefore: Timestamp) throws -> Int {
        try transaction {
            _ = try rows("DELETE FROM observations WHERE ts < ?", [.int(observationsBefore.nanoseconds)])
            let n = Int(sqlite3_changes(db))
            for (table, column) in [("breaches", "ts"), ("alerts", "ts"), ("incidents", "end_ts"), ("devices", "last_ts")] {
                _ = try rows("DELETE FROM \(table) WHERE \(column) < ?", [.int(findingsBefore.nanoseconds)])
            }
            return n
        }
    }

    // MARK: - Reads for the API

    private func decode<T: Decodable>(_ t: T.Type, _ rows: [[Value]], what: String) throws -> [T] {
        let decoder = JSONDecoder()
        return try rows.map { r in
            guard case .text(let body) = r[0] else { throw VigilError.corruptStore("a \(what) row has no body", file: path) }
            do { return try decoder.decode(T.self, from: Data(body.utf8)) } catch {
                throw VigilError.corruptStore("a \(what) row does not decode: \(error)", file: path)
            }
        }
    }

    /// The latest version of each breach that passes the filter, newest first.
    public func breaches(_ f: BreachFilter) throws -> [Breach] {
        try commit()
        var sql = "SELECT body FROM breaches WHERE rowid IN (SELECT max(rowid) FROM breaches GROUP BY id) AND score >= ?"
        var args: [Value] = [.double(f.minScore)]
        if let d = f.device { sql += " AND device = ?"; args.append(.text(d)) }
        if let p = f.devicePrefix { sql += " AND substr(device, 1, length(?)) = ?"; args += [.text(p), .text(p)] }
        if let m = f.model { sql += " AND model = ?"; args.append(.text(m)) }
        if let s = f.since { sql += " AND ts >= ?"; args.append(.int(s.nanoseconds)) }
        if let u = f.until { sql += " AND ts <= ?"; args.append(.int(u.nanoseconds)) }
        sql += " ORDER BY ts DESC, rowid DESC LIMIT ? OFFSET ?"
        args += [.int(Int64(max(0, f.limit))), .int(Int64(max(0, f.offset)))]
        return try decode(Breach.self, try rows(sql, args), what: "breach")
    }

    /// Outside alerts (and gateway findings) at or after `since`, oldest first.
    public func alerts(since: Timestamp, limit: Int) throws -> [Alert] {
        try commit()
        return try decode(Alert.self, try rows("SELECT body FROM alerts WHERE ts >= ? ORDER BY ts LIMIT ?", [.int(since.nanoseconds), .int(Int64(max(0, limit)))]), what: "alert")
    }

    public func breach(id: String) throws -> Breach? {
        try commit()
        return try decode(Breach.self, try rows("SELECT body FROM breaches WHERE id = ? ORDER BY rowid DESC LIMIT 1", [.text(id)]), what: "breach").first
    }

    /// Breaches by id, the latest version of each (an incident's related breaches).
    public func breaches(ids: [String]) throws -> [Breach] {
        try ids.prefix(500).compactMap { try breach(id: $0) }
    }

    public func incident(id: String) throws -> Incident? {
        try commit()
        return try decode(Incident.self, try rows("SELECT body FROM incidents WHERE id = ?", [.text(id)]), what: "incident").first
    }

    public func deviceSummaries(limit: Int, offset: Int) throws -> [DeviceSummary] {
        try commit()
        return try decode(DeviceSummary.self, try rows("SELECT body FROM devices ORDER BY last_ts DESC, address LIMIT ? OFFSET ?",
                                                       [.int(Int64(max(0, limit))), .int(Int64(max(0, offset)))]), what: "device")
    }

    public func deviceSummary(address: String) throws -> DeviceSummary? {
        try commit()
        return try decode(DeviceSummary.self, try rows("SELECT body FROM devices WHERE address = ?", [.text(address)]), what: "device").first
    }

    /// A device's stored traffic hour by hour between two times: what it sent and received
    /// (as originator and as responder) and how many connections.
    public func deviceHours(address: String, from: Timestamp, to: Timestamp) throws -> [DeviceHour] {
        try commit()
        let r = try rows("""
            SELECT h, sum(s), sum(r), count(*) FROM (
              SELECT ts / 3600000000000 AS h, coalesce(json_extract(body,'$.conn._0.origBytes'),0) AS s, coalesce(json_extract(body,'$.conn._0.respBytes'),0) AS r
                FROM observations WHERE kind='conn' AND orig_h = ?1 AND ts BETWEEN ?2 AND ?3
              UNION ALL
              SELECT ts / 3600000000000, coalesce(json_extract(body,'$.conn._0.respBytes'),0), coalesce(json_extract(body,'$.conn._0.origBytes'),0)
                FROM observations WHERE kind='conn' AND resp_h = ?1 AND ts BETWEEN ?2 AND ?3)
            GROUP BY h ORDER BY h
            """, [.text(address), .int(from.nanoseconds), .int(to.nanoseconds)])
        func d(_ v: Value) -> Double { switch v { case .int(let i): Double(i); case .double(let x): x; default: 0 } }
        return r.compactMap { row in
            guard case .int(let h) = row[0], case .int(let n) = row[3] else { return nil }
            return DeviceHour(hour: Timestamp(seconds: h * 3600), sent: d(row[1]), received: d(row[2]), connections: Int(n))
        }
    }

    /// Observations that mention `term` between two times, newest first: an address (either
    /// end), a connection uid, or a domain name and the names under it.
    public func search(_ term: String, from: Timestamp, to: Timestamp, limit: Int) throws -> [Observation] {
        try commit()
        let window: [Value] = [.int(from.nanoseconds), .int(to.nanoseconds), .int(Int64(max(0, min(limit, 1000))))]
        let r: [[Value]]
        if let ip = IPAddress(term) {
            r = try rows("""
                SELECT body FROM (SELECT id, body FROM observations WHERE orig_h = ?4 AND ts BETWEEN ?1 AND ?2
                UNION SELECT id, body FROM observations WHERE resp_h = ?4 AND ts BETWEEN ?1 AND ?2) ORDER BY id DESC LIMIT ?3
                """, window + [.text(ip.description)])
        } else if term.count >= 10, term.count <= 24, term.first == "C", term.allSatisfy({ $0.isLetter || $0.isNumber }) {
            r = try rows("SELECT body FROM observations WHERE uid = ?4 AND ts BETWEEN ?1 AND ?2 ORDER BY id DESC LIMIT ?3", window + [.text(term)])
        } else {
            let under = Self.underName.replacingOccurrences(of: "?1", with: "?4")
            r = try rows("SELECT body FROM observations INDEXED BY observations_name WHERE \(under) AND ts BETWEEN ?1 AND ?2 ORDER BY id DESC LIMIT ?3",
                         window + [.text(Self.reversedName(term))])
        }
        return try decode(Observation.self, r, what: "observation")
    }

    /// Counts for metrics and the overview.
    public func tableCounts() throws -> [String: Int] {
        try commit()
        var out: [String: Int] = [:]
        out["observations"] = Int(try scalarInt("SELECT coalesce(max(id), 0) - coalesce(min(id), 1) + 1 FROM observations"))
        for t in ["breaches", "incidents", "devices", "alerts"] { out[t] = Int(try scalarInt("SELECT count(*) FROM \(t)")) }
        return out
    }

    // MARK: - People's decisions and the change log

    public func incidentStatuses() throws -> [String: IncidentStatus] {
        try commit()
        var out: [String: IncidentStatus] = [:]
        for r in try rows("SELECT id, status, note, updated_ts, updated_by FROM incident_status", []) {
            guard case .text(let id) = r[0], case .text(let s) = r[1], case .text(let n) = r[2], case .int(let t) = r[3], case .text(let by) = r[4] else { continue }
            out[id] = IncidentStatus(status: s, note: n, updatedAt: Timestamp(nanoseconds: t), updatedBy: by)
        }
        return out
    }

    /// Sets an incident's status and records the change in the audit log, in one transaction.
    public func setIncidentStatus(_ id: String, _ s: IncidentStatus, role: String) throws {
        try transaction {
            _ = try rows("INSERT OR REPLACE INTO incident_status(id, status, note, updated_ts, updated_by) VALUES(?,?,?,?,?)",
                         [.text(id), .text(s.status), .text(s.note), .int(s.updatedAt.nanoseconds), .text(s.updatedBy)])
            try appendAudit(at: s.updatedAt, actor: s.updatedBy, role: role, action: "incident.status", target: id,
                            detail: "status=\(s.status)" + (s.note.isEmpty ? "" : " note=\(s.note)"))
        }
    }

    public func appendAudit(at t: Timestamp, actor: String, role: String, action: String, target: String, detail: String) throws {
        _ = try rows("INSERT INTO audit_log(ts, actor, role, action, target, detail) VALUES(?,?,?,?,?,?)",
                     [.int(t.nanoseconds), .text(actor), .text(role), .text(action), .text(target), .text(detail)])
    }

    public func auditEntries(limit: Int) throws -> [AuditEntry] {
        try commit()
        return try rows("SELECT id, ts, actor, role, action, target, detail FROM audit_log ORDER BY id DESC LIMIT ?", [.int(Int64(max(0, limit)))]).compactMap { r in
            guard case .int(let id) = r[0], case .int(let t) = r[1], case .text(let a) = r[2], case .text(let role) = r[3],
                  case .text(let act) = r[4], case .text(let target) = r[5], case .text(let d) = r[6] else { return nil }
            return AuditEntry(id: id, time: Timestamp(nanoseconds: t), actor: a, role: role, action: act, target: target, detail: d)
        }
    }
}
