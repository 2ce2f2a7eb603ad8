/// MITRE ATT&CK (Enterprise) as the analyst uses it: the tactics in kill-chain order, the
/// techniques Vigil's models and the outside tools it reads name, and what a tool's alert
/// category implies when the alert carries no technique of its own.
public enum Attack {
    /// Enterprise tactics, in the order an intrusion usually moves through them.
    public static let tactics: [String] = [
        "Reconnaissance", "Resource Development", "Initial Access", "Execution", "Persistence",
        "Privilege Escalation", "Defense Evasion", "Credential Access", "Discovery", "Lateral Movement",
        "Collection", "Command and Control", "Exfiltration", "Impact",
    ]

    /// The kill-chain position of a tactic (lower is earlier); unknown tactics sort last.
    public static func order(of tactic: String) -> Int { tactics.firstIndex(of: tactic) ?? tactics.count }

    /// Technique id → (name, primary tactic). Sub-techniques fall back to their parent.
    static let techniques: [String: (name: String, tactic: String)] = [
        "T1595": ("Active Scanning", "Reconnaissance"),
        "T1590": ("Gather Victim Network Information", "Reconnaissance"),
        "T1190": ("Exploit Public-Facing Application", "Initial Access"),
        "T1133": ("External Remote Services", "Initial Access"),
        "T1566": ("Phishing", "Initial Access"),
        "T1195": ("Supply Chain Compromise", "Initial Access"),
        "T1189": ("Drive-by Compromise", "Initial Access"),
        "T1078": ("Valid Accounts", "Initial Access"),
        "T1059": ("Command and Scripting Interpreter", "Execution"),
        "T1036": ("Masquerading", "Defense Evasion"),
        "T1552": ("Unsecured Credentials", "Credential Access"),
        "T1047": ("Windows Management Instrumentation", "Execution"),
        "T1053": ("Scheduled Task/Job", "Execution"),
        "T1204": ("User Execution", "Execution"),
        "T1543": ("Create or Modify System Process", "Persistence"),
        "T1547": ("Boot or Logon Autostart Execution", "Persistence"),
        "T1136": ("Create Account", "Persistence"),
        "T1068": ("Exploitation for Privilege Escalation", "Privilege Escalation"),
        "T1055": ("Process Injection", "Privilege Escalation"),
        "T1070": ("Indicator Removal", "Defense Evasion"),
        "T1562": ("Impair Defenses", "Defense Evasion"),
        "T1027": ("Obfuscated Files or Information", "Defense Evasion"),
        "T1110": ("Brute Force", "Credential Access"),
        "T1003": ("OS Credential Dumping", "Credential Access"),
        "T1558": ("Steal or Forge Kerberos Tickets", "Credential Access"),
        "T1557": ("Adversary-in-the-Middle", "Credential Access"),
        "T1046": ("Network Service Discovery", "Discovery"),
        "T1018": ("Remote System Discovery", "Discovery"),
        "T1087": ("Account Discovery", "Discovery"),
        "T1135": ("Network Share Discovery", "Discovery"),
        "T1021": ("Remote Services", "Lateral Movement"),
        "T1570": ("Lateral Tool Transfer", "Lateral Movement"),
        "T1210": ("Exploitation of Remote Services", "Lateral Movement"),
        "T1550": ("Use Alternate Authentication Material", "Lateral Movement"),
        "T1005": ("Data from Local System", "Collection"),
        "T1039": ("Data from Network Shared Drive", "Collection"),
        "T1560": ("Archive Collected Data", "Collection"),
        "T1071": ("Application Layer Protocol", "Command and Control"),
        "T1573": ("Encrypted Channel", "Command and Control"),
        "T1568": ("Dynamic Resolution", "Command and Control"),
        "T1105": ("Ingress Tool Transfer", "Command and Control"),
        "T1090": ("Proxy", "Command and Control"),
        "T1572": ("Protocol Tunneling", "Command and Control"),
        "T1219": ("Remote Access Software", "Command and Control"),
        "T1041": ("Exfiltration Over C2 Channel", "Exfiltration"),
        "T1048": ("Exfiltration Over Alternative Protocol", "Exfiltration"),
        "T1567": ("Exfiltration Over Web Service", "Exfiltration"),
        "T1486": ("Data Encrypted for Impact", "Impact"),
        "T1490": ("Inhibit System Recovery", "Impact"),
        "T1498": ("Network Denial of Service", "Impact"),
        "T1499": ("Endpoint Denial of Service", "Impact"),
        "T1496": ("Resource Hijacking", "Impact"),
    ]

    static func entry(_ technique: String) -> (name: String, tactic: String)? {
        let id = technique.uppercased()
        if let e = techniques[id] { return e }
        if let dot = id.firstIndex(of: ".") { return techniques[String(id[..<dot])] }
        return nil
    }

    /// The tactic a technique belongs to, or nil for an id this table does not know.
    public static func tactic(of technique: String) -> String? { entry(technique)?.tactic }

    /// The technique's name ("Remote Services"), or the id itself when unknown.
    public static func name(of technique: String) -> String { entry(technique)?.name ?? technique }

    /// A technique id found in free text such as a Sigma tag (`attack.t1059.001`) or a link
    /// (`https://attack.mitre.org/techniques/T1059/001/`).
    public static func techniqueID(in text: String) -> String? {
        let u = Array(text.uppercased().utf8)
        var i = 0
        while i < u.count {
            if u[i] == UInt8(ascii: "T"), i + 4 < u.count, (i == 0 || !isAlnum(u[i - 1])),
               u[(i + 1)...(i + 4)].allSatisfy(isDigit), (i + 5 == u.count || !isDigit(u[i + 5])) {
                var id = String(decoding: u[i...(i + 4)], as: UTF8.self)
                let j = i + 5
                if j + 3 < u.count, u[j] == UInt8(ascii: ".") || u[j] == UInt8(ascii: "/"),
                   u[(j + 1)...(j + 3)].allSatisfy(isDigit) {
                    id += "." + String(decoding: u[(j + 1)...(j + 3)], as: UTF8.self)
                }
                return id
            }
            i += 1
        }
        return nil
    }

    private static func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }
    private static func isAlnum(_ c: UInt8) -> Bool { isDigit(c) || (c >= 65 && c <= 90) }

    /// What an alert's category (Suricata classtypes, Zeek notice names, EDR categories)
    /// implies when the alert names no technique. Matched case-insensitively by substring.
    static let categoryTechniques: [(String, String)] = [
        ("network scan", "T1046"), ("scan::", "T1046"), ("port_scan", "T1046"), ("address_scan", "T1046"),
        ("password_guessing", "T1110"), ("brute", "T1110"), ("credential", "T1003"),
        ("information leak", "T1595"), ("web application attack", "T1190"), ("exploit kit", "T1189"),
        ("command and control", "T1071"), ("network trojan", "T1071"), ("used for c2", "T1071"),
        ("trojan", "T1071"), ("malware", "T1204"), ("ransomware", "T1486"),
        ("administrator privilege gain", "T1068"), ("user privilege gain", "T1068"),
        ("denial of service", "T1499"), ("lateral", "T1021"), ("exfiltration", "T1041"),
        ("coin", "T1496"), ("miner", "T1496"), ("phishing", "T1566"), ("suspicious_activity", "T1059"),
        ("persistence", "T1547"), ("defenseevasion", "T1562"), ("defense evasion", "T1562"),
        ("discovery", "T1087"), ("execution", "T1059"),
    ]

    /// The technique a category implies, if any.
    public static func technique(forCategory category: String) -> String? {
        let c = category.lowercased()
        return categoryTechniques.first { c.contains($0.0) }?.1
    }
}
