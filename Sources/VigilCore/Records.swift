/// One finished connection, with the meaning of a Zeek `conn.log` row.
public struct ConnRecord: Hashable, Sendable, Codable {
    public var ts: Timestamp
    public var uid: String
    public var id: ConnectionID
    public var service: [String]
    public var duration: Duration?
    public var origBytes: UInt64?
    public var respBytes: UInt64?
    public var connState: String?
    public var localOrig: Bool?
    public var localResp: Bool?
    public var missedBytes: UInt64?
    public var history: String?
    public var origPackets: UInt64?
    public var origIPBytes: UInt64?
    public var respPackets: UInt64?
    public var respIPBytes: UInt64?
    public var tunnelParents: [String]
    public var origMAC: MACAddress?
    public var respMAC: MACAddress?
    public var extra: ExtraFields

    public init(ts: Timestamp, uid: String, id: ConnectionID, service: [String] = [], duration: Duration? = nil,
                origBytes: UInt64? = nil, respBytes: UInt64? = nil, connState: String? = nil,
                localOrig: Bool? = nil, localResp: Bool? = nil, missedBytes: UInt64? = nil, history: String? = nil,
                origPackets: UInt64? = nil, origIPBytes: UInt64? = nil, respPackets: UInt64? = nil,
                respIPBytes: UInt64? = nil, tunnelParents: [String] = [], origMAC: MACAddress? = nil,
                respMAC: MACAddress? = nil, extra: ExtraFields = [:]) {
        self.ts = ts; self.uid = uid; self.id = id; self.service = service; self.duration = duration
        self.origBytes = origBytes; self.respBytes = respBytes; self.connState = connState
        self.localOrig = localOrig; self.localResp = localResp; self.missedBytes = missedBytes
        self.history = history; self.origPackets = origPackets; self.origIPBytes = origIPBytes
        self.respPackets = respPackets; self.respIPBytes = respIPBytes; self.tunnelParents = tunnelParents
        self.origMAC = origMAC; self.respMAC = respMAC; self.extra = extra
    }
}

/// One DNS query and its answer (Zeek `dns.log`).
public struct DNSRecord: Hashable, Sendable, Codable {
    public var ts: Timestamp
    public var uid: String
    public var id: ConnectionID
    public var transID: UInt16?
    public var rtt: Duration?
    public var query: String?
    public var qclass: UInt16?
    public var qtype: UInt16?
    public var rcode: UInt16?
    public var authoritative: Bool
    public var truncated: Bool
    public var recursionDesired: Bool
    public var recursionAvailable: Bool
    public var z: UInt8
    public var answers: [String]
    public var ttls: [Double]
    public var rejected: Bool
    public var extra: ExtraFields

    public init(ts: Timestamp, uid: String, id: ConnectionID, transID: UInt16? = nil, rtt: Duration? = nil,
                query: String? = nil, qclass: UInt16? = nil, qtype: UInt16? = nil, rcode: UInt16? = nil,
                authoritative: Bool = false, truncated: Bool = false, recursionDesired: Bool = false,
                recursionAvailable: Bool = false, z: UInt8 = 0, answers: [String] = [], ttls: [Double] = [],
                rejected: Bool = false, extra: ExtraFields = [:]) {
        self.ts = ts; self.uid = uid; self.id = id; self.transID = transID; self.rtt = rtt; self.query = query
        self.qclass = qclass; self.qtype = qtype; self.rcode = rcode; self.authoritative = authoritative
        self.truncated = truncated; self.recursionDesired = recursionDesired
        self.recursionAvailable = recursionAvailable; self.z = z; self.answers = answers; self.ttls = ttls
        self.rejected = rejected; self.extra = extra
    }
}

/// One HTTP/1.x request and its response (Zeek `http.log`).
public struct HTTPRecord: Hashable, Sendable, Codable {
    public var ts: Timestamp
    public var uid: String
    public var id: ConnectionID
    public var transDepth: UInt32
    public var method: String?
    public var host: String?
    public var uri: String?
    public var referrer: String?
    public var version: String?
    public var userAgent: String?
    public var origin: String?
    public var requestBodyLength: UInt64
    public var responseBodyLength: UInt64
    public var statusCode: UInt16?
    public var statusMessage: String?
    public var contentType: String?
    public var extra: ExtraFields

    public init(ts: Timestamp, uid: String, id: ConnectionID, transDepth: UInt32 = 1, method: String? = nil,
                host: String? = nil, uri: String? = nil, referrer: String? = nil, version: String? = nil,
                userAgent: String? = nil, origin: String? = nil, requestBodyLength: UInt64 = 0,
                responseBodyLength: UInt64 = 0, statusCode: UInt16? = nil, statusMessage: String? = nil,
                contentType: String? = nil, extra: ExtraFields = [:]) {
        self.ts = ts; self.uid = uid; self.id = id; self.transDepth = transDepth; self.method = method
        self.host = host; self.uri = uri; self.referrer = referrer; self.version = version
        self.userAgent = userAgent; self.origin = origin; self.requestBodyLength = requestBodyLength
        self.responseBodyLength = responseBodyLength; self.statusCode = statusCode
        self.statusMessage = statusMessage; self.contentType = contentType; self.extra = extra
    }
}

/// One TLS handshake (Zeek `ssl.log`), with the client's JA4 fingerprint.
public struct TLSRecord: Hashable, Sendable, Codable {
    public var ts: Timestamp
    public var uid: String
    public var id: ConnectionID
    public var version: String?
    public var cipher: String?
    public var curve: String?
    public var serverName: String?
    public var resumed: Bool
    public var nextProtocol: String?
    public var established: Bool
    public var ja4: String?
    public var ja4s: String?
    public var clientALPN: [String]
    public var extra: ExtraFields

    public init(ts: Timestamp, uid: String, id: ConnectionID, version: String? = nil, cipher: String? = nil,
                curve: String? = nil, serverName: String? = nil, resumed: Bool = false,
                nextProtocol: String? = nil, established: Bool = false, ja4: String? = nil, ja4s: String? = nil,
                clientALPN: [String] = [], extra: ExtraFields = [:]) {
        self.ts = ts; self.uid = uid; self.id = id; self.version = version; self.cipher = cipher
        self.curve = curve; self.serverName = serverName; self.resumed = resumed
        self.nextProtocol = nextProtocol; self.established = established; self.ja4 = ja4; self.ja4s = ja4s
        self.clientALPN = clientALPN; self.extra = extra
    }
}

/// One SSH session's banners and negotiated algorithms (Zeek `ssh.log`).
public struct SSHRecord: Hashable, Sendable, Codable {
    public var ts: Timestamp
    public var uid: String
    public var id: ConnectionID
    public var version: UInt8?
    public var authSuccess: Bool?
    public var authAttempts: UInt32
    public var client: String?
    public var server: String?
    public var cipherAlg: String?
    public var macAlg: String?
    public var compressionAlg: String?
    public var kexAlg: String?
    public var hostKeyAlg: String?
    public var extra: ExtraFields

    public init(ts: Timestamp, uid: String, id: ConnectionID, version: UInt8? = nil, authSuccess: Bool? = nil,
                authAttempts: UInt32 = 0, client: String? = nil, server: String? = nil, cipherAlg: String? = nil,
                macAlg: String? = nil, compressionAlg: String? = nil, kexAlg: String? = nil,
                hostKeyAlg: String? = nil, extra: ExtraFields = [:]) {
        self.ts = ts; self.uid = uid; self.id = id; self.version = version; self.authSuccess = authSuccess
        self.authAttempts = authAttempts; self.client = client; self.server = server
        self.cipherAlg = cipherAlg; self.macAlg = macAlg; self.compressionAlg = compressionAlg
        self.kexAlg = kexAlg; self.hostKeyAlg = hostKeyAlg; self.extra = extra
    }
}

/// One DHCP exchange (Zeek `dhcp.log`): how devices get their names and addresses.
public struct DHCPRecord: Hashable, Sendable, Codable {
    public var ts: Timestamp
    public var uids: [String]
    public var clientAddr: IPAddress?
    public var serverAddr: IPAddress?
    public var mac: MACAddress?
    public var hostName: String?
    public var clientFQDN: String?
    public var domain: String?
    public var requestedAddr: IPAddress?
    public var assignedAddr: IPAddress?
    public var leaseTime: Duration?
    public var msgTypes: [String]
    public var duration: Duration?
    public var extra: ExtraFields

    public init(ts: Timestamp, uids: [String], clientAddr: IPAddress? = nil, serverAddr: IPAddress? = nil,
                mac: MACAddress? = nil, hostName: String? = nil, clientFQDN: String? = nil, domain: String? = nil,
                requestedAddr: IPAddress? = nil, assignedAddr: IPAddress? = nil, leaseTime: Duration? = nil,
                msgTypes: [String] = [], duration: Duration? = nil, extra: ExtraFields = [:]) {
        self.ts = ts; self.uids = uids; self.clientAddr = clientAddr; self.serverAddr = serverAddr
        self.mac = mac; self.hostName = hostName; self.clientFQDN = clientFQDN; self.domain = domain
        self.requestedAddr = requestedAddr; self.assignedAddr = assignedAddr; self.leaseTime = leaseTime
        self.msgTypes = msgTypes; self.duration = duration; self.extra = extra
    }
}
