import Testing
import VigilCore
import VigilSim
@testable import VigilWire

/// Runs one TCP conversation through the engine: handshake, then `exchanges` as segments of
/// `segment` bytes (1 = drip-fed a byte at a time), then close.
func runTCP(_ exchanges: [(fromClient: Bool, bytes: [UInt8])], server: UInt16 = 80, segment: Int = 1460) -> [Observation] {
    let w = Wire()
    var s = serverEP
    s.port = server
    var t = TCPTalk(clientEP, s)
    t.handshake(w)
    for (fromClient, bytes) in exchanges {
        var off = 0
        while off < bytes.count {
            let n = min(segment, bytes.count - off)
            w.feed(t.frame(fromClient: fromClient, flags: F.ack | F.psh, payload: Array(bytes[off..<(off + n)])))
            off += n
        }
    }
    t.close(w)
    return w.finish()
}

func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

@Suite struct HTTPAnalyzerTests {
    let exchanges: [(fromClient: Bool, bytes: [UInt8])] = [
        (true, bytes("GET /a HTTP/1.1\r\nHost: example.com\r\nUser-Agent: Modzilla/0.0001 (Atari 7800)\r\n\r\n")),
        (false, bytes("HTTP/1.1 200 OK\r\nContent-Length: 11\r\nContent-Type: text/plain\r\n\r\nhello world")),
        (true, bytes("POST /up HTTP/1.1\r\nHost: example.com\r\nContent-Length: 4\r\n\r\nabcd")),
        (false, bytes("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n3;x=y\r\nabc\r\n0\r\n\r\n")),
        (true, bytes("HEAD /h HTTP/1.1\r\nHost: example.com\r\n\r\n")),
        (false, bytes("HTTP/1.1 200 OK\r\nContent-Length: 999\r\n\r\n")),
    ]

    func check(_ obs: [Observation]) {
        let h = obs.http
        #expect(h.count == 3)
        guard h.count == 3 else { return }
        #expect(h[0].method == "GET" && h[0].uri == "/a" && h[0].host == "example.com")
        #expect(h[0].userAgent == "Modzilla/0.0001 (Atari 7800)")
        #expect(h[0].statusCode == 200 && h[0].responseBodyLength == 11 && h[0].transDepth == 1)
        #expect(h[1].method == "POST" && h[1].requestBodyLength == 4 && h[1].statusCode == 201 && h[1].responseBodyLength == 8)
        #expect(h[2].method == "HEAD" && h[2].responseBodyLength == 0 && h[2].transDepth == 3)
        #expect(obs.conns.first?.service == ["http"])
    }

    @Test func pairsKeepAliveRequestsAndCountsBodies() { check(runTCP(exchanges)) }

    @Test func dripFedByteByByteGivesTheSameRecords() {
        let whole = runTCP(exchanges).http
        let drip = runTCP(exchanges, segment: 1).http
        check(runTCP(exchanges, segment: 1))
        #expect(whole.map(\.uri) == drip.map(\.uri))
        #expect(whole.map(\.responseBodyLength) == drip.map(\.responseBodyLength))
    }

    @Test func pipelinedRequestsWithoutAnswersStayBounded() {
        let many = (0..<500).map { _ in (fromClient: true, bytes: bytes("GET /x HTTP/1.1\r\nHost: a\r\n\r\n")) }
        let obs = runTCP(many)
        #expect(obs.http.count == 500, "every request is logged, answered or not")
        #expect(obs.http.allSatisfy { $0.statusCode == nil })
    }

    @Test func headerNamesIgnoreCaseValuesAreTrimmedAndTheFirstOccurrenceWins() {
        let ex: [(fromClient: Bool, bytes: [UInt8])] = [
            (true, bytes("GET  /sp%20ace HTTP/1.0\r\nHOST: \t first.example \t\r\nhost: second.example\r\nReferer:x\r\nX-Long-Header-Name-Here: y\r\n\r\n")),
            (false, bytes("HTTP/1.0 404 Not  Found Here\r\ncontent-LENGTH: 3\r\nTRANSFER-encoding: gzip, Chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")),
            (true, bytes("\r\n\r\nGET /next HTTP/1.1\r\nContent-Length: +5\r\n\r\n")),
            (false, bytes("HTTP/1.1 204 No Content\r\n\r\n")),
        ]
        for segment in [1460, 7, 1] {
            let h = runTCP(ex, segment: segment).http
            #expect(h.count == 2, "segment \(segment)")
            guard h.count == 2 else { continue }
            #expect(h[0].method == "GET" && h[0].uri == "/sp%20ace" && h[0].version == "1.0")
            #expect(h[0].host == "first.example" && h[0].referrer == "x")
            #expect(h[0].statusCode == 404 && h[0].statusMessage == "Not  Found Here")
            #expect(h[0].responseBodyLength == 3, "chunked wins over Content-Length")
            #expect(h[1].uri == "/next" && h[1].requestBodyLength == 0, "a signed length is no length")
            #expect(h[1].statusCode == 204 && h[1].transDepth == 2)
        }
    }

    @Test func foundByContentOnAnyPort() {
        let obs = runTCP(Array(exchanges[0..<2]), server: 31337)
        #expect(obs.http.count == 1 && obs.conns[0].service == ["http"])
    }
}

@Suite struct TLSAnalyzerTests {
    @Test func ja4MatchesFoxIOReferenceHashes() {
        // From the JA4 specification's worked example (Chrome ClientHello).
        #expect(JA4.hash12("002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9") == "8daaf6152771")
        #expect(JA4.hash12("0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01_0403,0804,0401,0503,0805,0501,0806,0601") == "e5627efa2ab1")
    }

    @Test func logsHandshakeWithSNIAndJA4() {
        let hello = Payloads.clientHelloForTests(sni: "www.example.org")
        let obs = runTCP([(true, hello), (false, Payloads.serverHelloForTests()), (true, Payloads.appDataForTests()),
                          (false, Payloads.appDataForTests())], server: 8443)
        let t = obs.tls
        #expect(t.count == 1)
        #expect(t.first?.serverName == "www.example.org")
        #expect(t.first?.version == "TLSv13" && t.first?.cipher == "TLS_AES_128_GCM_SHA256" && t.first?.curve == "x25519")
        #expect(t.first?.established == true && t.first?.nextProtocol == "h2")
        // 15 ciphers and 12 extensions once GREASE is left out; ALPN h2.
        #expect(t.first?.ja4?.hasPrefix("t13d1512h2_8daaf6152771_") == true, "\(t.first?.ja4 ?? "-")")
        #expect(obs.conns.first?.service == ["ssl"])
        // The same hello split into one-byte segments.
        let drip = runTCP([(true, hello), (false, Payloads.serverHelloForTests()), (true, Payloads.appDataForTests()),
                           (false, Payloads.appDataForTests())], server: 8443, segment: 1).tls
        #expect(drip.first?.ja4 == t.first?.ja4 && drip.first?.serverName == "www.example.org")
    }

    /// A hello cut across two TLS records, and a server flight whose certificate spans several
    /// records, give the same log line as the plain handshake, however the bytes are segmented.
    @Test func fragmentedHandshakesGiveTheSameRecord() {
        func records(_ message: [UInt8], cut: [Int]) -> [UInt8] {
            var out: [UInt8] = [], start = 0
            for end in cut + [message.count] {
                let part = Array(message[start..<end])
                out += [22, 3, 3, UInt8(part.count >> 8), UInt8(part.count & 0xFF)] + part
                start = end
            }
            return out
        }
        let hello = Payloads.clientHelloForTests(sni: "www.example.org")
        let helloMessage = Array(hello[5...])
        let serverHello = Payloads.serverHelloForTests()
        let certificate: [UInt8] = [11, 0, 0x75, 0x30] + [UInt8](repeating: 0x5A, count: 30_000)
        let plain = runTCP([(true, hello), (false, serverHello), (true, Payloads.appDataForTests()),
                            (false, Payloads.appDataForTests())], server: 443).tls
        #expect(plain.count == 1)
        for segment in [1460, 100, 7] {
            let cut = runTCP([(true, records(helloMessage, cut: [40])),
                              (false, serverHello + records(certificate, cut: [9_000, 18_000])),
                              (true, Payloads.appDataForTests()), (false, Payloads.appDataForTests())],
                             server: 443, segment: segment).tls
            #expect(cut.count == 1, "segment \(segment)")
            #expect(cut.first?.ja4 == plain.first?.ja4 && cut.first?.ja4s == plain.first?.ja4s)
            #expect(cut.first?.serverName == "www.example.org" && cut.first?.established == true)
        }
    }

    /// Resumption is told by the server echoing the client's session id: equal only when the
    /// same bytes and the same length (a shorter id that is a prefix is another id).
    @Test func sessionIDsCompareByBytesAndLength() {
        let a: [UInt8] = Array(1...32), b: [UInt8] = Array(1...31)
        func id(_ x: [UInt8]) -> TLSHello.SessionID { x.withUnsafeBytes { TLSHello.SessionID($0) } }
        #expect(id(a) == id(a) && id(a) != id(b) && id(b) != id(b + [0]))
        #expect(id([]).isEmpty && !id(b).isEmpty && id([]) == TLSHello.SessionID())
    }

    @Test func repeatedHellosGetTheirOwnFingerprints() {
        let w = Wire()
        let hellos = [Payloads.clientHelloForTests(sni: "a.example"), Payloads.clientHelloForTests(sni: nil),
                      Payloads.clientHelloForTests(sni: "b.example")]
        for (k, hello) in hellos.enumerated() {
            var c = clientEP
            c.port = UInt16(40000 + k)
            var t = TCPTalk(c, serverEP)
            t.handshake(w)
            w.feed(t.frame(fromClient: true, flags: F.ack, payload: hello))
            w.feed(t.frame(fromClient: false, flags: F.ack, payload: Payloads.serverHelloForTests()))
        }
        let t = w.finish().tls
        #expect(t.count == 3)
        #expect(t.map { $0.ja4?.prefix(4) } == ["t13d", "t13i", "t13d"])
        #expect(t[0].ja4 == t[2].ja4 && t[0].ja4 != t[1].ja4, "same lists, same fingerprint; no SNI differs")
        #expect(t.allSatisfy { $0.ja4s == t[0].ja4s })
    }

    @Test func malformedHelloIsCountedNotTrapped() {
        var hello = Payloads.clientHelloForTests(sni: "x.example")
        hello[43] = 0xFF  // session id length now absurd
        let w = runTCP([(true, hello)], server: 443)
        #expect(w.tls.first?.serverName == nil)
    }
}

@Suite struct SSHAnalyzerTests {
    @Test func logsBannersAndNegotiatedAlgorithms() {
        let obs = runTCP([(false, bytes("SSH-2.0-OpenSSH_9.6\r\n")), (true, bytes("SSH-2.0-libssh_0.9\r\n")),
                          (true, Payloads.kexinitForTests(client: true)), (false, Payloads.kexinitForTests(client: false))],
                         server: 2222, segment: 7)
        let s = obs.ssh
        #expect(s.count == 1)
        #expect(s.first?.client == "SSH-2.0-libssh_0.9" && s.first?.server == "SSH-2.0-OpenSSH_9.6")
        #expect(s.first?.kexAlg == "curve25519-sha256" && s.first?.cipherAlg == "chacha20-poly1305@openssh.com")
        #expect(s.first?.hostKeyAlg == "ssh-ed25519" && s.first?.version == 2)
    }
}

@Suite struct DNSAnalyzerTests {
    let resolver = PacketBuilder.Endpoint(mac: 9, ip: IPAddress("10.0.0.1")!, port: 53)

    @Test func pairsQueryAndAnswer() {
        let w = Wire()
        w.feed(udpFrame(clientEP, resolver, Payloads.dnsQueryForTests(id: 7, name: "evil.example.com")))
        w.feed(udpFrame(resolver, clientEP, Payloads.dnsAnswerForTests(id: 7, name: "evil.example.com", a: [0xC0000201, 0xC0000202])),
               after: .milliseconds(12))
        let d = w.finish().dns
        #expect(d.count == 1)
        #expect(d.first?.query == "evil.example.com" && d.first?.qtype == 1 && d.first?.rcode == 0)
        #expect(d.first?.answers == ["192.0.2.1", "192.0.2.2"] && d.first?.ttls == [300, 300])
        #expect(d.first?.rtt?.nanoseconds == 12_000_000 && d.first?.recursionDesired == true)
    }

    @Test func unansweredQueryIsStillLogged() {
        let w = Wire()
        w.feed(udpFrame(clientEP, resolver, Payloads.dnsQueryForTests(id: 9, name: "a.example")))
        let d = w.finish().dns
        #expect(d.count == 1 && d.first?.rcode == nil && d.first?.query == "a.example")
    }

    @Test func compressionLoopIsRejected() {
        // A name that points at itself.
        var msg = Payloads.dnsQueryForTests(id: 1, name: "x")
        msg.replaceSubrange(12..<15, with: [0xC0, 0x0C])
        msg.withUnsafeBytes { #expect(DNSMessage.parse($0, materialize: true) == nil) }
    }

    @Test func dnsOverTCPDripFed() {
        let q = Payloads.dnsQueryForTests(id: 3, name: "tcp.example")
        let a = Payloads.dnsAnswerForTests(id: 3, name: "tcp.example", a: [0x0A000001])
        func framed(_ m: [UInt8]) -> [UInt8] { [UInt8(m.count >> 8), UInt8(m.count & 0xFF)] + m }
        for seg in [1, 5, 1460] {
            let d = runTCP([(true, framed(q)), (false, framed(a))], server: 53, segment: seg).dns
            #expect(d.count == 1 && d.first?.answers == ["10.0.0.1"] && d.first?.id.proto == .tcp, "segment \(seg)")
        }
    }

    @Test func randomUDPIsNotDNS() {
        let w = Wire()
        var rng = SplitMix64(seed: 3)
        let dst = PacketBuilder.Endpoint(mac: 9, ip: IPAddress("192.0.2.9")!, port: 9999)
        for _ in 0..<200 {
            w.feed(udpFrame(clientEP, dst, (0..<60).map { _ in UInt8(truncatingIfNeeded: rng.next()) }))
        }
        let obs = w.finish()
        #expect(obs.dns.isEmpty && obs.conns.allSatisfy { $0.service.isEmpty })
    }
}

@Suite struct DHCPAnalyzerTests {
    @Test func oneRecordPerTransactionWithHostName() {
        let w = Wire()
        let client = PacketBuilder.Endpoint(mac: 0x0200_0000_0042, ip: IPAddress(v4: 0), port: 68)
        let bcast = PacketBuilder.Endpoint(mac: 0xFFFF_FFFF_FFFF, ip: IPAddress("255.255.255.255")!, port: 67)
        let server = PacketBuilder.Endpoint(mac: 9, ip: IPAddress("10.0.0.1")!, port: 67)
        let to = PacketBuilder.Endpoint(mac: 0x0200_0000_0042, ip: IPAddress("10.0.0.42")!, port: 68)
        for (a, b, op, type) in [(client, bcast, UInt8(1), UInt8(1)), (server, to, 2, 2), (client, bcast, 1, 3), (server, to, 2, 5)] {
            w.feed(udpFrame(a, b, Payloads.dhcpForTests(op: op, type: type, xid: 0xABCD, mac: 0x0200_0000_0042,
                                                        yiaddr: 0x0A00_002A, server: 0x0A00_0001, host: op == 1 ? "printer-3" : nil)))
        }
        let d = w.finish().dhcp
        #expect(d.count == 1)
        #expect(d.first?.hostName == "printer-3" && d.first?.mac?.description == "02:00:00:00:00:42")
        #expect(d.first?.assignedAddr == IPAddress("10.0.0.42") && d.first?.msgTypes == ["DISCOVER", "OFFER", "REQUEST", "ACK"])
        #expect(d.first?.leaseTime == .seconds(86400))
    }
}
