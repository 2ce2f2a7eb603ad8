import CMicroHTTPD
import Foundation
import VigilCore

/// One HTTP request as a handler sees it: everything read before the handler runs.
public struct HTTPRequest: Sendable {
    public var method: String
    /// The path without its query string, percent-decoded by libmicrohttpd.
    public var path: String
    /// Query arguments (the last value of a repeated name).
    public var query: [String: String]
    /// Query names given more than once (a handler may refuse the ambiguity).
    public var repeatedQuery: Set<String> = []
    /// Header names lower-cased.
    public var headers: [String: String]
    /// Header names (lower-cased) given more than once.
    public var repeatedHeaders: Set<String> = []
    public var body: [UInt8]
    /// The body was larger than the server's limit and was dropped.
    public var bodyTooLarge: Bool

    public init(method: String, path: String, query: [String: String] = [:], headers: [String: String] = [:],
                body: [UInt8] = [], bodyTooLarge: Bool = false) {
        self.method = method; self.path = path; self.query = query
        self.headers = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { $1 })
        self.body = body; self.bodyTooLarge = bodyTooLarge
    }

    public func header(_ name: String) -> String? { headers[name.lowercased()] }
}

/// An answer: a status, headers, and either a body or a stream that produces one over time.
public struct HTTPResponse {
    public var status: UInt32
    public var headers: [(String, String)]
    public var body: [UInt8]
    public var stream: HTTPStream?

    public init(status: UInt32, headers: [(String, String)] = [], body: [UInt8] = [], stream: HTTPStream? = nil) {
        self.status = status; self.headers = headers; self.body = body; self.stream = stream
    }

    public init(status: UInt32, contentType: String, text: String, headers: [(String, String)] = []) {
        self.init(status: status, headers: [("Content-Type", contentType)] + headers, body: Array(text.utf8))
    }
}

/// A body written as it happens (server-sent events): the server's connection thread calls
/// `read` until it returns nil; `read` may wait for the next chunk.
public protocol HTTPStream: AnyObject, Sendable {
    /// The next bytes (at most `max`), an empty array to send nothing yet, nil at the end.
    func read(max: Int) -> [UInt8]?
    /// The client went away or the server stopped.
    func close()
}

/// An HTTP or HTTPS server on libmicrohttpd: a thread per connection, so a handler may block
/// (on an upstream, or on the next event of a stream). Bound to one IPv4 address.
public final class HTTPServer: @unchecked Sendable {
    public struct Options: Sendable {
        public var address = "127.0.0.1"
        public var port: UInt16 = 0
        public var maxConnections: UInt32 = 512
        public var maxBodyBytes = 1 << 20
        /// PEM text of the private key and certificate chain; both set means HTTPS.
        public var tlsKey: String?
        public var tlsCertificate: String?
        public init() {}
    }

    public typealias Handler = @Sendable (HTTPRequest) -> HTTPResponse

    public let options: Options
    let handler: Handler
    private var daemon: OpaquePointer?
    public private(set) var port: UInt16 = 0
    /// Connections being served (for metrics).
    private let lock = NSLock()
    private var streams: [ObjectIdentifier: HTTPStream] = [:]
    private var stopped = false

    public var scheme: String { options.tlsKey != nil && options.tlsCertificate != nil ? "https" : "http" }
    public var url: String { "\(scheme)://\(options.address):\(port)" }

    public init(options: Options, handler: @escaping Handler) {
        self.options = options
        self.handler = handler
    }

    /// Binds and starts serving on libmicrohttpd's own threads; returns once listening.
    public func start() throws {
        signal(SIGPIPE, SIG_IGN)
        let tls = options.tlsKey != nil && options.tlsCertificate != nil
        if tls && vigil_mhd_has_tls() == 0 {
            throw VigilError.unsupported("this libmicrohttpd was built without TLS; serve HTTP behind a TLS proxy instead", file: "libmicrohttpd")
        }
        // The server stays alive while the daemon runs: stop() ends the daemon before deinit.
        let me = Unmanaged.passUnretained(self).toOpaque()
        let d: OpaquePointer? = (options.tlsKey ?? "").withCString { key in
            (options.tlsCertificate ?? "").withCString { cert in
                vigil_mhd_start(options.port, options.address, httpAccess, httpCompleted, me, options.maxConnections,
                                tls ? key : nil, tls ? cert : nil)
            }
        }
        guard let d else {
            throw VigilError.io("cannot listen on \(options.address):\(options.port) (in use, not an IPv4 address\(tls ? ", or the TLS key and certificate do not load" : ""))", file: "\(options.address):\(options.port)")
        }
        daemon = d
        port = vigil_mhd_port(d)
    }

    /// Ends every open stream and stops the daemon (waits for connection threads).
    public func stop() {
        lock.lock()
        stopped = true
        let open = Array(streams.values)
        streams = [:]
        lock.unlock()
        open.forEach { $0.close() }
        if let d = daemon { MHD_stop_daemon(d); daemon = nil }
    }

    deinit { if let d = daemon { MHD_stop_daemon(d) } }

    func track(_ s: HTTPStream) -> Bool {
        lock.lock(); defer { lock.unlock() }
        guard !stopped else { return false }
        streams[ObjectIdentifier(s)] = s
        return true
    }

    func untrack(_ s: HTTPStream) {
        lock.lock(); streams[ObjectIdentifier(s)] = nil; lock.unlock()
    }
}

// MARK: - libmicrohttpd callbacks (top-level functions; the context is the HTTPServer, alive while serving)

/// A request being received.
private final class Upload {
    var bytes: [UInt8] = []
    var tooBig = false
}

/// A stream handed to libmicrohttpd, with the server that tracks it.
private final class StreamBox {
    let stream: HTTPStream
    let server: HTTPServer
    init(_ s: HTTPStream, _ server: HTTPServer) { stream = s; self.server = server }
}

private final class Pairs {
    var values: [String: String] = [:]
    /// Names seen, as compared: header names case-insensitively, query names exactly.
    var seen: Set<String> = []
    var repeated: Set<String> = []
}

private func collectPair(cls: UnsafeMutableRawPointer?, kind: MHD_ValueKind, key: UnsafePointer<CChar>?, value: UnsafePointer<CChar>?) -> MHD_Result {
    guard let cls, let key else { return .YES }
    let box = Unmanaged<Pairs>.fromOpaque(cls).takeUnretainedValue()
    let k = String(cString: key)
    let compared = kind == .HEADER_KIND ? k.lowercased() : k
    if !box.seen.insert(compared).inserted { box.repeated.insert(compared) }
    box.values[k] = value.map { String(cString: $0) } ?? ""
    return .YES
}

private func values(_ c: OpaquePointer, _ kind: MHD_ValueKind) -> Pairs {
    let box = Pairs()
    let p = Unmanaged.passUnretained(box).toOpaque()
    _ = vigil_mhd_values(c, kind, collectPair, p)
    return withExtendedLifetime(box) { box }
}

private func httpAccess(cls: UnsafeMutableRawPointer?, connection: OpaquePointer?, url: UnsafePointer<CChar>?,
                        method: UnsafePointer<CChar>?, version: UnsafePointer<CChar>?, upload: UnsafePointer<CChar>?,
                        uploadSize: UnsafeMutablePointer<Int>?, conCls: UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> MHD_Result {
    guard let cls, let connection, let conCls else { return .NO }
    let server = Unmanaged<HTTPServer>.fromOpaque(cls).takeUnretainedValue()
    if conCls.pointee == nil {
        conCls.pointee = Unmanaged.passRetained(Upload()).toOpaque()   // released in httpCompleted
        return .YES
    }
    let box = Unmanaged<Upload>.fromOpaque(conCls.pointee!).takeUnretainedValue()
    if let uploadSize, uploadSize.pointee > 0 {
        if let upload, !box.tooBig {
            if box.bytes.count + uploadSize.pointee > server.options.maxBodyBytes { box.tooBig = true; box.bytes = [] }
            else { upload.withMemoryRebound(to: UInt8.self, capacity: uploadSize.pointee) { box.bytes.append(contentsOf: UnsafeBufferPointer(start: $0, count: uploadSize.pointee)) } }
        }
        uploadSize.pointee = 0
        return .YES
    }
    let query = values(connection, .GET_ARGUMENT_KIND), headers = values(connection, .HEADER_KIND)
    var request = HTTPRequest(method: method.map { String(cString: $0) } ?? "", path: url.map { String(cString: $0) } ?? "",
                              query: query.values, headers: headers.values,
                              body: box.bytes, bodyTooLarge: box.tooBig)
    request.repeatedQuery = query.repeated
    request.repeatedHeaders = headers.repeated
    let reply = server.handler(request)
    let response: OpaquePointer?
    if let stream = reply.stream, server.track(stream) {
        let s = Unmanaged.passRetained(StreamBox(stream, server)).toOpaque()   // released in streamFree
        response = vigil_mhd_stream_response(streamRead, s, streamFree)
    } else {
        response = reply.body.withUnsafeBytes { vigil_mhd_copy_response($0.count, $0.baseAddress) }
    }
    guard let response else { return .NO }
    for (k, v) in reply.headers { _ = MHD_add_response_header(response, k, v) }
    let result = MHD_queue_response(connection, reply.status, response)
    MHD_destroy_response(response)
    return result
}

private func streamRead(cls: UnsafeMutableRawPointer?, pos: UInt64, buf: UnsafeMutablePointer<CChar>?, max: Int) -> Int {
    guard let cls, let buf else { return vigil_mhd_end_of_stream() }
    let box = Unmanaged<StreamBox>.fromOpaque(cls).takeUnretainedValue()
    while true {
        guard let bytes = box.stream.read(max: max) else { return vigil_mhd_end_of_stream() }
        if bytes.isEmpty { continue }   // read() waits; an empty answer means "nothing yet"
        let n = min(bytes.count, max)
        bytes.withUnsafeBytes { UnsafeMutableRawPointer(buf).copyMemory(from: $0.baseAddress!, byteCount: n) }
        return n
    }
}

private func streamFree(cls: UnsafeMutableRawPointer?) {
    guard let cls else { return }
    let box = Unmanaged<StreamBox>.fromOpaque(cls).takeRetainedValue()
    box.stream.close()
    box.server.untrack(box.stream)
}

private func httpCompleted(cls: UnsafeMutableRawPointer?, connection: OpaquePointer?, conCls: UnsafeMutablePointer<UnsafeMutableRawPointer?>?,
                           why: MHD_RequestTerminationCode) {
    guard let conCls, let p = conCls.pointee else { return }
    Unmanaged<Upload>.fromOpaque(p).release()
    conCls.pointee = nil
}
