import Dispatch
import Foundation

/// SIGTERM and SIGINT turned into something a server can wait for: while one of these exists
/// the signals no longer kill the process; `wait()` returns once either arrives.
public final class TerminationSignals: @unchecked Sendable {
    private let arrived = DispatchSemaphore(value: 0)
    private var sources: [DispatchSourceSignal] = []

    public init() {
        signal(SIGTERM, SIG_IGN); signal(SIGINT, SIG_IGN)
        sources = [SIGTERM, SIGINT].map { sig in
            let s = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            s.setEventHandler { [arrived] in arrived.signal() }
            s.resume()
            return s
        }
    }

    /// Blocks until SIGTERM or SIGINT.
    public func wait() { arrived.wait() }

    deinit { sources.forEach { $0.cancel() } }
}
