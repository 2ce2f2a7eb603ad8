import Foundation
import Testing
import VigilCore
@testable import VigilStore
import VigilSim
import VigilWire

/// The store writes observation bodies by hand; they must read back as the same values, and
/// carry every property of every record.
@Suite struct ObservationBodyTests {
    static let hostile = "q\"uote\\back\u{1}ctl\ttab\nnl é 漢 🙂 </script>"

    /// One record of each kind with every optional set, odd strings and fractional numbers.
    static var everyField: [Observation] {
        let id = ConnectionID(origHost: IPAddress("10.0.0.1")!, origPort: 51000, respHost: IPAddress("2001:db8::7")!, respPort: 443, proto: .tcp)
        let t = Timestamp(seconds: 1_733_000_000, nanoseconds: 123_456_789)
        let mac = MACAddress("02:00:00:00:00:15")!
        return [
            .conn(ConnRecord(ts: t, uid: "Cabc", id: id, service: ["ssl", hostile], duration: Duration(nanoseconds: -5), origBytes: .max,
                             respBytes: 0, connState: "SF", localOrig: true, localResp: false, missedBytes: 3, history: "ShADadFf",
                             origPackets: 9, origIPBytes: 587, respPackets: 21, respIPBytes: 23450, tunnelParents: ["Cx"],
                             origMAC: mac, respMAC: mac, extra: ["label": hostile, "": ""])),
            .dns(DNSRecord(ts: t, uid: "Cd", id: id, transID: 65535, rtt: .milliseconds(28), query: hostile, qclass: 1, qtype: 16, rcode: 3,
                           authoritative: true, truncated: true, recursionDesired: true, recursionAvailable: true, z: 7,
                           answers: ["192.0.2.1", hostile], ttls: [0, 1792, 0.25, 1e-7, 123456.789], rejected: true, extra: ["k": "v"])),
            .http(HTTPRecord(ts: t, uid: "Ch", id: id, transDepth: 4, method: "GET", host: hostile, uri: "/a?b=\"c\"", referrer: "r",
                             version: "1.1", userAgent: hostile, origin: "o", requestBodyLength: 1, responseBodyLength: 2,
                             statusCode: 200, statusMessage: "OK", contentType: "text/html")),
            .tls(TLSRecord(ts: t, uid: "Ct", id: id, version: "TLSv13", cipher: "c", curve: "x25519", serverName: hostile, resumed: true,
                           nextProtocol: "h2", established: true, ja4: "t13d", ja4s: "t130", clientALPN: ["h2", "http/1.1"])),
            .ssh(SSHRecord(ts: t, uid: "Cs", id: id, version: 2, authSuccess: false, authAttempts: 3, client: hostile, server: "s",
                           cipherAlg: "a", macAlg: "b", compressionAlg: "none", kexAlg: "k", hostKeyAlg: "h")),
            .dhcp(DHCPRecord(ts: t, uids: ["C1", "C2"], clientAddr: IPAddress("10.0.0.9"), serverAddr: IPAddress("10.0.0.1"), mac: mac,
                             hostName: hostile, clientFQDN: "f", domain: "d", requestedAddr: IPAddress("10.0.0.9"),
                             assignedAddr: IPAddress("10.0.0.9"), leaseTime: .seconds(3600), msgTypes: ["DISCOVER", "ACK"],
                             duration: .milliseconds(5))),
        ]
    }

    func decode(_ b: ObservationBody) throws -> Observation { try JSONDecoder().decode(Observation.self, from: Data(b.bytes)) }

    @Test func everyRecordKindReadsBackEqual() throws {
        var w = ObservationBody()
        for o in Self.everyField {
            w.write(o)
            #expect(try decode(w) == o, "\(String(decoding: w.bytes, as: UTF8.self))")
        }
    }

    @Test func everyPropertyOfEveryRecordIsWritten() throws {
        var w = ObservationBody()
        for o in Self.everyField {
            w.write(o)
            let outer = try #require(try JSONSerialization.jsonObject(with: Data(w.bytes)) as? [String: [String: [String: Any]]])
            let fields = try #require(outer.values.first?["_0"])
            let record: Any = switch o {
            case .conn(let r): r
            case .dns(let r): r
            case .http(let r): r
            case .tls(let r): r
            case .ssh(let r): r
            case .dhcp(let r): r
            }
            let properties = Set(Mirror(reflecting: record).children.compactMap(\.label))
            #expect(Set(fields.keys) == properties, "\(o.kind): written \(fields.keys.sorted()), properties \(properties.sorted())")
        }
    }

    @Test func aGeneratedCaptureRoundTripsThroughTheStore() throws {
        var c = SynthConfiguration()
        c.sessions = 400
        let engine = PacketEngine(configuration: WireConfiguration())
        var obs: [Observation] = []
        TrafficSynth(c).run { ts, frame in
            engine.process(frame, link: .ethernet, at: ts)
            obs += engine.output
            engine.output.removeAll(keepingCapacity: true)
        }
        engine.finish()
        obs += engine.output
        #expect(Set(obs.map(\.kind)).count == 6)
        let path = NSTemporaryDirectory() + "vigil-body-\(getpid()).sqlite"
        for s in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + s) }
        let store = try SQLiteStore(path: path)
        for o in obs { try store.consume(o) }
        #expect(try store.observations() == obs)
    }

    @Test func numbersJSONCannotHoldAreStoredAsZeroInsteadOfFailingTheRun() throws {
        let id = ConnectionID(origHost: IPAddress("10.0.0.1")!, origPort: 1, respHost: IPAddress("10.0.0.2")!, respPort: 53, proto: .udp)
        var w = ObservationBody()
        w.write(.dns(DNSRecord(ts: .zero, uid: "C", id: id, ttls: [.infinity, .nan, 5])))
        guard case .dns(let r) = try decode(w) else { Issue.record("not a dns record"); return }
        #expect(r.ttls == [0, 0, 5])
    }
}

/// A store written by an earlier schema opens, gains the name index, and answers the analyst's
/// questions about records it held before: version 2, and the first version 3 (alerts and
/// incidents, but no name column yet; `make demo` on a machine that had run it failed).
@Suite struct StoreMigrationTests {
    @Test(arguments: [2, 3])
    func anEarlierStoreIsMigratedAndItsNamesFound(version: Int) throws {
        let path = NSTemporaryDirectory() + "vigil-v\(version)-\(getpid()).sqlite"
        for s in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + s) }
        let id = ConnectionID(origHost: IPAddress("10.0.0.5")!, origPort: 5353, respHost: IPAddress("10.0.0.1")!, respPort: 53, proto: .udp)
        let lookup = Observation.dns(DNSRecord(ts: Timestamp(seconds: 100), uid: "C1", id: id, query: "x1.T.My-Exfil.example", answers: ["198.51.100.9"]))
        let body = String(decoding: try JSONEncoder().encode(lookup), as: UTF8.self).replacingOccurrences(of: "'", with: "''")
        let v2 = """
        PRAGMA application_id=\(SQLiteStore.applicationID);
        CREATE TABLE observations(id INTEGER PRIMARY KEY, kind TEXT NOT NULL, ts INTEGER NOT NULL, uid TEXT, orig_h TEXT, resp_h TEXT, resp_p INTEGER, body TEXT NOT NULL);
        CREATE TABLE runs(id INTEGER PRIMARY KEY, command TEXT NOT NULL, inputs TEXT NOT NULL, stats TEXT NOT NULL, first_ts INTEGER, last_ts INTEGER);
        CREATE TABLE breaches(id TEXT NOT NULL, run INTEGER, model TEXT NOT NULL, device TEXT NOT NULL, ts INTEGER NOT NULL, score REAL NOT NULL, body TEXT NOT NULL);
        CREATE TABLE learner_state(name TEXT PRIMARY KEY, saved_at INTEGER NOT NULL, data BLOB NOT NULL);
        INSERT INTO observations(kind, ts, uid, orig_h, resp_h, resp_p, body) VALUES('dns', 100000000000, 'C1', '10.0.0.5', '10.0.0.1', 53, '\(body)');
        """ + (version == 3 ? """
        CREATE TABLE alerts(id TEXT NOT NULL, run INTEGER, source TEXT NOT NULL, ts INTEGER NOT NULL, severity REAL NOT NULL, body TEXT NOT NULL);
        CREATE TABLE incidents(id TEXT PRIMARY KEY, run INTEGER, priority REAL NOT NULL, start_ts INTEGER NOT NULL, end_ts INTEGER NOT NULL, body TEXT NOT NULL);
        """ : "") + "PRAGMA user_version=\(version);"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["sqlite3", path, v2]
        try p.run()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        let store = try SQLiteStore(path: path)
        #expect(try store.observations() == [lookup])
        let devices = try store.devicesContacting("my-exfil.example", from: .zero, to: Timestamp(seconds: 1000), limit: 10)
        #expect(devices == ["10.0.0.5"])
        // A name that only ends in the same text, not the same labels, is not under it.
        #expect(try store.devicesContacting("exfil.example", from: .zero, to: Timestamp(seconds: 1000), limit: 10).isEmpty)
        #expect(try store.integrityCheck() == "ok")
        // New records go in beside the old ones.
        try store.consume(lookup)
        try store.commit()
        #expect(try store.observations().count == 2)
    }
}
