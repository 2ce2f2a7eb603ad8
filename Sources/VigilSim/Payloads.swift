import VigilCore

/// Application payloads for synthetic traffic, built to their specifications.
public enum Payloads {
    static func name(_ n: String) -> [UInt8] {
        var out: [UInt8] = []
        for label in n.split(separator: ".") {
            let l = Array(label.utf8.prefix(63))
            out.append(UInt8(l.count)); out.append(contentsOf: l)
        }
        out.append(0)
        return out
    }

    static func be16(_ v: UInt16) -> [UInt8] { [UInt8(v >> 8), UInt8(v & 0xFF)] }
    static func be32(_ v: UInt32) -> [UInt8] { be16(UInt16(v >> 16)) + be16(UInt16(v & 0xFFFF)) }

    static func dnsQuery(id: UInt16, name n: String, type: UInt16) -> [UInt8] {
        be16(id) + be16(0x0100) + be16(1) + be16(0) + be16(0) + be16(0) + name(n) + be16(type) + be16(1)
    }

    /// A response with `answers` A records (or NXDOMAIN when empty and `nx`).
    static func dnsResponse(id: UInt16, name n: String, type: UInt16, answers: [UInt32], ttl: UInt32, nx: Bool) -> [UInt8] {
        let flags: UInt16 = 0x8180 | (nx ? 3 : 0)
        var b = be16(id) + be16(flags) + be16(1) + be16(UInt16(answers.count)) + be16(0) + be16(0) + name(n) + be16(type) + be16(1)
        for a in answers {
            b += [0xC0, 0x0C] + be16(1) + be16(1) + be32(ttl) + be16(4) + be32(a)
        }
        return b
    }

    static func tlsRecord(_ type: UInt8, _ body: [UInt8], version: UInt16 = 0x0303) -> [UInt8] {
        [type] + be16(version) + be16(UInt16(body.count)) + body
    }

    static func handshake(_ type: UInt8, _ body: [UInt8]) -> [UInt8] {
        [type, UInt8(body.count >> 16), UInt8(body.count >> 8 & 0xFF), UInt8(body.count & 0xFF)] + body
    }

    static func ext(_ type: UInt16, _ data: [UInt8]) -> [UInt8] { be16(type) + be16(UInt16(data.count)) + data }

    static func clientHello(sni: String?, alpn: [String], grease: Bool, random: UInt64) -> [UInt8] {
        var ciphers: [UInt16] = [0x1301, 0x1302, 0x1303, 0xC02B, 0xC02F, 0xC02C, 0xC030, 0xCCA9, 0xCCA8, 0xC013, 0xC014, 0x009C, 0x009D, 0x002F, 0x0035]
        if grease { ciphers.insert(0x2A2A, at: 0) }
        var exts: [UInt8] = []
        if grease { exts += ext(0x0A0A, []) }
        if let sni {
            let host = Array(sni.utf8)
            exts += ext(0, be16(UInt16(host.count + 3)) + [0] + be16(UInt16(host.count)) + host)
        }
        exts += ext(23, [])                                   // extended_master_secret
        exts += ext(65281, [0])                               // renegotiation_info
        exts += ext(10, be16(6) + be16(29) + be16(23) + be16(24))  // supported_groups
        exts += ext(11, [1, 0])                               // ec_point_formats
        exts += ext(35, [])                                   // session_ticket
        if !alpn.isEmpty {
            var list: [UInt8] = []
            for a in alpn { list += [UInt8(a.utf8.count)] + Array(a.utf8) }
            exts += ext(16, be16(UInt16(list.count)) + list)
        }
        exts += ext(5, [1, 0, 0, 0, 0])                       // status_request
        exts += ext(13, be16(8) + be16(0x0403) + be16(0x0804) + be16(0x0401) + be16(0x0503))
        exts += ext(51, be16(38) + be16(29) + be16(32) + [UInt8](repeating: 0x42, count: 32))
        exts += ext(45, [1, 1])                               // psk_key_exchange_modes
        exts += ext(43, [4] + be16(0x0304) + be16(0x0303))    // supported_versions
        var body = be16(0x0303)
        for k in 0..<32 { body.append(UInt8(truncatingIfNeeded: random >> UInt64(k % 8 * 8)) ^ UInt8(k)) }
        body += [32] + [UInt8](repeating: 0x11, count: 32)
        body += be16(UInt16(ciphers.count * 2)) + ciphers.flatMap(be16)
        body += [1, 0]
        body += be16(UInt16(exts.count)) + exts
        return tlsRecord(22, handshake(1, body), version: 0x0301)
    }

    static func serverHello(alpn: String?) -> [UInt8] {
        var exts = ext(43, be16(0x0304)) + ext(51, be16(29) + be16(32) + [UInt8](repeating: 0x24, count: 32))
        if let alpn { let a = Array(alpn.utf8); exts += ext(16, be16(UInt16(a.count + 1)) + [UInt8(a.count)] + a) }
        var body = be16(0x0303) + [UInt8](repeating: 0x5A, count: 32) + [32] + [UInt8](repeating: 0x11, count: 32)
        body += be16(0x1301) + [0]
        body += be16(UInt16(exts.count)) + exts
        return tlsRecord(22, handshake(2, body)) + tlsRecord(20, [1])
    }

    static func appData(_ n: Int) -> [UInt8] { tlsRecord(23, [UInt8](repeating: 0x17, count: max(1, min(n, 16_000)))) }

    static func httpRequest(host: String, path: String, agent: String, body: Int = 0) -> [UInt8] {
        let method = body > 0 ? "POST" : "GET"
        var s = "\(method) \(path) HTTP/1.1\r\nHost: \(host)\r\nUser-Agent: \(agent)\r\nAccept: */*\r\n"
        if body > 0 { s += "Content-Type: application/octet-stream\r\nContent-Length: \(body)\r\n" }
        s += "\r\n"
        return Array(s.utf8) + [UInt8](repeating: 0x61, count: body)
    }

    static func httpResponse(status: Int, body: Int, chunked: Bool) -> [UInt8] {
        let reason = status == 200 ? "OK" : (status == 404 ? "Not Found" : "Found")
        var s = "HTTP/1.1 \(status) \(reason)\r\nServer: synth/1.0\r\nContent-Type: text/html\r\n"
        if chunked {
            s += "Transfer-Encoding: chunked\r\n\r\n"
            var out = Array(s.utf8)
            var left = body
            while left > 0 {
                let n = min(left, 4000)
                out += Array((String(n, radix: 16) + "\r\n").utf8) + [UInt8](repeating: 0x62, count: n) + [13, 10]
                left -= n
            }
            return out + Array("0\r\n\r\n".utf8)
        }
        s += "Content-Length: \(body)\r\n\r\n"
        return Array(s.utf8) + [UInt8](repeating: 0x62, count: body)
    }

    static func sshKexinit(client: Bool) -> [UInt8] {
        let lists = [
            client ? "curve25519-sha256,ecdh-sha2-nistp256,diffie-hellman-group14-sha256" : "curve25519-sha256,ecdh-sha2-nistp256",
            "ssh-ed25519,rsa-sha2-512", "chacha20-poly1305@openssh.com,aes128-ctr", "chacha20-poly1305@openssh.com,aes128-ctr",
            "umac-64-etm@openssh.com,hmac-sha2-256", "umac-64-etm@openssh.com,hmac-sha2-256", "none,zlib@openssh.com",
            "none,zlib@openssh.com", "", "",
        ]
        var payload: [UInt8] = [20] + [UInt8](repeating: 0x33, count: 16)
        for l in lists { payload += be32(UInt32(l.utf8.count)) + Array(l.utf8) }
        payload += [0] + be32(0)
        let pad = 8 - (payload.count + 5) % 8 + 4
        return be32(UInt32(payload.count + pad + 1)) + [UInt8(pad)] + payload + [UInt8](repeating: 0, count: pad)
    }

    static func dhcp(op: UInt8, type: UInt8, xid: UInt32, mac: UInt64, yiaddr: UInt32, server: UInt32, host: String?) -> [UInt8] {
        var b: [UInt8] = [op, 1, 6, 0] + be32(xid) + be16(0) + be16(0x8000)
        b += be32(0) + be32(op == 2 ? yiaddr : 0) + be32(0) + be32(0)
        for k in 0..<6 { b.append(UInt8(truncatingIfNeeded: mac >> UInt64(40 - 8 * k))) }
        b += [UInt8](repeating: 0, count: 10 + 64 + 128)
        b += [0x63, 0x82, 0x53, 0x63]
        b += [53, 1, type]
        if let host { let h = Array(host.utf8); b += [12, UInt8(h.count)] + h }
        if op == 2 { b += [54, 4] + be32(server) + [51, 4] + be32(86400) + [1, 4, 255, 255, 255, 0] }
        else if yiaddr != 0 { b += [50, 4] + be32(yiaddr) }
        b += [255]
        return b
    }
}

/// Payload builders for tests and tools outside this module.
extension Payloads {
    public static func clientHelloForTests(sni: String?) -> [UInt8] { clientHello(sni: sni, alpn: ["h2", "http/1.1"], grease: true, random: 42) }
    public static func serverHelloForTests() -> [UInt8] { serverHello(alpn: "h2") }
    public static func appDataForTests() -> [UInt8] { appData(300) }
    public static func kexinitForTests(client: Bool) -> [UInt8] { sshKexinit(client: client) }
    public static func dnsQueryForTests(id: UInt16, name: String) -> [UInt8] { dnsQuery(id: id, name: name, type: 1) }
    public static func dnsAnswerForTests(id: UInt16, name: String, a: [UInt32]) -> [UInt8] {
        dnsResponse(id: id, name: name, type: 1, answers: a, ttl: 300, nx: false)
    }
    public static func dhcpForTests(op: UInt8, type: UInt8, xid: UInt32, mac: UInt64, yiaddr: UInt32, server: UInt32, host: String?) -> [UInt8] {
        dhcp(op: op, type: type, xid: xid, mac: mac, yiaddr: yiaddr, server: server, host: host)
    }
}
