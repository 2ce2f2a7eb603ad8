import Foundation
import VigilCore
import VigilStore

/// What the live pipeline reports about itself, updated by its thread and read by the API's.
public final class ServiceStatus: @unchecked Sendable {
    public struct Source: Sendable, Codable, Hashable {
        public var name: String
        public var kind: String
        public var packets: UInt64 = 0
        /// Dropped by the kernel or libpcap (ps_drop) and by the interface (ps_ifdrop).
        public var dropped: UInt64 = 0
        public var interfaceDropped: UInt64 = 0
        public var records: UInt64 = 0
        public var error: String?
        /// A replayed capture read to its end (live sources end only when stopped).
        public var ended = false
        public init(name: String, kind: String) { self.name = name; self.kind = kind }
    }

    public struct Snapshot: Sendable, Codable {
        public var version: String
        public var startedAt: Timestamp
        public var sources: [Source]
        public var observations: UInt64
        public var breaches: UInt64
        public var incidents: Int
        public var openIncidents: Int
        public var devices: Int
        public var activeFlows: Int
        /// Observation time the learner has reached, and how far behind the wall clock it is.
        public var observedUpTo: Timestamp?
        public var learnerLagSeconds: Double?
        public var learning: Bool
        public var checkpoints: UInt64
        public var lastCheckpoint: Timestamp?
        public var replayedAtStart: UInt64
        public var pruned: UInt64
        /// The learner's local time offset (hour-of-week charts use it).
        public var utcOffsetHours: Int
        /// Every source has ended and everything read is learned, checkpointed and investigated.
        public var caughtUp: Bool
        /// Grows whenever what the API reads changes (a checkpoint, an analysis, a decision).
        public var generation: UInt64
    }

    private let lock = NSLock()
    private var s: Snapshot

    public init(version: String, startedAt: Timestamp) {
        s = Snapshot(version: version, startedAt: startedAt, sources: [], observations: 0, breaches: 0, incidents: 0, openIncidents: 0,
                     devices: 0, activeFlows: 0, observedUpTo: nil, learnerLagSeconds: nil, learning: true, checkpoints: 0,
                     lastCheckpoint: nil, replayedAtStart: 0, pruned: 0, utcOffsetHours: 0, caughtUp: false, generation: 0)
    }

    public var snapshot: Snapshot { lock.lock(); defer { lock.unlock() }; return s }

    public func update(_ body: (inout Snapshot) -> Void) {
        lock.lock(); body(&s); lock.unlock()
    }
}

/// A few store connections for the API's threads: one request holds one connection at a time
/// (SQLite's WAL lets them read while the pipeline writes).
public final class StorePool: @unchecked Sendable {
    private let condition = NSCondition()
    private var free: [SQLiteStore]

    public init(path: String, size: Int) throws {
        free = try (0..<max(1, size)).map { _ in try SQLiteStore(path: path) }
    }

    public func with<R>(_ body: (SQLiteStore) throws -> R) throws -> R {
        condition.lock()
        while free.isEmpty { condition.wait() }
        let s = free.removeLast()
        condition.unlock()
        defer { condition.lock(); free.append(s); condition.signal(); condition.unlock() }
        return try body(s)
    }
}
