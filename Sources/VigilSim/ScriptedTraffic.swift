import VigilCore

/// A few hand-written sessions carrying chosen names: a DHCP exchange (the host name), an
/// HTTP request (Host, User-Agent) and a TLS ClientHello (server name). Tests use it to put
/// hostile strings exactly where attackers put them.
public final class ScriptedTraffic: FrameSink {
    var builder = PacketBuilder()
    private var frames: [(Timestamp, [UInt8])] = []
    private var isn: UInt32 = 1000

    public init() {}

    func push(_ ts: Timestamp) { frames.append((ts, builder.bytes)) }

    public func dhcp(mac: UInt64, address: IPAddress, name: String, server: IPAddress, at t: Timestamp) {
        dhcpExchange(mac: mac, address: address, name: name, server: server, serverMAC: 0x0200_0000_0001, xid: UInt32(truncatingIfNeeded: mac), at: t)
    }

    public func http(client: IPAddress, clientMAC: UInt64, server: IPAddress, host: String, path: String, agent: String, at t: Timestamp) {
        var c = conversation(client, clientMAC, server, 80, t)
        c.handshake(self)
        c.send(Payloads.httpRequest(host: host, path: path, agent: agent), fromClient: true, self)
        c.send(Payloads.httpResponse(status: 200, body: 512, chunked: false), fromClient: false, self)
        c.close(self)
    }

    public func tls(client: IPAddress, clientMAC: UInt64, server: IPAddress, serverName: String, at t: Timestamp) {
        var c = conversation(client, clientMAC, server, 443, t)
        c.handshake(self)
        c.send(Payloads.clientHello(sni: serverName, alpn: ["h2"], grease: false, random: UInt64(isn)), fromClient: true, self)
        c.send(Payloads.serverHello(alpn: "h2"), fromClient: false, self)
        c.close(self)
    }

    private func conversation(_ client: IPAddress, _ mac: UInt64, _ server: IPAddress, _ port: UInt16, _ t: Timestamp) -> TCPConversation {
        isn &+= 7919
        return TCPConversation(client: .init(mac: mac, ip: client, port: UInt16(40000 + isn % 20000)), server: .init(mac: 0x0200_0000_00FE, ip: server, port: port),
                               start: t, rtt: .milliseconds(20), vlan: nil, isn: (isn, isn &* 3))
    }

    /// Every frame in time order.
    public func run(_ emit: (Timestamp, UnsafeRawBufferPointer) -> Void) {
        for (t, f) in frames.sorted(by: { $0.0 < $1.0 }) { f.withUnsafeBytes { emit(t, $0) } }
    }
}
