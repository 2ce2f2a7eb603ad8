import CSQLite
import Foundation
import VigilCore

/// Vigil's embedded store: one SQLite file in WAL mode. Later stages (learner, analyst,
/// API) write to it; a file that is damaged or belongs to another program is refused with a
/// clear error, never reset.
public final class SQLiteStore: ObservationSink {
    public static let applicationID: Int32 = 0x5647_494C  // "VGIL"
    public static let schemaVersion: Int32 = 5
    public let path: String
    let db: OpaquePointer
    private var insert: OpaquePointer?
    private var pendingInTransaction = 0
    public var batchSize = 5000
    private let encoder = JSONEncoder()
    /// The observation body writer, reused for every insert.
    private var body = ObservationBody()

    public init(path: String) throws {
        self.path = path
        var handle: OpaquePointer?
        let rc = sqlite3_open_v2(path, &handle, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nil)
        guard rc == SQLITE_OK, let h = handle else {
            let msg = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            if let handle { sqlite3_close(handle) }
            throw VigilError.io("cannot open store: \(msg)", file: path)
        }
        db = h
        sqlite3_busy_timeout(db, 5000)
        do {
            try checkOwnership()
            try exec("PRAGMA journal_mode=WAL")
            try exec("PRAGMA synchronous=NORMAL")
            try migrate()
        } catch {
            sqlite3_close(db)
            throw error
        }
    }

    deinit {
        if pendingInTransaction > 0 { _ = try? exec("COMMIT") }
        if let insert { sqlite3_finalize(insert) }
        sqlite3_close(db)
    }

    func error(_ what: String) -> VigilError {
        let code = sqlite3_errcode(db)
        let msg = String(cString: sqlite3_errmsg(db))
        if code == SQLITE_NOTADB || code == SQLITE_CORRUPT {
            return .corruptStore("\(what): \(msg). The file is damaged or not a database; Vigil left it untouched. Restore it from a backup or point --db at a new file.", file: path)
        }
        return .io("\(what): \(msg)", file: path)
    }

    func exec(_ sql: String) throws {
        var err: UnsafeMutablePointer<CChar>?
        if sqlite3_exec(db, sql, nil, nil, &err) != SQLITE_OK {
            let e = error(sql.prefix(40).description)
            sqlite3_free(err)
            throw e
        }
    }

    func scalarInt(_ sql: String) throws -> Int64 {
        var st: OpaquePointer?
        guard sqlite3_prepare_v2(db, sql, -1, &st, nil) == SQLITE_OK, let st else { throw error("prepare") }
        defer { sqlite3_finalize(st) }
        let rc = sqlite3_step(st)
        if rc == SQLITE_ROW { return sqlite3_column_int64(st, 0) }
        if rc == SQLITE_DONE { return 0 }
        throw error("query")
    }

    /// An empty file is ours to initialise; a database with other tables and another
    /// application id is someone else's.
    private func checkOwnership() throws {
        let app = try scalarInt("PRAGMA application_id")
        let tables = try scalarInt("SELECT count(*) FROM sqlite_master")
        if app == Int64(Self.applicationID) {
            let version = try scalarInt("PRAGMA user_version")
            if version > Int64(Self.schemaVersion) {
                throw VigilError.foreignStore("store schema version \(version) is newer than this Vigil understands (\(Self.schemaVersion)); upgrade Vigil", file: path)
            }
            return
        }
        if tables > 0 {
            throw VigilError.foreignStore("this SQLite file belongs to another program (application_id \(app), \(tables) objects); Vigil will not modify it. Use a new --db path.", file: path)
        }
    }

    private func migrate() throws {
        let version = try scalarInt("PRAGMA user_version")
        if version >= Int64(Self.schemaVersion) {
            // A bulk load cut short left the observation indexes out (see `beginBulkLoad`).
            if try scalarInt("SELECT count(*) FROM sqlite_master WHERE type='index' AND tbl_name='observations'") < Self.observationIndexes.count {
                try createObservationIndexes()
            }
            return
        }
        // `rname` is the DNS query, TLS server name or HTTP host of a record, lower-cased and
        // reversed, so "which records name this domain or a name under it" is an index range,
        // not a scan that parses every body. Version 3 files written before it existed (the
        // first version 3 had alerts and incidents but no rname) gain it too: version 4 looks
        // at the table rather than trusting the number.
        let hasTable = try scalarInt("SELECT count(*) FROM sqlite_master WHERE type='table' AND name='observations'") > 0
        let hasName = try scalarInt("SELECT count(*) FROM pragma_table_info('observations') WHERE name='rname'") > 0
        let addName = hasTable && !hasName ? "ALTER TABLE observations ADD COLUMN rname TEXT;" : ""
        try exec("""
        BEGIN;
        PRAGMA application_id=\(Self.applicationID);
        CREATE TABLE IF NOT EXISTS observations(
          id INTEGER PRIMARY KEY,
          kind TEXT NOT NULL,
          ts INTEGER NOT NULL,
          uid TEXT,
          orig_h TEXT,
          resp_h TEXT,
          resp_p INTEGER,
          body TEXT NOT NULL,
          rname TEXT);
        \(addName)
        \(Self.observationIndexes.map { "CREATE INDEX IF NOT EXISTS \($0.name) ON observations(\($0.columns));" }.joined(separator: "\n"))
        CREATE TABLE IF NOT EXISTS runs(
          id INTEGER PRIMARY KEY,
          command TEXT NOT NULL,
          inputs TEXT NOT NULL,
          stats TEXT NOT NULL,
          first_ts INTEGER,
          last_ts INTEGER);
        CREATE TABLE IF NOT EXISTS breaches(
          id TEXT NOT NULL,
          run INTEGER,
          model TEXT NOT NULL,
          device TEXT NOT NULL,
          ts INTEGER NOT NULL,
          score REAL NOT NULL,
          body TEXT NOT NULL);
        CREATE INDEX IF NOT EXISTS breaches_device ON breaches(device, ts);
        CREATE INDEX IF NOT EXISTS breaches_score ON breaches(score);
        CREATE TABLE IF NOT EXISTS alerts(
          id TEXT NOT NULL,
          run INTEGER,
          source TEXT NOT NULL,
          ts INTEGER NOT NULL,
          severity REAL NOT NULL,
          body TEXT NOT NULL);
        CREATE INDEX IF NOT EXISTS alerts_ts ON alerts(ts);
        CREATE TABLE IF NOT EXISTS incidents(
          id TEXT PRIMARY KEY,
          run INTEGER,
          priority REAL NOT NULL,
          start_ts INTEGER NOT NULL,
          end_ts INTEGER NOT NULL,
          body TEXT NOT NULL);
        CREATE INDEX IF NOT EXISTS incidents_priority ON incidents(priority);
        CREATE TABLE IF NOT EXISTS learner_state(
          name TEXT PRIMARY KEY,
          saved_at INTEGER NOT NULL,
          data BLOB NOT NULL);
        CREATE INDEX IF NOT EXISTS breaches_id ON breaches(id);
        CREATE INDEX IF NOT EXISTS breaches_ts ON breaches(ts);
        CREATE TABLE IF NOT EXISTS devices(
          address TEXT PRIMARY KEY,
          name TEXT,
          last_ts INTEGER NOT NULL,
          body TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS incident_status(
          id TEXT PRIMARY KEY,
          status TEXT NOT NULL,
          note TEXT NOT NULL,
          updated_ts INTEGER NOT NULL,
          updated_by TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS audit_log(
          id INTEGER PRIMARY KEY,
          ts INTEGER NOT NULL,
          actor TEXT NOT NULL,
          role TEXT NOT NULL,
          action TEXT NOT NULL,
          target TEXT NOT NULL,
          detail TEXT NOT NULL);
        PRAGMA user_version=\(Self.schemaVersion);
        """)
        do {
            if !addName.isEmpty { try backfillNames() }
            try exec("COMMIT")
        } catch { try? exec("ROLLBACK"); throw error }
    }

    // MARK: - Observations

    public func consume(_ o: Observation) throws {
        if insert == nil {
            var st: OpaquePointer?
            guard sqlite3_prepare_v2(db, "INSERT INTO observations(kind, ts, uid, orig_h, resp_h, resp_p, body, rname) VALUES(?,?,?,?,?,?,?,?)", -1, &st, nil) == SQLITE_OK else {
                throw error("prepare insert")
            }
            insert = st
        }
        guard let st = insert else { return }
        if pendingInTransaction == 0 { try exec("BEGIN") }
        body.write(o)
        let (uid, origH, respH, respP) = Self.keys(o)
        sqlite3_reset(st)
        bind(st, 1, o.kind.rawValue)
        sqlite3_bind_int64(st, 2, o.ts.nanoseconds)
        bind(st, 3, uid)
        bind(st, 4, origH)
        bind(st, 5, respH)
        bind(st, 8, Self.name(o).map(Self.reversedName))
        if let respP { sqlite3_bind_int64(st, 6, Int64(respP)) } else { sqlite3_bind_null(st, 6) }
        _ = body.bytes.withUnsafeBytes { sqlite3_bind_text(st, 7, $0.baseAddress?.assumingMemoryBound(to: CChar.self), Int32($0.count), vigil_sqlite_transient()) }
        guard sqlite3_step(st) == SQLITE_DONE else { throw error("insert observation") }
        pendingInTransaction += 1
        if pendingInTransaction >= batchSize { try commit() }
    }

    func bind(_ st: OpaquePointer, _ i: Int32, _ v: Int64?) {
        if let v { sqlite3_bind_int64(st, i, v) } else { sqlite3_bind_null(st, i) }
    }

    func bind(_ st: OpaquePointer, _ i: Int32, _ s: String?) {
        guard let s else { sqlite3_bind_null(st, i); return }
        sqlite3_bind_text(st, i, s, -1, vigil_sqlite_transient())
    }

    /// The name a record carries: a DNS query, a TLS server name, an HTTP Host.
    static func name(_ o: Observation) -> String? {
        switch o {
        case .dns(let r): r.query
        case .tls(let r): r.serverName
        case .http(let r): r.host
        default: nil
        }
    }

    /// "A.t.Example.org." -> "gro.elpmaxe.t.a": names under a domain share its prefix.
    static func reversedName(_ name: String) -> String {
        var s = name.lowercased()
        if s.hasSuffix(".") { s.removeLast() }
        return String(s.unicodeScalars.reversed().map(Character.init))
    }

    /// Fills `rname` for records stored before version 3.
    private func backfillNames() throws {
        let found = try rows("""
            SELECT id, coalesce(json_extract(body,'$.dns._0.query'), json_extract(body,'$.tls._0.serverName'), json_extract(body,'$.http._0.host'))
            FROM observations WHERE kind IN ('dns','ssl','http')
            """, [])
        var st: OpaquePointer?
        guard sqlite3_prepare_v2(db, "UPDATE observations SET rname = ? WHERE id = ?", -1, &st, nil) == SQLITE_OK, let st else { throw error("prepare name backfill") }
        defer { sqlite3_finalize(st) }
        for r in found {
            guard case .int(let id) = r[0], case .text(let name) = r[1] else { continue }
            sqlite3_reset(st)
            bind(st, 1, Self.reversedName(name))
            sqlite3_bind_int64(st, 2, id)
            guard sqlite3_step(st) == SQLITE_DONE else { throw error("name backfill") }
        }
    }

    static func keys(_ o: Observation) -> (String?, String?, String?, UInt16?) {
        switch o {
        case .conn(let r): (r.uid, r.id.origHost.description, r.id.respHost.description, r.id.respPort)
        case .dns(let r): (r.uid, r.id.origHost.description, r.id.respHost.description, r.id.respPort)
        case .http(let r): (r.uid, r.id.origHost.description, r.id.respHost.description, r.id.respPort)
        case .tls(let r): (r.uid, r.id.origHost.description, r.id.respHost.description, r.id.respPort)
        case .ssh(let r): (r.uid, r.id.origHost.description, r.id.respHost.description, r.id.respPort)
        case .dhcp(let r): (r.uids.first, r.clientAddr?.description ?? r.assignedAddr?.description, r.serverAddr?.description, 67)
        }
    }

    /// The observation table's indexes (what the analyst's questions look up by).
    static let observationIndexes: [(name: String, columns: String)] = [
        ("observations_ts", "ts"), ("observations_orig", "orig_h, ts"), ("observations_resp", "resp_h, ts"),
        ("observations_uid", "uid"), ("observations_name", "rname, ts"),
    ]
    private var bulkLoading = false

    private func createObservationIndexes() throws {
        try exec("BEGIN; " + Self.observationIndexes.map { "CREATE INDEX IF NOT EXISTS \($0.name) ON observations(\($0.columns));" }.joined() + " COMMIT;")
    }

    /// Starts loading observations into an empty store: the observation indexes are dropped and
    /// built again by `endBulkLoad`, each in one sorted pass, instead of five B-trees being
    /// updated per row (most of `analyze`'s time was the store). Does nothing, and returns
    /// false, when the store already holds observations. Should the process stop before the
    /// end, opening the store builds the indexes again.
    @discardableResult
    public func beginBulkLoad() throws -> Bool {
        guard !bulkLoading, try scalarInt("SELECT EXISTS(SELECT 1 FROM observations)") == 0 else { return false }
        try exec(Self.observationIndexes.map { "DROP INDEX IF EXISTS \($0.name);" }.joined())
        bulkLoading = true
        return true
    }

    /// Commits the load and builds the observation indexes again (before anything queries).
    public func endBulkLoad() throws {
        guard bulkLoading else { return }
        try commit()
        try createObservationIndexes()
        bulkLoading = false
    }

    /// Makes everything written so far durable.
    public func commit() throws {
        guard pendingInTransaction > 0 else { return }
        try exec("COMMIT")
        pendingInTransaction = 0
    }

    public func recordRun(command: String, inputs: [String], statsJSON: String, first: Timestamp?, last: Timestamp?) throws {
        try commit()
        var st: OpaquePointer?
        guard sqlite3_prepare_v2(db, "INSERT INTO runs(command, inputs, stats, first_ts, last_ts) VALUES(?,?,?,?,?)", -1, &st, nil) == SQLITE_OK, let st else {
            throw error("prepare run")
        }
        defer { sqlite3_finalize(st) }
        bind(st, 1, command)
        bind(st, 2, inputs.joined(separator: "\n"))
        bind(st, 3, statsJSON)
        if let first { sqlite3_bind_int64(st, 4, first.nanoseconds) } else { sqlite3_bind_null(st, 4) }
        if let last { sqlite3_bind_int64(st, 5, last.nanoseconds) } else { sqlite3_bind_null(st, 5) }
        guard sqlite3_step(st) == SQLITE_DONE else { throw error("insert run") }
    }

    // MARK: - Breaches and learner state

    /// Stores breaches (as JSON bodies, with the columns an API filters on) in one transaction.
    public func saveBreaches(_ breaches: [Breach], run: Int64?) throws {
        try transaction { try writeBreaches(breaches, run: run, replacing: false) }
    }

    /// Runs `body` in one transaction (after making pending observations durable): all or nothing.
    @discardableResult
    func transaction<R>(_ body: () throws -> R) throws -> R {
        try commit()
        try exec("BEGIN")
        do { let r = try body(); try exec("COMMIT"); return r } catch { try? exec("ROLLBACK"); throw error }
    }

    /// Inserts breaches inside the caller's transaction; `replacing` first removes an earlier
    /// version with the same id in the same run (the live service's upsert).
    func writeBreaches(_ breaches: [Breach], run: Int64?, replacing: Bool) throws {
        try writeRows(breaches, insert: "INSERT INTO breaches(id, run, model, device, ts, score, body) VALUES(?,?,?,?,?,?,?)",
                      delete: replacing ? "DELETE FROM breaches WHERE id = ?1 AND run IS ?2" : nil, run: run, id: \.id) { st, b in
            bind(st, 3, b.model)
            bind(st, 4, b.device)
            sqlite3_bind_int64(st, 5, b.time.nanoseconds)
            sqlite3_bind_double(st, 6, b.score)
            bind(st, 7, String(decoding: try encoder.encode(b), as: UTF8.self))
        }
    }

    /// Inserts outside alerts inside the caller's transaction (their raw record is in the body).
    func writeAlerts(_ alerts: [Alert], run: Int64?, replacing: Bool) throws {
        try writeRows(alerts, insert: "INSERT INTO alerts(id, run, source, ts, severity, body) VALUES(?,?,?,?,?,?)",
                      delete: replacing ? "DELETE FROM alerts WHERE id = ?1 AND run IS ?2" : nil, run: run, id: \.id) { st, a in
            bind(st, 3, a.source)
            sqlite3_bind_int64(st, 4, a.time.nanoseconds)
            sqlite3_bind_double(st, 5, a.severity)
            bind(st, 6, String(decoding: try encoder.encode(a), as: UTF8.self))
        }
    }

    /// One prepared insert (id and run bound first, the rest by `bindRest`) per item, after an
    /// optional prepared delete of the same id and run.
    func writeRows<T>(_ items: [T], insert: String, delete: String?, run: Int64?, id: (T) -> String,
                              bindRest: (OpaquePointer, T) throws -> Void) throws {
        var ins: OpaquePointer?, del: OpaquePointer?
        defer { sqlite3_finalize(ins); sqlite3_finalize(del) }
        guard sqlite3_prepare_v2(db, insert, -1, &ins, nil) == SQLITE_OK, let ins else { throw error("prepare insert") }
        if let delete { guard sqlite3_prepare_v2(db, delete, -1, &del, nil) == SQLITE_OK else { throw error("prepare delete") } }
        for item in items {
            if let del {
                sqlite3_reset(del)
                bind(del, 1, id(item))
                bind(del, 2, run)
                guard sqlite3_step(del) == SQLITE_DONE else { throw error("delete") }
            }
            sqlite3_reset(ins)
            bind(ins, 1, id(item))
            bind(ins, 2, run)
            try bindRest(ins, item)
            guard sqlite3_step(ins) == SQLITE_DONE else { throw error("insert") }
        }
    }

    public func breaches(minScore: Double = 0) throws -> [Breach] {
        try commit()
        var st: OpaquePointer?
        guard sqlite3_prepare_v2(db, "SELECT body FROM breaches WHERE score >= ? ORDER BY rowid", -1, &st, nil) == SQLITE_OK, let st else { throw error("prepare select breaches") }
        defer { sqlite3_finalize(st) }
        sqlite3_bind_double(st, 1, minScore)
        var out: [Breach] = []
        let decoder = JSONDecoder()
        while sqlite3_step(st) == SQLITE_ROW {
            guard let p = sqlite3_column_blob(st, 0) else { continue }
            let data = Data(bytes: p, count: Int(sqlite3_column_bytes(st, 0)))
            do { out.append(try decoder.decode(Breach.self, from: data)) } catch {
                throw VigilError.corruptStore("a breach row does not decode: \(error)", file: path)
            }
        }
        return out
    }

    /// Saves a named state blob (the learner's snapshot), replacing the previous one atomically.
    public func saveState(_ name: String, _ data: Data, at t: Timestamp) throws {
        try commit()
        var st: OpaquePointer?
        guard sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO learner_state(name, saved_at, data) VALUES(?,?,?)", -1, &st, nil) == SQLITE_OK, let st else { throw error("prepare state") }
        defer { sqlite3_finalize(st) }
        bind(st, 1, name)
        sqlite3_bind_int64(st, 2, t.nanoseconds)
        _ = data.withUnsafeBytes { sqlite3_bind_blob(st, 3, $0.baseAddress, Int32($0.count), vigil_sqlite_transient()) }
        guard sqlite3_step(st) == SQLITE_DONE else { throw error("save state") }
    }

    public func loadState(_ name: String) throws -> Data? {
        try commit()
        var st: OpaquePointer?
        guard sqlite3_prepare_v2(db, "SELECT data FROM learner_state WHERE name = ?", -1, &st, nil) == SQLITE_OK, let st else { throw error("prepare state read") }
        defer { sqlite3_finalize(st) }
        bind(st, 1, name)
        let rc = sqlite3_step(st)
        if rc == SQLITE_DONE { return nil }
        guard rc == SQLITE_ROW else { throw error("read state") }
        let n = Int(sqlite3_column_bytes(st, 0))
        guard let p = sqlite3_column_blob(st, 0) else { return Data() }
        return Data(bytes: p, count: n)
    }

    /// The id of the last recorded run.
    public func lastRunID() throws -> Int64 { try scalarInt("SELECT max(id) FROM runs") }

    // MARK: - Reading

    public func count(kind: ObservationKind? = nil) throws -> Int {
        try commit()
        if let kind { return Int(try scalarInt("SELECT count(*) FROM observations WHERE kind='\(kind.rawValue)'")) }
        return Int(try scalarInt("SELECT count(*) FROM observations"))
    }

    /// Observations in stored order, optionally of one kind.
    public func observations(kind: ObservationKind? = nil, limit: Int = Int.max) throws -> [Observation] {
        try commit()
        var st: OpaquePointer?
        let sql = kind == nil ? "SELECT body FROM observations ORDER BY id LIMIT ?" : "SELECT body FROM observations WHERE kind=? ORDER BY id LIMIT ?"
        guard sqlite3_prepare_v2(db, sql, -1, &st, nil) == SQLITE_OK, let st else { throw error("prepare select") }
        defer { sqlite3_finalize(st) }
        var i: Int32 = 1
        if let kind { bind(st, 1, kind.rawValue); i = 2 }
        sqlite3_bind_int64(st, i, Int64(min(limit, Int(Int64.max))))
        var out: [Observation] = []
        let decoder = JSONDecoder()
        while true {
            let rc = sqlite3_step(st)
            if rc == SQLITE_DONE { break }
            guard rc == SQLITE_ROW else { throw error("read observations") }
            let n = Int(sqlite3_column_bytes(st, 0))
            guard let p = sqlite3_column_blob(st, 0) else { continue }
            let data = Data(bytes: p, count: n)
            do { out.append(try decoder.decode(Observation.self, from: data)) } catch {
                throw VigilError.corruptStore("an observation row does not decode: \(error)", file: path)
            }
        }
        return out
    }

    /// SQLite's own consistency check of the whole file.
    public func integrityCheck() throws -> String {
        var st: OpaquePointer?
        guard sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, nil) == SQLITE_OK, let st else { throw error("integrity_check") }
        defer { sqlite3_finalize(st) }
        guard sqlite3_step(st) == SQLITE_ROW, let t = sqlite3_column_text(st, 0) else { throw error("integrity_check") }
        return String(cString: t)
    }
}
