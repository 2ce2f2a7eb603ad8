import Foundation
import VigilCore
import VigilServe

/// `vigil serve`'s configuration file: one setting per line (`key value...`), `#` starts a
/// comment, values with spaces go in double quotes. Every setting has a default except a
/// source; anything unknown or malformed stops the start with the file and line named.
struct ServeConfiguration {
    enum Source: Equatable {
        case capture(interface: String, filter: String?)
        case zeek(directory: String)
        case replay(file: String)
        case agents(audit: String, key: String?)
        case alerts(file: String)
    }

    var store = "/var/lib/vigil/vigil.sqlite"
    var sources: [Source] = []
    var localNetworks: [CIDR]?
    var utcOffsetHours = 0
    var baselineDays = 7.0
    var budget: Double?
    var listen = "127.0.0.1:8640"
    var tlsCertificate: String?
    var tlsKey: String?
    var tokens: [APIToken] = []
    var checkpointSeconds = 30.0
    var analyzeSeconds = 60.0
    var incidentWindowDays = 14.0
    var keepObservationsDays = 14.0
    var keepFindingsDays = 180.0
    var maxFlows: Int?
    var queueLimit = 200_000
    var apiConnections = 4

    static let keys = ["store", "capture", "zeek", "replay", "agents", "alerts", "local", "utc_offset", "baseline_days", "budget", "listen",
                       "tls_certificate", "tls_key", "token", "checkpoint_seconds", "analyze_seconds", "incident_window_days",
                       "keep_observations_days", "keep_findings_days", "max_flows", "queue_limit", "api_connections"]

    struct Problem: Error, CustomStringConvertible {
        var file: String, line: Int, message: String
        var description: String { "\(file):\(line): \(message)" }
    }

    static func read(_ path: String) throws -> ServeConfiguration {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw VigilError.usage("cannot read the configuration '\(path)' (vigil serve example-config prints a commented one)")
        }
        guard let text = String(data: data, encoding: .utf8) else { throw Problem(file: path, line: 1, message: "the file is not UTF-8 text") }
        return try parse(text, file: path)
    }

    static func parse(_ text: String, file: String) throws -> ServeConfiguration {
        var c = ServeConfiguration()
        var seen: [String: Int] = [:]
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let n = i + 1
            func fail(_ m: String) -> Problem { Problem(file: file, line: n, message: m) }
            let words = try split(String(raw), fail)
            guard let key = words.first else { continue }
            let v = Array(words.dropFirst())
            guard keys.contains(key) else {
                let near = keys.min { distance($0, key) < distance($1, key) } ?? ""
                throw fail("unknown setting '\(key)'" + (distance(near, key) <= 3 ? " (did you mean '\(near)'?)" : ""))
            }
            let repeatable = ["capture", "zeek", "replay", "agents", "alerts", "token"].contains(key)
            if !repeatable, let before = seen[key] { throw fail("'\(key)' is already set on line \(before)") }
            seen[key] = n
            func one() throws -> String {
                guard v.count == 1 else { throw fail("'\(key)' takes one value, got \(v.count)") }
                return v[0]
            }
            func number(_ lo: Double, _ hi: Double) throws -> Double {
                guard let x = Double(try one()), x >= lo, x <= hi else { throw fail("'\(key)' is a number from \(lo.clean) to \(hi.clean)") }
                return x
            }
            switch key {
            case "store": c.store = try one()
            case "capture":
                guard v.count == 1 || (v.count == 3 && v[1] == "filter") else { throw fail("write 'capture INTERFACE' or 'capture INTERFACE filter \"BPF\"'") }
                c.sources.append(.capture(interface: v[0], filter: v.count == 3 ? v[2] : nil))
            case "zeek": c.sources.append(.zeek(directory: try one()))
            case "replay": c.sources.append(.replay(file: try one()))
            case "alerts": c.sources.append(.alerts(file: try one()))
            case "agents":
                guard v.count == 1 || (v.count == 3 && v[1] == "key") else { throw fail("write 'agents AUDIT.jsonl' or 'agents AUDIT.jsonl key GATEWAY.pub'") }
                c.sources.append(.agents(audit: v[0], key: v.count == 3 ? v[2] : nil))
            case "local":
                var nets: [CIDR] = []
                for part in v.joined(separator: " ").split(separator: ",") {
                    let s = part.trimmingCharacters(in: .whitespaces)
                    guard let net = CIDR(s) else { throw fail("'\(s)' is not an address block like 10.0.0.0/8") }
                    nets.append(net)
                }
                guard !nets.isEmpty else { throw fail("'local' needs address blocks like 10.0.0.0/8, 192.168.0.0/16") }
                c.localNetworks = nets
            case "utc_offset": c.utcOffsetHours = Int(try number(-14, 14))
            case "baseline_days": c.baselineDays = try number(0, 3650)
            case "budget": c.budget = try number(0.0001, 100)
            case "listen":
                let l = try one()
                guard let colon = l.lastIndex(of: ":"), UInt16(l[l.index(after: colon)...]) != nil, IPAddress(String(l[..<colon])) != nil else {
                    throw fail("'listen' is ADDRESS:PORT like 127.0.0.1:8640")
                }
                c.listen = l
            case "tls_certificate": c.tlsCertificate = try one()
            case "tls_key": c.tlsKey = try one()
            case "token":
                guard v.count == 3 else { throw fail("write 'token NAME ROLE SHA256' (vigil serve token NAME ROLE makes one)") }
                guard let role = Role(rawValue: v[1]) else { throw fail("role '\(v[1])' is one of viewer, analyst, admin") }
                guard v[2].count == 64, v[2].allSatisfy(\.isHexDigit) else { throw fail("the token's third value is the SHA-256 of its secret: 64 hex digits") }
                guard !c.tokens.contains(where: { $0.name == v[0] }) else { throw fail("a token named '\(v[0])' is already defined") }
                c.tokens.append(APIToken(name: v[0], role: role, sha256: v[2]))
            case "checkpoint_seconds": c.checkpointSeconds = try number(1, 3600)
            case "analyze_seconds": c.analyzeSeconds = try number(1, 86_400)
            case "incident_window_days": c.incidentWindowDays = try number(1, 365)
            case "keep_observations_days": c.keepObservationsDays = try number(0.01, 3650)
            case "keep_findings_days": c.keepFindingsDays = try number(1, 3650)
            case "max_flows": c.maxFlows = Int(try number(1000, 100_000_000))
            case "queue_limit": c.queueLimit = Int(try number(1000, 10_000_000))
            case "api_connections": c.apiConnections = Int(try number(1, 64))
            default: break
            }
        }
        guard !c.sources.isEmpty else { throw Problem(file: file, line: 1, message: "no source: add a 'capture INTERFACE', 'zeek DIRECTORY', 'replay FILE' or 'agents AUDIT.jsonl' line") }
        guard !c.tokens.isEmpty else { throw Problem(file: file, line: 1, message: "no token: the API refuses every request without one (vigil serve token NAME ROLE makes one)") }
        if (c.tlsKey == nil) != (c.tlsCertificate == nil) {
            throw Problem(file: file, line: seen["tls_key"] ?? seen["tls_certificate"] ?? 1, message: "HTTPS needs both tls_certificate and tls_key")
        }
        return c
    }

    /// Words of a line: blanks separate, double quotes group (with \" and \\ inside), # ends.
    static func split(_ line: String, _ fail: (String) -> Problem) throws -> [String] {
        var words: [String] = [], cur = "", inQuote = false, escaped = false, started = false
        for ch in line {
            if inQuote {
                if escaped { cur.append(ch); escaped = false }
                else if ch == "\\" { escaped = true }
                else if ch == "\"" { inQuote = false }
                else { cur.append(ch) }
            } else if ch == "#" { break }
            else if ch == " " || ch == "\t" || ch == "\r" { if started { words.append(cur); cur = ""; started = false } }
            else if ch == "\"" { inQuote = true; started = true }
            else { cur.append(ch); started = true }
        }
        if inQuote { throw fail("a quoted value is not closed") }
        if started { words.append(cur) }
        return words
    }

    /// Edit distance (Levenshtein), for "did you mean".
    static func distance(_ a: String, _ b: String) -> Int {
        let x = Array(a), y = Array(b)
        guard !x.isEmpty, !y.isEmpty else { return max(x.count, y.count) }
        var row = Array(0...y.count)
        for i in 1...x.count {
            var diagonal = row[0]
            row[0] = i
            for j in 1...y.count {
                let above = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, diagonal + (x[i - 1] == y[j - 1] ? 0 : 1))
                diagonal = above
            }
        }
        return row[y.count]
    }

    static let example = """
    # Vigil serve configuration. One setting per line: "key value". '#' starts a comment;
    # quote values that contain spaces. Check it with: vigil serve --config FILE --check

    # The store: observations, breaches, incidents, learner checkpoints (SQLite, WAL).
    store /var/lib/vigil/vigil.sqlite

    # Where traffic comes from; any number of lines.
    capture eth0                               # a live interface (needs root or CAP_NET_RAW)
    # capture eth1 filter "not port 22"        # with a BPF filter
    # zeek /opt/zeek/logs/current              # follow a Zeek log directory as Zeek writes it
    # replay /srv/captures/monday.pcap         # a capture read once at full speed, then kept
    # alerts /var/log/suricata/eve.json       # follow another tool's alerts (Suricata EVE, Zeek
    #                                          # notice.log, CrowdStrike, Defender, SentinelOne,
    #                                          # OCSF, Sigma engines): they join the incidents
    # agents /var/log/vigil/mcp-audit.jsonl key /etc/vigil/gateway.pub
    #                                          # follow the MCP gateway's audit log: each AI agent
    #                                          # is learned like a device; findings become alerts

    # Which addresses are ours (default: the private ranges, as the records say).
    # local 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16
    # utc_offset 0                             # the site's offset from UTC, for hour-of-week
    # baseline_days 7                          # learning period before novelty models speak
    # budget 0.1                               # breaches per device-day the calibrator allows

    # The API and web console. Tokens: NAME ROLE SHA256-of-secret; roles viewer, analyst, admin.
    # 'vigil serve token NAME ROLE' prints a new secret and its line.
    listen 127.0.0.1:8640
    # tls_certificate /etc/vigil/cert.pem      # both set: HTTPS
    # tls_key /etc/vigil/key.pem
    token soc analyst 0000000000000000000000000000000000000000000000000000000000000000

    # How often the learner's state is made durable and incidents are re-investigated.
    # checkpoint_seconds 30
    # analyze_seconds 60
    # incident_window_days 14                  # breaches older than this are not re-grouped

    # Retention: the store stays bounded.
    # keep_observations_days 14
    # keep_findings_days 180

    # Limits: flows tracked per source, observations queued between capture and learner,
    # store connections for API requests.
    # max_flows 1000000
    # queue_limit 200000
    # api_connections 4

    """
}

private extension Double {
    var clean: String { rounded() == self ? String(Int(self)) : String(self) }
}
