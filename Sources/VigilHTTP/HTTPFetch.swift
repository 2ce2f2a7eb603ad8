import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// One HTTP request answered in full, waited for on the calling thread (for callers that are
/// already on a thread of their own: a key set fetched at start, a rewording asked of a model).
public enum HTTPFetch {
    public struct Answer: Sendable { public var status: Int; public var body: Data }

    /// The status and body, or why there is none (no connection, no answer within `timeout`).
    public static func send(_ request: URLRequest, timeout: Double) -> Result<Answer, FetchFailure> {
        var r = request
        r.timeoutInterval = timeout
        let done = DispatchSemaphore(value: 0)
        let box = Box()
        URLSession(configuration: .ephemeral).dataTask(with: r) { data, response, error in
            box.set(error.map { .failure(FetchFailure(description: "no answer: \($0.localizedDescription)")) }
                    ?? .success(Answer(status: (response as? HTTPURLResponse)?.statusCode ?? 0, body: data ?? Data())))
            done.signal()
        }.resume()
        guard done.wait(timeout: .now() + timeout + 5) == .success, let answer = box.get() else {
            return .failure(FetchFailure(description: "no answer within \(Int(timeout)) s"))
        }
        return answer
    }

    public struct FetchFailure: Error, Sendable, CustomStringConvertible { public var description: String }

    private final class Box: @unchecked Sendable {
        private let lock = NSLock()
        private var value: Result<Answer, FetchFailure>?
        func set(_ v: Result<Answer, FetchFailure>) { lock.lock(); value = v; lock.unlock() }
        func get() -> Result<Answer, FetchFailure>? { lock.lock(); defer { lock.unlock() }; return value }
    }
}
