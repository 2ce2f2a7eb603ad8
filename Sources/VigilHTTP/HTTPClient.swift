import CCurl
import Foundation

/// An outgoing HTTP(S) request (libcurl underneath, GnuTLS for TLS).
public struct OutgoingRequest: Sendable {
    public var method: String
    public var url: String
    /// Sent in this order; the caller's own names and values.
    public var headers: [(String, String)]
    public var body: [UInt8]
    /// Seconds for the whole exchange, 0 for none (a stream that stays open).
    public var timeout: Double

    public init(_ method: String, _ url: String, headers: [(String, String)] = [], body: [UInt8] = [], timeout: Double = 30) {
        self.method = method; self.url = url; self.headers = headers; self.body = body; self.timeout = timeout
    }

    public mutating func set(_ name: String, _ value: String) {
        headers.removeAll { $0.0.caseInsensitiveCompare(name) == .orderedSame }
        headers.append((name, value))
    }
}

/// The status line and headers of an answer (names lower-cased; a repeated header keeps its last value).
public struct HTTPHead: Sendable {
    public var status: Int
    public var headers: [String: String]
    public subscript(_ name: String) -> String? { headers[name.lowercased()] }
}

/// Why there is no (complete) answer: no connection, a timeout, a body over the limit, a stop.
public struct HTTPFailure: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ d: String) { description = d }
}

/// Lets another thread end a transfer that is waiting (libcurl checks it about once a second
/// while the connection is idle, at once when data moves).
public final class HTTPCancel: @unchecked Sendable {
    private let lock = NSLock()
    private var flag = false
    public init() {}
    public func cancel() { lock.lock(); flag = true; lock.unlock() }
    public var isCancelled: Bool { lock.lock(); defer { lock.unlock() }; return flag }
}

/// HTTP requests made on the calling thread with libcurl's easy interface, which sleeps in
/// `poll` while it waits. (Foundation's URLSession on Linux kept a core busy for as long as any
/// request waited: a slow model's answer, a tool call in progress, an open event stream.)
public enum HTTPClient {
    public struct Answer: Sendable {
        public var head: HTTPHead
        public var body: [UInt8]
        public var status: Int { head.status }
    }

    /// The whole answer, or why there is none; a body over `maxBody` bytes is a failure.
    public static func send(_ r: OutgoingRequest, maxBody: Int = 64 << 20) -> Result<Answer, HTTPFailure> {
        var body: [UInt8] = []
        var over = false
        let result = stream(r, onHead: { _ in }, onData: { chunk in
            if body.count + chunk.count > maxBody { over = true; return false }
            body.append(contentsOf: chunk)
            return true
        })
        if over { return .failure(HTTPFailure("the answer is over \(maxBody) bytes")) }
        return result.map { Answer(head: $0, body: body) }
    }

    /// Sends `r` and hands the answer over as it arrives: `onHead` once the headers are in, then
    /// `onData` with each piece of the body, valid only during the call (return false to stop
    /// reading). Returns the head when
    /// the answer ended normally (or `onData` stopped it), else why it failed.
    public static func stream(_ r: OutgoingRequest, cancel: HTTPCancel? = nil,
                              onHead: (HTTPHead) -> Void, onData: (UnsafeRawBufferPointer) -> Bool) -> Result<HTTPHead, HTTPFailure> {
        guard r.url.hasPrefix("http://") || r.url.hasPrefix("https://") else { return .failure(HTTPFailure("not an http(s) URL: \(r.url)")) }
        Self.setUp
        guard let h = curl_easy_init() else { return .failure(HTTPFailure("libcurl could not start a transfer")) }
        defer { curl_easy_cleanup(h) }
        return withoutActuallyEscaping(onHead) { onHead in
            withoutActuallyEscaping(onData) { onData in
                let t = Transfer(handle: h, cancel: cancel, onHead: onHead, onData: onData)
                return t.run(r)
            }
        }
    }

    private static let setUp: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)); return () }()
}

/// One transfer's state, reached from libcurl's callbacks through an unretained pointer.
private final class Transfer {
    let handle: UnsafeMutableRawPointer
    let cancel: HTTPCancel?
    let onHead: (HTTPHead) -> Void
    let onData: (UnsafeRawBufferPointer) -> Bool
    var headers: [String: String] = [:]
    var headSent = false
    var stoppedByReader = false

    init(handle: UnsafeMutableRawPointer, cancel: HTTPCancel?, onHead: @escaping (HTTPHead) -> Void, onData: @escaping (UnsafeRawBufferPointer) -> Bool) {
        self.handle = handle; self.cancel = cancel; self.onHead = onHead; self.onData = onData
    }

    func head() -> HTTPHead { HTTPHead(status: vigil_curl_status(handle), headers: headers) }

    func run(_ r: OutgoingRequest) -> Result<HTTPHead, HTTPFailure> {
        var list: UnsafeMutablePointer<curl_slist>? = nil
        // libcurl adds "Expect: 100-continue" to large bodies; nobody here wants the wait.
        for (k, v) in r.headers + [("Expect", "")] {
            let line = v.isEmpty ? "\(k):" : "\(k): \(v)"
            guard let next = curl_slist_append(list, line) else { curl_slist_free_all(list); return .failure(HTTPFailure("out of memory")) }
            list = next
        }
        defer { curl_slist_free_all(list) }
        // The transfer outlives `curl_easy_perform`, which is the only time libcurl calls back.
        let me = Unmanaged.passUnretained(self).toOpaque()
        var ok = vigil_curl_set_text(handle, CURLOPT_URL, r.url) == CURLE_OK
        ok = ok && vigil_curl_set_text(handle, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK
        ok = ok && vigil_curl_set_long(handle, CURLOPT_NOSIGNAL, 1) == CURLE_OK
        ok = ok && vigil_curl_set_long(handle, CURLOPT_TIMEOUT_MS, r.timeout > 0 ? Int(r.timeout * 1000) : 0) == CURLE_OK
        ok = ok && vigil_curl_set_long(handle, CURLOPT_CONNECTTIMEOUT_MS, Int(min(r.timeout > 0 ? r.timeout : 30, 30) * 1000)) == CURLE_OK
        ok = ok && vigil_curl_set_list(handle, CURLOPT_HTTPHEADER, list) == CURLE_OK
        if r.method == "POST" || r.method == "PUT" || r.method == "PATCH" || !r.body.isEmpty {
            ok = ok && (r.body.isEmpty ? vigil_curl_set_body(handle, "", 0)
                                       : r.body.withUnsafeBytes { vigil_curl_set_body(handle, $0.baseAddress, $0.count) }) == CURLE_OK
        }
        if r.method != "GET" && r.method != "POST" { ok = ok && vigil_curl_set_text(handle, CURLOPT_CUSTOMREQUEST, r.method) == CURLE_OK }
        ok = ok && vigil_curl_set_data_fn(handle, CURLOPT_HEADERFUNCTION, transferHeader) == CURLE_OK
        ok = ok && vigil_curl_set_pointer(handle, CURLOPT_HEADERDATA, me) == CURLE_OK
        ok = ok && vigil_curl_set_data_fn(handle, CURLOPT_WRITEFUNCTION, transferData) == CURLE_OK
        ok = ok && vigil_curl_set_pointer(handle, CURLOPT_WRITEDATA, me) == CURLE_OK
        if cancel != nil {
            ok = ok && vigil_curl_set_long(handle, CURLOPT_NOPROGRESS, 0) == CURLE_OK
            ok = ok && vigil_curl_set_progress_fn(handle, transferProgress) == CURLE_OK
            ok = ok && vigil_curl_set_pointer(handle, CURLOPT_XFERINFODATA, me) == CURLE_OK
        }
        guard ok else { return .failure(HTTPFailure("libcurl refused the request's options")) }
        let code = curl_easy_perform(handle)
        if code == CURLE_OK || (code == CURLE_WRITE_ERROR && stoppedByReader) {
            sendHead()
            return .success(head())
        }
        if code == CURLE_ABORTED_BY_CALLBACK { return .failure(HTTPFailure("stopped")) }
        if code == CURLE_OPERATION_TIMEDOUT { return .failure(HTTPFailure("no answer within \(String(format: "%g", r.timeout)) s")) }
        return .failure(HTTPFailure(String(cString: curl_easy_strerror(code))))
    }

    /// One header line; a status line starts a new head (after a 100 Continue, say).
    func header(_ b: UnsafeRawBufferPointer) {
        // Trimmed as text: "\r\n" is one Character, so it is never equal to "\r" or "\n".
        let line = String(decoding: b, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if line.hasPrefix("HTTP/") { headers = [:]; return }
        // The blank line ends a head: a final one (not 1xx) is handed over at once, so a stream
        // that never sends a byte is still known to have been accepted.
        if line.isEmpty { if vigil_curl_status(handle) >= 200 { sendHead() }; return }
        guard let colon = line.firstIndex(of: ":") else { return }
        headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }

    func sendHead() {
        if !headSent { headSent = true; onHead(head()) }
    }

    func data(_ b: UnsafeRawBufferPointer) -> Bool {
        sendHead()
        if onData(b) { return true }
        stoppedByReader = true
        return false
    }
}

// libcurl's callbacks; the context is the `Transfer` running `curl_easy_perform`.

private func transferHeader(_ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ context: UnsafeMutableRawPointer?) -> Int {
    guard let context else { return 0 }
    Unmanaged<Transfer>.fromOpaque(context).takeUnretainedValue().header(UnsafeRawBufferPointer(start: data, count: size * count))
    return size * count
}

private func transferData(_ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ context: UnsafeMutableRawPointer?) -> Int {
    guard let context else { return 0 }
    return Unmanaged<Transfer>.fromOpaque(context).takeUnretainedValue().data(UnsafeRawBufferPointer(start: data, count: size * count)) ? size * count : 0
}

private func transferProgress(_ context: UnsafeMutableRawPointer?, _: curl_off_t, _: curl_off_t, _: curl_off_t, _: curl_off_t) -> Int32 {
    guard let context else { return 1 }
    return Unmanaged<Transfer>.fromOpaque(context).takeUnretainedValue().cancel?.isCancelled == true ? 1 : 0
}
