import Foundation
import Testing
import VigilCore
import VigilTestSupport

/// The captures the serve tests replay, made once per test run: an office (8 devices, 3 days,
/// a DNS tunnel and a beacon, with labels) and a capture full of hostile names.
struct Captures: Sendable {
    let office: String, labels: String, hostile: String
    static let made: Result<Captures, any Error> = Result {
        let dir = try tempDir("captures")
        let office = dir.appendingPathComponent("office.pcap").path
        let r = try run(vigilBinary, ["simulate", "--devices", "8", "--days", "3", "--attacks", "dnstunnel,beacon", "--seed", "7", "--out", office])
        guard r.status == 0 else { throw ServeProcess.ServeFailure(message: "vigil simulate failed: \(r.err)") }
        let hostile = dir.appendingPathComponent("hostile.pcap").path
        try HostileCapture.write(hostile)
        return Captures(office: office, labels: dir.appendingPathComponent("office.labels.json").path, hostile: hostile)
    }
}

func requireTools() throws {
    try #require(FileManager.default.isExecutableFile(atPath: vigilBinary), "\(vigilBinary) is missing: run swift build (make test does)")
}

/// A `vigil serve` replaying the office and hostile captures with three tokens, caught up.
struct OfficeServer {
    let serve: ServeProcess
    let viewer: Token, analyst: Token, admin: Token
    let dir: URL
    let captures: Captures

    init(_ name: String = #function, extra: [String] = []) throws {
        try requireTools()
        captures = try Captures.made.get()
        dir = try tempDir(name)
        viewer = try Token("vera", "viewer"); analyst = try Token("ana", "analyst"); admin = try Token("adam", "admin")
        let config = dir.appendingPathComponent("serve.conf")
        let text = ([
            "# written by the serve tests",
            "store \(dir.appendingPathComponent("vigil.sqlite").path)",
            "replay \(captures.office)",
            "replay \(captures.hostile)",
            "listen 127.0.0.1:0",
            "baseline_days 1",
            "checkpoint_seconds 1",
            "analyze_seconds 1",
            viewer.line, analyst.line, admin.line,
        ] + extra).joined(separator: "\n") + "\n"
        try text.write(to: config, atomically: true, encoding: .utf8)
        serve = try ServeProcess(config: config)
        try serve.wait(token: admin.secret, "the replays to be learned and investigated") { ($0["caughtUp"] as? Bool) == true }
    }

    func incidents() throws -> [[String: Any]] {
        try #require(try serve.json("/api/incidents", token: viewer.secret)["items"] as? [[String: Any]])
    }
}

@Suite(.serialized) struct ServeAPITests {
    /// Every route the OpenAPI document names, with real ids filled in.
    func routes(_ s: OfficeServer) throws -> [(String, String)] {
        let doc = try s.serve.json("/api/openapi.json", token: s.viewer.secret)
        let paths = try #require(doc["paths"] as? [String: [String: Any]])
        let incident = try #require(try s.incidents().first?["id"] as? String)
        let breach = try #require((try s.serve.json("/api/breaches", token: s.viewer.secret)["items"] as? [[String: Any]])?.first?["id"] as? String)
        let device = try #require((try s.serve.json("/api/devices", token: s.viewer.secret)["items"] as? [[String: Any]])?.first?["address"] as? String)
        var out: [(String, String)] = []
        for (path, ops) in paths.sorted(by: { $0.key < $1.key }) {
            let concrete = path.replacingOccurrences(of: "{id}", with: path.hasPrefix("/api/breaches") ? breach : incident)
                .replacingOccurrences(of: "{address}", with: device).replacingOccurrences(of: "{file}", with: "incidents.json")
            for method in ops.keys { out.append((method.uppercased(), concrete + (path == "/api/search" ? "?q=\(device)" : ""))) }
        }
        return out
    }

    @Test func everyRouteIsRefusedWithoutAValidToken() throws {
        let s = try OfficeServer()
        defer { _ = s.serve.terminate() }
        let all = try routes(s)
        #expect(all.count >= 17, "the OpenAPI document names every route")
        for (method, path) in all where path != "/api/events" || method != "GET" {
            let none = try s.serve.request(path, token: nil, method: method, body: method == "PUT" ? #"{"status":"resolved"}"# : nil)
            #expect(none.status == 401, "\(method) \(path) without a token answered \(none.status)")
            #expect(none.headers.contains("WWW-Authenticate: Bearer"), "\(method) \(path): 401 names the scheme")
            let wrong = try s.serve.request(path, token: "vgl_not_a_token", method: method, body: method == "PUT" ? #"{"status":"resolved"}"# : nil)
            #expect(wrong.status == 401, "\(method) \(path) with a wrong token answered \(wrong.status)")
            let ok = try s.serve.request(path, token: s.admin.secret, method: method, body: method == "PUT" ? #"{"status":"acknowledged"}"# : nil)
            #expect(ok.status == 200, "\(method) \(path) with the admin token answered \(ok.status): \(ok.body.prefix(200))")
        }
        let events = try s.serve.request("/api/events", token: nil)
        #expect(events.status == 401)
    }

    @Test func rolesLimitWhatATokenMayDoAndChangesAreAudited() throws {
        let s = try OfficeServer()
        defer { _ = s.serve.terminate() }
        let id = try #require(try s.incidents().first?["id"] as? String)
        let byViewer = try s.serve.request("/api/incidents/\(id)/status", token: s.viewer.secret, method: "PUT", body: #"{"status":"resolved"}"#)
        #expect(byViewer.status == 403)
        #expect(byViewer.body.contains("analyst role"))
        let byAnalyst = try s.serve.request("/api/incidents/\(id)/status", token: s.analyst.secret, method: "PUT", body: #"{"status":"false_positive","note":"lab test"}"#)
        #expect(byAnalyst.status == 200, "\(byAnalyst.body)")
        let bad = try s.serve.request("/api/incidents/\(id)/status", token: s.analyst.secret, method: "PUT", body: #"{"status":"gone"}"#)
        #expect(bad.status == 400)
        #expect(try s.serve.request("/api/audit", token: s.analyst.secret).status == 403)
        let audit = try #require(try s.serve.json("/api/audit", token: s.admin.secret)["items"] as? [[String: Any]])
        let entry = try #require(audit.first)
        #expect(entry["actor"] as? String == "ana")
        #expect(entry["target"] as? String == id)
        #expect((entry["detail"] as? String)?.contains("false_positive") == true)
        // The decision survives re-investigation and shows in the list.
        let listed = try s.incidents().first { $0["id"] as? String == id }
        #expect(listed?["status"] as? String == "false_positive")
    }

    @Test func theKnownAttackBecomesAnIncidentWithItsStory() throws {
        let s = try OfficeServer()
        defer { _ = s.serve.terminate() }
        let labels = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: s.captures.labels))) as? [[String: Any]])
        let tunnel = try #require(labels.first { ($0["attack"] as? String) == "dnstunnel" }, "labels: \(labels)")
        let device = try #require(tunnel["device"] as? String)
        let incidents = try s.incidents()
        let found = try #require(incidents.first { ($0["devices"] as? [String])?.contains(device) == true && ($0["techniques"] as? [String])?.contains("T1071.004") == true },
                                 "no DNS tunnelling incident on \(device): \(incidents.map { $0["title"] ?? "" })")
        let detail = try s.serve.json("/api/incidents/\(found["id"] as! String)", token: s.viewer.secret)
        let incident = try #require(detail["incident"] as? [String: Any])
        #expect(((incident["narrative"] as? [String]) ?? []).joined().contains(device))
        #expect(!((incident["timeline"] as? [Any]) ?? []).isEmpty)
        #expect(!((detail["relatedBreaches"] as? [Any]) ?? []).isEmpty)
        // The HTML report charts the device's hours against its learned normal.
        let html = try s.serve.request("/api/reports/incidents.html", token: s.viewer.secret)
        #expect(html.status == 200)
        #expect(html.headers.contains("Content-Security-Policy: sandbox"))
        #expect(html.body.contains("Devices against their normal"))
        #expect(html.body.contains("aria-label=\"\(device) bytes sent per hour against its normal\""))
        // The device page has the learned normal and the stored hours.
        let d = try s.serve.json("/api/devices/\(device)", token: s.viewer.secret)
        #expect(((d["device"] as? [String: Any])?["usualSent"] as? [Any])?.count == 168)
        #expect(((d["hours"] as? [Any]) ?? []).count >= 24)
    }

    @Test func metricsAndStatusCountWhatWasRead() throws {
        let s = try OfficeServer()
        defer { _ = s.serve.terminate() }
        let m = try s.serve.request("/metrics", token: s.viewer.secret)
        #expect(m.status == 200)
        #expect(m.headers.contains("text/plain; version=0.0.4"))
        let line = try #require(m.body.split(separator: "\n").first { $0.hasPrefix("vigil_packets_total{source=\"\(s.captures.office)\"}") })
        #expect((Int(line.split(separator: " ").last ?? "") ?? 0) > 10_000)
        #expect(m.body.contains("vigil_capture_drops_total"))
        #expect(m.body.contains("vigil_learner_lag_seconds"))
        let status = try s.serve.json("/api/status", token: s.viewer.secret)
        #expect((status["observations"] as? Int ?? 0) > 1000)
        #expect((status["checkpoints"] as? Int ?? 0) >= 1)
    }

    @Test func liveEventsReachAListener() throws {
        let s = try OfficeServer()
        defer { _ = s.serve.terminate() }
        let id = try #require(try s.incidents().first?["id"] as? String)
        // curl holds the stream open; a change made meanwhile must arrive on it.
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        p.arguments = ["-sN", "--max-time", "8", "-H", "Authorization: Bearer \(s.viewer.secret)", s.serve.baseURL + "/api/events"]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        usleep(700_000)
        #expect(try s.serve.request("/api/incidents/\(id)/status", token: s.analyst.secret, method: "PUT", body: #"{"status":"acknowledged"}"#).status == 200)
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(text.contains("event: incident.status"), "stream: \(text.prefix(300))")
        #expect(text.contains(id))
    }

    @Test func repeatedReadsCarryAnETagThatChangesWithTheData() throws {
        let s = try OfficeServer()
        defer { _ = s.serve.terminate() }
        func etag(_ headers: String) -> String? {
            headers.split(separator: "\r\n").first { $0.lowercased().hasPrefix("etag:") }.map { String($0.dropFirst(5)).trimmingCharacters(in: .whitespaces) }
        }
        let first = try s.serve.request("/api/incidents", token: s.viewer.secret)
        let tag = try #require(etag(first.headers))
        let again = try s.serve.request("/api/incidents", token: s.viewer.secret, headers: ["If-None-Match: \(tag)"])
        #expect(again.status == 304)
        #expect(again.body.isEmpty)
        let id = try #require(try s.incidents().first?["id"] as? String)
        #expect(try s.serve.request("/api/incidents/\(id)/status", token: s.analyst.secret, method: "PUT", body: #"{"status":"resolved"}"#).status == 200)
        let after = try s.serve.request("/api/incidents", token: s.viewer.secret, headers: ["If-None-Match: \(tag)"])
        #expect(after.status == 200, "a decision changes the list, so the old tag no longer matches")
        #expect(after.body.contains("\"resolved\""))
        #expect(etag(after.headers) != tag)
    }

    @Test func badRequestsGetClearErrors() throws {
        let s = try OfficeServer()
        defer { _ = s.serve.terminate() }
        for (path, status) in [("/api/breaches?limit=0", 400), ("/api/breaches?since=yesterday", 400), ("/api/breaches?min_score=500", 400),
                               ("/api/search", 400), ("/api/incidents/INC-nope", 404), ("/api/devices/10.255.255.1", 404), ("/api/nothing", 404),
                               ("/api/reports/incidents.exe", 404)] {
            let r = try s.serve.request(path, token: s.viewer.secret)
            #expect(r.status == status, "\(path): \(r.status)")
            #expect(r.body.contains("\"error\""), "\(path) explains itself")
        }
        let put = try s.serve.request("/api/incidents/x/status", token: s.analyst.secret, method: "PUT", body: "not json")
        #expect(put.status == 400 || put.status == 404)
        let post = try s.serve.request("/api/incidents", token: s.viewer.secret, method: "POST", body: "{}")
        #expect(post.status == 405)
    }

    /// schemathesis (PyPI) generates requests from the OpenAPI document and checks every answer
    /// against it: status codes, content types, schemas, and that no request makes a 5xx.
    @Test func theOpenAPIDocumentDescribesWhatTheServerAnswers() throws {
        try #require(FileManager.default.isExecutableFile(atPath: schemathesis), "schemathesis is missing: run scripts/setup test (make test does)")
        let s = try OfficeServer()
        defer { _ = s.serve.terminate() }
        let r = try run(schemathesis, ["run", s.serve.baseURL + "/api/openapi.json", "--header", "Authorization: Bearer \(s.admin.secret)",
                                       "--exclude-path", "/api/events", "--checks", "all", "--max-examples", "25", "--no-color",
                                       "--seed", "1", "--request-timeout", "20"],
                        env: ["SCHEMATHESIS_HOOKS": "", "HOME": NSTemporaryDirectory()], cwd: try tempDir())   // its cache stays out of the tree
        #expect(r.status == 0, "schemathesis found problems:\n\(r.out.suffix(4000))\n\(r.err.suffix(1000))")
    }

    @Test func sigtermStopsCleanlyAndARestartContinues() throws {
        let s = try OfficeServer()
        let before = try s.serve.json("/api/status", token: s.viewer.secret)
        #expect(s.serve.terminate() == 0)
        #expect(s.serve.log.contains("stopped cleanly"))
        // Same configuration again: the replays are not read twice; the learner is restored.
        let again = try ServeProcess(config: s.serve.config)
        defer { _ = again.terminate() }
        try again.wait(token: s.admin.secret, "the restarted service to catch up") { ($0["caughtUp"] as? Bool) == true }
        #expect(again.log.contains("restored the learner"))
        #expect(again.log.contains("already replayed into this store; skipped"))
        let after = try again.json("/api/status", token: s.viewer.secret)
        #expect(after["observations"] as? Int == before["observations"] as? Int)
        #expect(after["observedUpTo"] as? String == before["observedUpTo"] as? String)
        #expect(try again.json("/api/incidents", token: s.viewer.secret)["count"] as? Int == before["incidents"] as? Int)
    }

    @Test func aBadConfigurationNamesItsLine() throws {
        try requireTools()
        let dir = try tempDir()
        let config = dir.appendingPathComponent("bad.conf")
        try "store \(dir.path)/x.sqlite\nreplay /dev/null\n\nlisen 127.0.0.1:1\n".write(to: config, atomically: true, encoding: .utf8)
        let r = try run(vigilBinary, ["serve", "--config", config.path])
        #expect(r.status == 1)
        #expect(r.err.contains("bad.conf:4: unknown setting 'lisen' (did you mean 'listen'?)"), "\(r.err)")
        try "store \(dir.path)/x.sqlite\nreplay /dev/null\ntoken a superuser \(String(repeating: "0", count: 64))\n".write(to: config, atomically: true, encoding: .utf8)
        let r2 = try run(vigilBinary, ["serve", "--config", config.path])
        #expect(r2.err.contains("bad.conf:3: role 'superuser' is one of viewer, analyst, admin"), "\(r2.err)")
        let example = try run(vigilBinary, ["serve", "example-config"])
        try example.out.write(to: config, atomically: true, encoding: .utf8)
        let check = try run(vigilBinary, ["serve", "--config", config.path, "--check"])
        #expect(check.status == 0, "the shipped example configuration is valid: \(check.err)")
    }
}

@Suite(.serialized) struct ConsoleBrowserTests {
    /// Headless Chromium logs in, opens the incident of a capture with a known attack and sees
    /// its narrative and timeline; names, user agents and server names that carry script
    /// payloads are shown as text and never run.
    @Test func theConsoleShowsTheIncidentAndNeverRunsWhatAttackersWrote() throws {
        try #require(FileManager.default.isExecutableFile(atPath: webPython), "Playwright is missing: run scripts/setup test (make test does)")
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium"), "chromium is missing: run scripts/setup test")
        let s = try OfficeServer()
        defer { _ = s.serve.terminate() }
        let labels = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: s.captures.labels))) as? [[String: Any]])
        let device = try #require(labels.first { ($0["attack"] as? String) == "dnstunnel" }?["device"] as? String)
        let incident = try #require(try s.incidents().first { ($0["devices"] as? [String])?.contains(device) == true }?["id"] as? String)
        let r = try run(webPython, [drivers.appendingPathComponent("console.py").path, s.serve.baseURL, s.analyst.secret, incident,
                                    HostileCapture.device.description, HostileCapture.name, HostileCapture.agent, HostileCapture.sni])
        try #require(r.status == 0, "the browser driver failed:\n\(r.err.suffix(3000))")
        let seen = try #require(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
        #expect((seen["who"] as? String)?.contains("ana") == true)
        #expect((seen["overview_rows"] as? Int ?? 0) >= 1)
        #expect((seen["title"] as? String)?.contains(device) == true, "\(seen["title"] ?? "")")
        #expect((seen["narrative"] as? String)?.contains(device) == true)
        #expect((seen["timeline_dots"] as? Int ?? 0) >= 1)
        #expect((seen["timeline_rows"] as? Int ?? 0) >= 1)
        #expect(seen["xss"] is NSNull, "a payload ran: window.__xss = \(seen["xss"] ?? "")")
        #expect((seen["dialogs"] as? [Any])?.isEmpty == true)
        #expect(seen["injected_elements"] as? Int == 0)
        let shown = seen["hostile_shown_as_text"] as? [String: Bool] ?? [:]
        for text in [HostileCapture.name, HostileCapture.agent, HostileCapture.sni] {
            #expect(shown[text] == true, "'\(text)' should appear as text: \(seen["search_text"] ?? "")")
        }
        #expect((seen["csp"] as? String)?.contains("script-src 'self'") == true)
        #expect((seen["errors"] as? [Any])?.isEmpty == true, "page errors: \(seen["errors"] ?? "")")
    }
}

/// A live capture in network namespaces the test creates (a veth pair between two of them, no
/// addresses, no routes out): tcpreplay sends the office capture from one, `vigil serve`
/// captures in the other and is killed with SIGKILL mid-ingest.
@Suite(.serialized) struct LiveRestartTests {
    func sh(_ args: [String]) throws -> Ran { try run(args[0], Array(args.dropFirst())) }

    func sql(_ db: String, _ q: String) throws -> String {
        let r = try run("/usr/bin/sqlite3", [db, q])
        try #require(r.status == 0, "sqlite3: \(r.err)")
        return r.out.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func killedMidIngestItLosesNothingCommittedAndLearningResumes() throws {
        try requireTools()
        try #require(geteuid() == 0, "network namespaces need root (CI runs as root)")
        for tool in ["/usr/sbin/ip", "/usr/bin/tcpreplay", "/usr/bin/sqlite3"] {
            try #require(FileManager.default.isExecutableFile(atPath: tool), "\(tool) is missing: run scripts/setup test")
        }
        let captures = try Captures.made.get()
        let cap = "vglcap\(getpid() % 100000)", src = "vglsrc\(getpid() % 100000)"
        defer { _ = try? sh(["/usr/sbin/ip", "netns", "del", cap]); _ = try? sh(["/usr/sbin/ip", "netns", "del", src]) }
        for cmd in [["netns", "add", cap], ["netns", "add", src],
                    ["link", "add", "vcap0", "netns", cap, "type", "veth", "peer", "name", "vsrc0", "netns", src],
                    ["-n", cap, "link", "set", "lo", "up"], ["-n", cap, "link", "set", "vcap0", "up"], ["-n", src, "link", "set", "vsrc0", "up"]] {
            let r = try sh(["/usr/sbin/ip"] + cmd)
            try #require(r.status == 0, "ip \(cmd.joined(separator: " ")): \(r.err)")
        }
        let dir = try tempDir()
        let db = dir.appendingPathComponent("live.sqlite").path
        let (first, admin) = try startServe(in: dir, ["store \(db)", "capture vcap0", "listen 127.0.0.1:0", "baseline_days 1",
                                                      "checkpoint_seconds 1", "analyze_seconds 2"], namespace: cap)
        let replay = Process()
        replay.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        replay.arguments = ["netns", "exec", src, "/usr/bin/tcpreplay", "-q", "-i", "vsrc0", "--pps", "4000", "--loop", "3", captures.office]
        replay.standardOutput = FileHandle.nullDevice; replay.standardError = FileHandle.nullDevice
        try replay.run()
        defer { if replay.isRunning { replay.terminate() } }

        try first.wait(token: admin.secret, seconds: 90, "live observations and two checkpoints") {
            ($0["observations"] as? Int ?? 0) >= 1500 && ($0["checkpoints"] as? Int ?? 0) >= 2
        }
        let beforeKill = try first.json("/api/status", token: admin.secret)
        #expect(((beforeKill["sources"] as? [[String: Any]])?.first?["packets"] as? Int ?? 0) > 0)
        first.kill9()
        #expect(replay.isRunning, "the replay is still sending: the kill came mid-ingest")

        // What the killed process had committed.
        #expect(try sql(db, "PRAGMA integrity_check") == "ok")
        let committed = Int(try sql(db, "SELECT count(*) FROM observations")) ?? 0
        let lastID = Int(try sql(db, "SELECT max(id) FROM observations")) ?? 0
        let position = Int(try sql(db, "SELECT CAST(data AS TEXT) FROM learner_state WHERE name='serve.position'")) ?? -1
        let checkpointedDevices = Int(try sql(db, "SELECT count(*) FROM devices")) ?? 0
        #expect(committed > 0)
        #expect(checkpointedDevices > 0)
        #expect(position > 0 && position <= lastID, "a checkpoint was written before the kill (position \(position), last \(lastID))")

        let second = try ServeProcess(config: first.config, namespace: cap)
        defer { _ = second.terminate() }
        try second.wait(token: admin.secret, seconds: 60, "the restarted service to checkpoint") { ($0["checkpoints"] as? Int ?? 0) >= 1 }
        #expect(second.log.contains("restored the learner"))
        let resumed = try second.json("/api/status", token: admin.secret)
        #expect((resumed["replayedAtStart"] as? Int ?? -1) == lastID - position, "every observation after the checkpoint was replayed into the learner")
        // Nothing committed is lost: every row the killed process committed is still there.
        #expect(Int(try sql(db, "SELECT count(*) FROM observations WHERE id <= \(lastID)")) == committed)
        // Learning resumes: new observations arrive and are learned on top of the restored state.
        try second.wait(token: admin.secret, seconds: 60, "new observations after the restart") {
            ($0["observations"] as? Int ?? 0) > committed + 200
        }
        #expect(Int(try sql(db, "SELECT max(id) FROM observations")) ?? 0 > lastID)
        #expect((resumed["devices"] as? Int ?? 0) >= checkpointedDevices, "the restored learner knows every device of its checkpoint")
        replay.terminate()
        #expect(second.terminate() == 0)
        #expect(second.log.contains("stopped cleanly"))
    }
}

@Suite struct ShippedFilesTests {
    @Test func theShippedExampleConfigurationIsWhatTheBinaryPrintsAndTheUnitChecksIt() throws {
        try requireTools()
        let printed = try run(vigilBinary, ["serve", "example-config"]).out
        let shipped = try String(contentsOf: packageRoot.appendingPathComponent("dist/serve.conf"), encoding: .utf8)
        #expect(printed == shipped, "dist/serve.conf is out of date: vigil serve example-config > dist/serve.conf")
        let unit = try String(contentsOf: packageRoot.appendingPathComponent("dist/vigil.service"), encoding: .utf8)
        #expect(unit.contains("ExecStart=/usr/local/bin/vigil serve --config /etc/vigil/serve.conf"))
        #expect(unit.contains("KillSignal=SIGTERM"))
    }
}

@Suite(.serialized) struct ServeSourcesTests {
    /// With a certificate and key the API speaks HTTPS (and only HTTPS).
    @Test func withACertificateTheAPISpeaksHTTPS() throws {
        try requireTools()
        let dir = try tempDir()
        let key = dir.appendingPathComponent("key.pem").path, cert = dir.appendingPathComponent("cert.pem").path
        let made = try run("/usr/bin/openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key,
                                                 "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"])
        try #require(made.status == 0, "openssl: \(made.err)")
        var (serve, admin) = try startServe(in: dir, ["store \(dir.path)/tls.sqlite", "replay \(try Captures.made.get().hostile)", "listen 127.0.0.1:0",
                                                      "tls_certificate \(cert)", "tls_key \(key)"])
        defer { _ = serve.terminate() }
        #expect(serve.baseURL.hasPrefix("https://127.0.0.1:"))
        serve.curlOptions = ["--cacert", cert]
        let who = try serve.request("/api/whoami", token: admin.secret)
        #expect(who.status == 200)
        #expect(who.body.contains("\"adam\""))
        // Plain HTTP to the same port gets no API answer.
        let plain = try run("/usr/bin/curl", ["-s", "--max-time", "5", "-o", "/dev/null", "-w", "%{http_code}", serve.baseURL.replacingOccurrences(of: "https://", with: "http://") + "/api/whoami"])
        #expect(plain.out != "200")
    }

    /// `zeek DIR` follows the logs Zeek is writing: appended rows are read as they arrive, and a
    /// rotated file (renamed away, a new one started) is read from its start.
    @Test func aZeekLogDirectoryIsFollowedAsItGrowsAndRotates() throws {
        try requireTools()
        let captures = try Captures.made.get()
        let dir = try tempDir()
        let logs = dir.appendingPathComponent("made"), live = dir.appendingPathComponent("current")
        try FileManager.default.createDirectory(at: live, withIntermediateDirectories: true)
        let made = try run(vigilBinary, ["logs", captures.office, "--out", logs.path])
        try #require(made.status == 0, "\(made.err)")
        let conn = try String(contentsOf: logs.appendingPathComponent("conn.log"), encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let header = conn.prefix { $0.hasPrefix("#") && !$0.hasPrefix("#close") }
        let rows = conn.filter { !$0.hasPrefix("#") && !$0.isEmpty }
        try #require(rows.count > 3000)
        let current = live.appendingPathComponent("conn.log")
        func append(_ lines: [String], to url: URL) throws {
            if !FileManager.default.fileExists(atPath: url.path) { FileManager.default.createFile(atPath: url.path, contents: nil) }
            let h = try FileHandle(forWritingTo: url)
            try h.seekToEnd()
            try h.write(contentsOf: Data((lines.joined(separator: "\n") + "\n").utf8))
            try h.close()
        }
        try append(Array(header) + Array(rows[0..<1000]), to: current)
        let (serve, admin) = try startServe(in: dir, ["store \(dir.path)/zeek.sqlite", "zeek \(live.path)", "listen 127.0.0.1:0", "checkpoint_seconds 1"])
        defer { _ = serve.terminate() }
        func records(_ s: [String: Any]) -> Int { ((s["sources"] as? [[String: Any]])?.first?["records"] as? Int) ?? 0 }
        try serve.wait(token: admin.secret, seconds: 30, "the first 1000 rows") { records($0) == 1000 }
        // Zeek appends (the last line arrives in two writes: a half line waits for its end).
        let half = rows[1500].count / 2
        try append(Array(rows[1000..<1500]), to: current)
        let h = try FileHandle(forWritingTo: current)
        try h.seekToEnd()
        try h.write(contentsOf: Data(rows[1500].prefix(half).utf8))
        usleep(1_500_000)   // the follower polls the half line, and must wait for the rest
        try h.write(contentsOf: Data((String(rows[1500].dropFirst(half)) + "\n").utf8))
        try h.close()
        try serve.wait(token: admin.secret, seconds: 30, "the appended 501 rows") { records($0) == 1501 }
        // Zeek rotates: the file is renamed away and a new one begins with its own header.
        try FileManager.default.moveItem(at: current, to: live.appendingPathComponent("conn.old"))
        try append(Array(header) + Array(rows[1501..<2500]), to: current)
        try serve.wait(token: admin.secret, seconds: 30, "the rotated file's 999 rows") { records($0) == 2500 }
        try serve.wait(token: admin.secret, seconds: 30, "them learned") { ($0["observations"] as? Int ?? 0) >= 2500 }
        #expect(serve.terminate() == 0)
    }
}

@Suite(.serialized) struct ServeAgentsTests {
    /// `agents AUDIT key PUB` follows the MCP gateway's signed audit log: the agent is learned
    /// like a device, its breaches and the gateway's findings reach the API and the incidents,
    /// and a line that breaks the chain stops the reading and shows in the status.
    @Test func theGatewaysAuditLogIsFollowedAndItsAgentsLearned() throws {
        try requireTools()
        let dir = try tempDir()
        let prefix = dir.appendingPathComponent("gw").path
        #expect(try run(vigilBinary, ["mcp", "keygen", "--out", prefix]).status == 0)
        let audit = dir.appendingPathComponent("audit.jsonl")
        let sim = try run(vigilBinary, ["mcp", "simulate", "--out", audit.path, "--key", prefix + ".key"])
        try #require(sim.status == 0, "\(sim.err)")
        let (serve, admin) = try startServe(in: dir, ["store \(dir.path)/a.sqlite", "agents \(audit.path) key \(prefix).pub", "listen 127.0.0.1:0",
                                                      "checkpoint_seconds 1", "analyze_seconds 1"])
        defer { _ = serve.terminate() }
        try serve.wait(token: admin.secret, seconds: 60, "the agent's incidents") { ($0["incidents"] as? Int ?? 0) >= 1 }
        let agents = try #require(try serve.json("/api/agents", token: admin.secret)["items"] as? [[String: Any]])
        let agent = try #require(agents.first)
        #expect((agent["topScore"] as? Double ?? 0) >= 50)
        let incidents = try #require(try serve.json("/api/incidents", token: admin.secret)["items"] as? [[String: Any]])
        #expect(incidents.contains { ($0["devices"] as? [String])?.contains { $0.hasPrefix("agent:") } == true })
        // Someone edits the log: the first changed line stops the reading and is named.
        var lines = try String(contentsOf: audit, encoding: .utf8).split(separator: "\n").map(String.init)
        let last = try #require(lines.last)
        lines.append(last.replacingOccurrences(of: "\"seq\":", with: "\"seq\":1"))
        try (lines.joined(separator: "\n") + "\n").write(to: audit, atomically: false, encoding: .utf8)
        try serve.wait(token: admin.secret, seconds: 30, "the broken chain to show") {
            (($0["sources"] as? [[String: Any]])?.first?["error"] as? String)?.contains("line \(lines.count)") == true
        }
    }
}

@Suite(.serialized) struct ServeAlertsTests {
    /// `alerts FILE` follows another tool's alert file as it grows: a Suricata EVE alert on the
    /// beacon's C2, written while the service runs, joins the incident of Vigil's own breaches
    /// for that beacon; a malformed line is reported and the rest goes on. A file that is one
    /// JSON array (an export, rewritten whole) is read again when it changes, and its alert joins
    /// the same incident.
    @Test func suricataAlertsWrittenWhileServingJoinTheBeaconsIncident() throws {
        try requireTools()
        let captures = try Captures.made.get()
        let labels = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: captures.labels))) as? [[String: Any]])
        let beacon = try #require(labels.first { ($0["attack"] as? String) == "beacon" })
        let device = try #require(beacon["device"] as? String), c2 = try #require((beacon["peers"] as? [String])?.first)
        let start = try #require(beacon["startSeconds"] as? Int)
        let dir = try tempDir()
        let eve = dir.appendingPathComponent("eve.json")
        try "".write(to: eve, atomically: true, encoding: .utf8)
        let export = dir.appendingPathComponent("export.json")
        try "[]\n".write(to: export, atomically: true, encoding: .utf8)
        let (serve, admin) = try startServe(in: dir, ["store \(dir.path)/s.sqlite", "replay \(captures.office)", "alerts \(eve.path)", "alerts \(export.path)", "listen 127.0.0.1:0",
                                                      "baseline_days 1", "checkpoint_seconds 1", "analyze_seconds 1"])
        defer { _ = serve.terminate() }
        try serve.wait(token: admin.secret, seconds: 90, "the capture to be learned") { (($0["sources"] as? [[String: Any]])?.first?["ended"] as? Bool) == true && ($0["incidents"] as? Int ?? 0) > 0 }
        let ts = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(start + 1800)))
        let line = #"{"timestamp":"\#(ts)","flow_id":4242,"event_type":"alert","src_ip":"\#(device)","src_port":51000,"dest_ip":"\#(c2)","dest_port":443,"proto":"TCP","alert":{"action":"allowed","gid":1,"signature_id":9000001,"rev":1,"signature":"LOCAL MALWARE beacon check-in","category":"A Network Trojan was detected","severity":1}}"#
        let h = try FileHandle(forWritingTo: eve)
        try h.seekToEnd()
        try h.write(contentsOf: Data(("{not json\n" + line + "\n").utf8))
        try h.close()
        let deadline = Date().addingTimeInterval(30)
        var joined: [String: Any]?
        while Date() < deadline, joined == nil {
            let items = (try? serve.json("/api/incidents", token: admin.secret)["items"] as? [[String: Any]]) ?? []
            joined = items.first { ($0["devices"] as? [String])?.contains(device) == true && ($0["alerts"] as? Int ?? 0) >= 1 }
            usleep(300_000)
        }
        let incident = try #require(joined, "the EVE alert did not join an incident on \(device); log:\n\(serve.log)")
        #expect((incident["breaches"] as? Int ?? 0) >= 1, "the same incident holds Vigil's own breaches")
        #expect(serve.log.contains("eve.json, line 1"), "the malformed line is named: \(serve.log)")

        let second = line.replacingOccurrences(of: "\"flow_id\":4242", with: "\"flow_id\":4343").replacingOccurrences(of: "9000001", with: "9000002")
        // One line, as exports write it: only a reader of the whole array can see the alert in it.
        try "[\(second)]\n".write(to: export, atomically: true, encoding: .utf8)
        var both: [String: Any]?
        let later = Date().addingTimeInterval(30)
        while Date() < later, both == nil {
            let items = (try? serve.json("/api/incidents", token: admin.secret)["items"] as? [[String: Any]]) ?? []
            both = items.first { ($0["devices"] as? [String])?.contains(device) == true && ($0["alerts"] as? Int ?? 0) >= 2 }
            usleep(300_000)
        }
        let sources = (try? serve.json("/api/status", token: admin.secret)["sources"]) ?? "?"
        let summary = ((try? serve.json("/api/incidents", token: admin.secret)["items"] as? [[String: Any]]) ?? []).map { "\($0["devices"] ?? "") alerts \($0["alerts"] ?? "")" }
        let stored = (try? run("/usr/bin/sqlite3", [dir.path + "/s.sqlite", "SELECT id, ts FROM alerts; SELECT id, start_ts, end_ts, length(body) FROM incidents;"]).out) ?? "?"
        #expect(both != nil, "the array file's alert did not join the incident; sources \(sources); incidents \(summary); stored \(stored); log:\n\(serve.log)")
    }
}

/// `vigil analyze --rephrase URL` against a stand-in for a local OpenAI-compatible model on
/// loopback: a faithful rewording is kept beside the deterministic write-up, one that adds a
/// fact, puts one where the write-up does not, or is cut off at its token limit is refused; a
/// broken endpoint changes nothing, and a silent one is waited for within limits, asleep.
@Suite(.serialized) struct RephraseTests {
    func standIn(_ mode: String) throws -> (Process, Int) { try startDriver("openai_standin.py", [mode]) }

    /// Runs `vigil analyze` on the office capture (with `--rephrase` to a stand-in in `mode`,
    /// unless nil) under bash's `time`; `cpu` is the seconds it spent on a CPU, user and system.
    func analyze(_ mode: String?, _ extra: [String] = []) throws -> (report: [String: Any], markdown: String, err: String, cpu: Double) {
        try requireTools()
        let captures = try Captures.made.get()
        let standIn = try mode.map { try self.standIn($0) }
        defer { if let (server, _) = standIn { kill(server.processIdentifier, SIGKILL); server.waitUntilExit() } }   // SIGTERM may be blocked in test threads, and is inherited
        let dir = try tempDir(mode ?? "none")
        var args = ["analyze", captures.office, "--baseline", "1", "--json", dir.appendingPathComponent("r.json").path,
                    "--markdown", dir.appendingPathComponent("r.md").path] + extra
        if let (_, port) = standIn { args += ["--rephrase", "http://127.0.0.1:\(port)/v1", "--rephrase-model", "standin-7b"] }
        let r = try run("/bin/bash", ["-c", "TIMEFORMAT='cpu %U %S'; time \"$0\" \"$@\"", vigilBinary] + args)
        try #require(r.status == 0, "\(r.err)")
        let times = r.err.split(separator: "\n").last { $0.hasPrefix("cpu ") }?.split(separator: " ").dropFirst().compactMap { Double($0) } ?? []
        try #require(times.count == 2, "bash's time printed nothing: \(r.err)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("r.json"))) as? [String: Any])
        return (report, try String(contentsOf: dir.appendingPathComponent("r.md"), encoding: .utf8), r.err, times[0] + times[1])
    }

    @Test func aFaithfulRewordingIsKeptBesideTheWriteUp() throws {
        let (report, markdown, err, _) = try analyze("faithful")
        let incidents = try #require(report["incidents"] as? [[String: Any]])
        try #require(!incidents.isEmpty)
        for i in incidents {
            let r = try #require(i["rephrasing"] as? [String: Any], "\(i["id"] ?? ""): \(err)")
            #expect(r["model"] as? String == "standin-7b")
            let reworded = (r["narrative"] as? [String] ?? []).joined(separator: " ")
            #expect(reworded.contains("From "))
            #expect(!((i["narrative"] as? [String]) ?? []).joined().contains("From "), "the write-up itself is untouched")
        }
        #expect(markdown.contains("Reworded by standin-7b"))
        #expect(markdown.contains("#### Deterministic write-up"))
    }

    @Test func aRewordingThatAddsAFactIsRefused() throws {
        let (report, markdown, err, _) = try analyze("hallucinate")
        let incidents = try #require(report["incidents"] as? [[String: Any]])
        #expect(incidents.allSatisfy { $0["rephrasing"] == nil })
        #expect(err.contains("kept the deterministic write-up: the rewording it adds 203.0.113.99"), "\(err)")
        #expect(!markdown.contains("203.0.113.99"))
    }

    @Test func aRewordingThatPutsAFactInTheWrongPlaceIsRefused() throws {
        let (report, _, err, _) = try analyze("misplace")
        let incidents = try #require(report["incidents"] as? [[String: Any]])
        #expect(incidents.allSatisfy { $0["rephrasing"] == nil })
        #expect(err.contains("the rewording it puts "), "\(err)")
        #expect(err.contains(" in paragraph "), "\(err)")
    }

    @Test func aRewordingCutOffAtItsTokenLimitIsRefused() throws {
        // The stand-in refuses a request without max_tokens, so this also shows the limit is sent.
        let (report, _, err, _) = try analyze("runaway")
        #expect((report["incidents"] as? [[String: Any]] ?? []).allSatisfy { $0["rephrasing"] == nil })
        #expect(err.contains("the model was still writing at its limit of "), "\(err)")
    }

    @Test func aBrokenEndpointChangesNothing() throws {
        let (report, _, err, _) = try analyze("broken")
        #expect((report["incidents"] as? [[String: Any]] ?? []).allSatisfy { $0["rephrasing"] == nil })
        #expect(err.contains("answered HTTP 500"))
    }

    /// A model that takes longer than --rephrase-timeout is given up on, the next is asked, and
    /// after two in a row the rest are not asked. Waiting costs no CPU (Foundation's URLSession,
    /// used before, kept a core busy while it waited: 25 s of CPU for two 15 s waits).
    @Test func aSilentEndpointIsWaitedForWithinLimitsAndAsleep() throws {
        let plain = try analyze(nil)
        let (report, _, err, cpu) = try analyze("slow", ["--rephrase-timeout", "4"])
        let ids = (report["incidents"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
        try #require(ids.count >= 2)
        for id in ids.prefix(2) { #expect(err.contains("\(id): kept the deterministic write-up: the endpoint did not answer: no answer within 4 s"), "\(err)") }
        for id in ids.dropFirst(2).prefix(23) { #expect(err.contains("\(id): kept the deterministic write-up: not asked (the endpoint did not answer the last two)"), "\(err)") }
        // 8 s spent waiting; the analysis itself costs what it costs without --rephrase.
        #expect(cpu < plain.cpu + 2.5, "\(cpu) s of CPU with a silent endpoint, \(plain.cpu) s without")
    }
}
