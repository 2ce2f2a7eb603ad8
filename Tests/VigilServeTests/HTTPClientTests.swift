import Foundation
import Testing
import VigilHTTP

/// The HTTP client (libcurl) against a Python web server on loopback.
@Suite struct HTTPClientTests {
    func peer() throws -> (Process, Int) { try startDriver("http_peer.py") }

    @Test func headersArriveWithoutTheirLineEnds() throws {
        let (server, port) = try peer()
        defer { kill(server.processIdentifier, SIGKILL); server.waitUntilExit() }
        let a = try HTTPClient.send(OutgoingRequest("GET", "http://127.0.0.1:\(port)/header")).get()
        #expect(a.status == 204)
        #expect(a.head["mcp-session-id"] == "abc123")
        #expect(a.head["Mcp-Session-Id"] == "abc123")
    }

    @Test func anAnswerOverTheLimitIsRefusedNotKept() throws {
        let (server, port) = try peer()
        defer { kill(server.processIdentifier, SIGKILL); server.waitUntilExit() }
        let whole = try HTTPClient.send(OutgoingRequest("GET", "http://127.0.0.1:\(port)/big")).get()
        #expect(whole.body.count == 100_000)
        guard case .failure(let f) = HTTPClient.send(OutgoingRequest("GET", "http://127.0.0.1:\(port)/big"), maxBody: 10_000) else {
            Issue.record("a 100,000-byte answer was kept under a 10,000-byte limit"); return
        }
        #expect(f.description == "the answer is over 10000 bytes")
    }

    /// A stream that stays open (no timeout) is known to be accepted before any byte of its body,
    /// and ends when its cancel token is set.
    @Test func aCancelledStreamEnds() throws {
        let (server, port) = try peer()
        defer { kill(server.processIdentifier, SIGKILL); server.waitUntilExit() }
        let cancel = HTTPCancel()
        let ended = DispatchSemaphore(value: 0)
        let outcome = Outcome()
        Thread {
            let r = HTTPClient.stream(OutgoingRequest("GET", "http://127.0.0.1:\(port)/hold", timeout: 0), cancel: cancel,
                                      onHead: { outcome.set(status: $0.status) }, onData: { _ in true })
            if case .failure(let f) = r { outcome.set(failure: f.description) }
            ended.signal()
        }.start()
        #expect(ended.wait(timeout: .now() + 2) == .timedOut, "the stream ended before it was cancelled")
        cancel.cancel()
        #expect(ended.wait(timeout: .now() + 20) == .success, "the cancelled stream went on")
        #expect(outcome.failure == "stopped")
        #expect(outcome.status == 200, "the head of a stream that sent no byte was not handed over")
    }

    final class Outcome: @unchecked Sendable {
        private let lock = NSLock()
        private var _failure: String?
        private var _status: Int?
        func set(failure: String) { lock.lock(); _failure = failure; lock.unlock() }
        func set(status: Int) { lock.lock(); _status = status; lock.unlock() }
        var failure: String? { lock.lock(); defer { lock.unlock() }; return _failure }
        var status: Int? { lock.lock(); defer { lock.unlock() }; return _status }
    }
}
