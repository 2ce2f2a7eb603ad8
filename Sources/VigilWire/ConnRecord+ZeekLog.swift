import VigilCore

extension ConnRecord: ZeekLoggable {
    public static let zeekPath = "conn"
    public static let zeekColumns: [ZeekColumn] = idColumns() + [
        .init("proto", "enum"), .init("service", "string"), .init("duration", "interval"),
        .init("orig_bytes", "count"), .init("resp_bytes", "count"), .init("conn_state", "string"),
        .init("local_orig", "bool"), .init("local_resp", "bool"), .init("missed_bytes", "count"),
        .init("history", "string"), .init("orig_pkts", "count"), .init("orig_ip_bytes", "count"),
        .init("resp_pkts", "count"), .init("resp_ip_bytes", "count"), .init("tunnel_parents", "set[string]"),
        .init("orig_l2_addr", "string"), .init("resp_l2_addr", "string"),
    ]
    public static let modeledColumns: Set<String> = Set(zeekColumns.map(\.name))

    public func writeZeek(_ w: inout ZeekRowWriter) {
        w.id(ts, uid, id)
        w.text(id.proto.description)
        if service.isEmpty { w.unset() } else { w.text(service.joined(separator: ",")) }
        w.fixed(duration?.nanoseconds); w.count(origBytes); w.count(respBytes); w.text(connState)
        w.bool(localOrig); w.bool(localResp); w.count(missedBytes); w.text(history)
        w.count(origPackets); w.count(origIPBytes); w.count(respPackets); w.count(respIPBytes)
        w.list(tunnelParents); w.mac(origMAC); w.mac(respMAC)
    }

    public init(zeek r: ZeekRow) throws {
        let id = try r.connectionID()
        self.init(ts: try r.time("ts"), uid: try r.required("uid"), id: id)
        service = r.list("service")
        duration = try r.interval("duration")
        origBytes = try r.count("orig_bytes")
        respBytes = try r.count("resp_bytes")
        connState = r.text("conn_state")
        localOrig = try r.bool("local_orig")
        localResp = try r.bool("local_resp")
        missedBytes = try r.count("missed_bytes")
        history = r.text("history")
        origPackets = try r.count("orig_pkts")
        origIPBytes = try r.count("orig_ip_bytes")
        respPackets = try r.count("resp_pkts")
        respIPBytes = try r.count("resp_ip_bytes")
        tunnelParents = r.list("tunnel_parents")
        origMAC = try r.mac("orig_l2_addr")
        respMAC = try r.mac("resp_l2_addr")
        extra = r.extras(excluding: Self.modeledColumns)
    }
}

extension DNSRecord: ZeekLoggable {
    public static let zeekPath = "dns"
    public static let zeekColumns: [ZeekColumn] = idColumns() + [
        .init("proto", "enum"), .init("trans_id", "count"), .init("rtt", "interval"), .init("query", "string"),
        .init("qclass", "count"), .init("qclass_name", "string"), .init("qtype", "count"),
        .init("qtype_name", "string"), .init("rcode", "count"), .init("rcode_name", "string"),
        .init("AA", "bool"), .init("TC", "bool"), .init("RD", "bool"), .init("RA", "bool"), .init("Z", "count"),
        .init("answers", "vector[string]"), .init("TTLs", "vector[interval]"), .init("rejected", "bool"),
    ]
    public static let modeledColumns: Set<String> = Set(zeekColumns.map(\.name))

    public func writeZeek(_ w: inout ZeekRowWriter) {
        w.id(ts, uid, id)
        w.text(id.proto.description); w.count(transID); w.fixed(rtt?.nanoseconds); w.text(query)
        w.count(qclass); w.text(qclass.map(DNSNames.className)); w.count(qtype); w.text(qtype.map(DNSNames.typeName))
        w.count(rcode); w.text(rcode.map(DNSNames.rcodeName)); w.bool(authoritative); w.bool(truncated)
        w.bool(recursionDesired); w.bool(recursionAvailable); w.count(z)
        if answers.isEmpty { w.unset() } else { w.list(answers) }
        if ttls.isEmpty { w.unset() } else { w.fixedList(ttls.map { Int64(($0 * 1e9).rounded()) }) }
        w.bool(rejected)
    }

    public init(zeek r: ZeekRow) throws {
        self.init(ts: try r.time("ts"), uid: try r.required("uid"), id: try r.connectionID(proto: .udp))
        transID = try r.count("trans_id").map { UInt16(truncatingIfNeeded: $0) }
        rtt = try r.interval("rtt")
        query = r.text("query")
        qclass = try r.count("qclass").map { UInt16(truncatingIfNeeded: $0) }
        qtype = try r.count("qtype").map { UInt16(truncatingIfNeeded: $0) }
        rcode = try r.count("rcode").map { UInt16(truncatingIfNeeded: $0) }
        authoritative = try r.bool("AA") ?? false
        truncated = try r.bool("TC") ?? false
        recursionDesired = try r.bool("RD") ?? false
        recursionAvailable = try r.bool("RA") ?? false
        z = UInt8(truncatingIfNeeded: try r.count("Z") ?? 0)
        answers = r.list("answers")
        ttls = try r.list("TTLs").map { s in
            guard let d = Double(s) else { throw r.fail("TTLs", "not an interval: \(s.prefix(30))") }
            return d
        }
        rejected = try r.bool("rejected") ?? false
        extra = r.extras(excluding: Self.modeledColumns)
    }
}

extension HTTPRecord: ZeekLoggable {
    public static let zeekPath = "http"
    public static let zeekColumns: [ZeekColumn] = idColumns() + [
        .init("trans_depth", "count"), .init("method", "string"), .init("host", "string"), .init("uri", "string"),
        .init("referrer", "string"), .init("version", "string"), .init("user_agent", "string"),
        .init("origin", "string"), .init("request_body_len", "count"), .init("response_body_len", "count"),
        .init("status_code", "count"), .init("status_msg", "string"), .init("info_code", "count"),
        .init("info_msg", "string"), .init("tags", "set[enum]"), .init("username", "string"),
        .init("password", "string"), .init("proxied", "set[string]"), .init("orig_fuids", "vector[string]"),
        .init("orig_filenames", "vector[string]"), .init("orig_mime_types", "vector[string]"),
        .init("resp_fuids", "vector[string]"), .init("resp_filenames", "vector[string]"),
        .init("resp_mime_types", "vector[string]"),
    ]
    public static let modeledColumns: Set<String> = [
        "ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "trans_depth", "method", "host", "uri",
        "referrer", "version", "user_agent", "origin", "request_body_len", "response_body_len", "status_code",
        "status_msg",
    ]

    public func writeZeek(_ w: inout ZeekRowWriter) {
        w.id(ts, uid, id)
        w.count(transDepth); w.text(method); w.text(host); w.text(uri); w.text(referrer); w.text(version)
        w.text(userAgent); w.text(origin); w.count(requestBodyLength); w.count(responseBodyLength)
        w.count(statusCode); w.text(statusMessage)
        for _ in 0..<12 { w.fromExtra() }
    }

    public init(zeek r: ZeekRow) throws {
        self.init(ts: try r.time("ts"), uid: try r.required("uid"), id: try r.connectionID())
        transDepth = UInt32(truncatingIfNeeded: try r.count("trans_depth") ?? 1)
        method = r.text("method"); host = r.text("host"); uri = r.text("uri"); referrer = r.text("referrer")
        version = r.text("version"); userAgent = r.text("user_agent"); origin = r.text("origin")
        requestBodyLength = try r.count("request_body_len") ?? 0
        responseBodyLength = try r.count("response_body_len") ?? 0
        statusCode = try r.count("status_code").map { UInt16(truncatingIfNeeded: $0) }
        statusMessage = r.text("status_msg")
        extra = r.extras(excluding: Self.modeledColumns)
    }
}

extension TLSRecord: ZeekLoggable {
    public static let zeekPath = "ssl"
    public static let zeekColumns: [ZeekColumn] = idColumns() + [
        .init("version", "string"), .init("cipher", "string"), .init("curve", "string"),
        .init("server_name", "string"), .init("resumed", "bool"), .init("last_alert", "string"),
        .init("next_protocol", "string"), .init("established", "bool"), .init("ssl_history", "string"),
        .init("cert_chain_fps", "vector[string]"), .init("client_cert_chain_fps", "vector[string]"),
        .init("sni_matches_cert", "bool"), .init("validation_status", "string"),
        .init("ja4", "string"), .init("ja4s", "string"), .init("client_alpn", "vector[string]"),
    ]
    public static let modeledColumns: Set<String> = [
        "ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "version", "cipher", "curve",
        "server_name", "resumed", "next_protocol", "established", "ja4", "ja4s", "client_alpn",
    ]

    public func writeZeek(_ w: inout ZeekRowWriter) {
        w.id(ts, uid, id)
        w.text(version); w.text(cipher); w.text(curve); w.text(serverName); w.bool(resumed); w.fromExtra()
        w.text(nextProtocol); w.bool(established)
        for _ in 0..<5 { w.fromExtra() }
        w.text(ja4); w.text(ja4s)
        if clientALPN.isEmpty { w.unset() } else { w.list(clientALPN) }
    }

    public init(zeek r: ZeekRow) throws {
        self.init(ts: try r.time("ts"), uid: try r.required("uid"), id: try r.connectionID())
        version = r.text("version"); cipher = r.text("cipher"); curve = r.text("curve")
        serverName = r.text("server_name"); resumed = try r.bool("resumed") ?? false
        nextProtocol = r.text("next_protocol"); established = try r.bool("established") ?? false
        ja4 = r.text("ja4"); ja4s = r.text("ja4s"); clientALPN = r.list("client_alpn")
        extra = r.extras(excluding: Self.modeledColumns)
    }
}

extension SSHRecord: ZeekLoggable {
    public static let zeekPath = "ssh"
    public static let zeekColumns: [ZeekColumn] = idColumns() + [
        .init("version", "count"), .init("auth_success", "bool"), .init("auth_attempts", "count"),
        .init("direction", "enum"), .init("client", "string"), .init("server", "string"),
        .init("cipher_alg", "string"), .init("mac_alg", "string"), .init("compression_alg", "string"),
        .init("kex_alg", "string"), .init("host_key_alg", "string"), .init("host_key", "string"),
    ]
    public static let modeledColumns: Set<String> = [
        "ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "version", "auth_success",
        "auth_attempts", "client", "server", "cipher_alg", "mac_alg", "compression_alg", "kex_alg", "host_key_alg",
    ]

    public func writeZeek(_ w: inout ZeekRowWriter) {
        w.id(ts, uid, id)
        w.count(version); w.bool(authSuccess); w.count(authAttempts); w.fromExtra(); w.text(client); w.text(server)
        w.text(cipherAlg); w.text(macAlg); w.text(compressionAlg); w.text(kexAlg); w.text(hostKeyAlg); w.fromExtra()
    }

    public init(zeek r: ZeekRow) throws {
        self.init(ts: try r.time("ts"), uid: try r.required("uid"), id: try r.connectionID())
        version = try r.count("version").map { UInt8(truncatingIfNeeded: $0) }
        authSuccess = try r.bool("auth_success")
        authAttempts = UInt32(truncatingIfNeeded: try r.count("auth_attempts") ?? 0)
        client = r.text("client"); server = r.text("server"); cipherAlg = r.text("cipher_alg")
        macAlg = r.text("mac_alg"); compressionAlg = r.text("compression_alg"); kexAlg = r.text("kex_alg")
        hostKeyAlg = r.text("host_key_alg")
        extra = r.extras(excluding: Self.modeledColumns)
    }
}

extension DHCPRecord: ZeekLoggable {
    public static let zeekPath = "dhcp"
    public static let zeekColumns: [ZeekColumn] = [
        .init("ts", "time"), .init("uids", "set[string]"), .init("client_addr", "addr"),
        .init("server_addr", "addr"), .init("mac", "string"), .init("host_name", "string"),
        .init("client_fqdn", "string"), .init("domain", "string"), .init("requested_addr", "addr"),
        .init("assigned_addr", "addr"), .init("lease_time", "interval"), .init("client_message", "string"),
        .init("server_message", "string"), .init("msg_types", "vector[string]"), .init("duration", "interval"),
    ]
    public static let modeledColumns: Set<String> = [
        "ts", "uids", "client_addr", "server_addr", "mac", "host_name", "client_fqdn", "domain",
        "requested_addr", "assigned_addr", "lease_time", "msg_types", "duration",
    ]

    public func writeZeek(_ w: inout ZeekRowWriter) {
        w.time(ts); w.list(uids); w.addr(clientAddr); w.addr(serverAddr); w.mac(mac); w.text(hostName)
        w.text(clientFQDN); w.text(domain); w.addr(requestedAddr); w.addr(assignedAddr); w.fixed(leaseTime?.nanoseconds)
        w.fromExtra(); w.fromExtra(); w.list(msgTypes); w.fixed(duration?.nanoseconds)
    }

    public init(zeek r: ZeekRow) throws {
        self.init(ts: try r.time("ts"), uids: r.list("uids"))
        clientAddr = try r.optionalAddr("client_addr"); serverAddr = try r.optionalAddr("server_addr")
        mac = try r.mac("mac"); hostName = r.text("host_name"); clientFQDN = r.text("client_fqdn")
        domain = r.text("domain"); requestedAddr = try r.optionalAddr("requested_addr")
        assignedAddr = try r.optionalAddr("assigned_addr"); leaseTime = try r.interval("lease_time")
        msgTypes = r.list("msg_types"); duration = try r.interval("duration")
        extra = r.extras(excluding: Self.modeledColumns)
    }
}
