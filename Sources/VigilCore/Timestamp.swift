/// A point in observation time: nanoseconds since the Unix epoch, UTC.
///
/// Time inside the pipeline is always the observations' own time (packet timestamps),
/// never the wall clock, so an analysis gives the same result on every run.
public struct Timestamp: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public var nanoseconds: Int64

    @inlinable public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }

    @inlinable public init(seconds: Int64, nanoseconds: Int64 = 0) {
        self.nanoseconds = seconds &* 1_000_000_000 &+ nanoseconds
    }

    /// Builds a timestamp from fractional seconds as Zeek logs write them ("1713567603.318246").
    public init(secondsValue: Double) {
        self.nanoseconds = Int64((secondsValue * 1_000_000).rounded()) &* 1_000
    }

    public static let zero = Timestamp(nanoseconds: 0)

    /// Encoded as one integer of nanoseconds; the older `{"nanoseconds": n}` form still reads.
    public init(from decoder: any Decoder) throws {
        if let v = try? decoder.singleValueContainer().decode(Int64.self) { nanoseconds = v; return }
        nanoseconds = try decoder.container(keyedBy: LegacyKeys.self).decode(Int64.self, forKey: .nanoseconds)
    }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(nanoseconds)
    }
    enum LegacyKeys: String, CodingKey { case nanoseconds }

    @inlinable public var seconds: Double { Double(nanoseconds) / 1e9 }

    @inlinable public static func < (a: Timestamp, b: Timestamp) -> Bool { a.nanoseconds < b.nanoseconds }

    @inlinable public static func + (a: Timestamp, d: Duration) -> Timestamp {
        Timestamp(nanoseconds: a.nanoseconds &+ d.nanoseconds)
    }

    @inlinable public static func - (a: Timestamp, d: Duration) -> Timestamp {
        Timestamp(nanoseconds: a.nanoseconds &- d.nanoseconds)
    }

    @inlinable public static func - (a: Timestamp, b: Timestamp) -> Duration {
        Duration(nanoseconds: a.nanoseconds &- b.nanoseconds)
    }

    /// ISO-8601 in UTC with microseconds, for reports: `2024-04-19T23:00:03.318246Z`.
    public var iso8601: String {
        var secs = nanoseconds / 1_000_000_000
        var nanos = nanoseconds % 1_000_000_000
        if nanos < 0 { nanos += 1_000_000_000; secs -= 1 }
        let days = secs >= 0 ? secs / 86_400 : (secs - 86_399) / 86_400
        let rem = secs - days * 86_400
        let (y, m, d) = Timestamp.civil(fromDays: days)
        func pad(_ v: Int64, _ w: Int) -> String {
            let s = String(v)
            return s.count >= w ? s : String(repeating: "0", count: w - s.count) + s
        }
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))T\(pad(rem / 3600, 2)):\(pad(rem / 60 % 60, 2)):\(pad(rem % 60, 2)).\(pad(nanos / 1000, 6))Z"
    }

    public var description: String { iso8601 }

    /// Howard Hinnant's days-from-civil inverse.
    static func civil(fromDays z0: Int64) -> (Int64, Int64, Int64) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }
}

/// A span of observation time in nanoseconds.
public struct Duration: Hashable, Comparable, Sendable, Codable {
    public var nanoseconds: Int64
    @inlinable public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }
    public init(from decoder: any Decoder) throws {
        if let v = try? decoder.singleValueContainer().decode(Int64.self) { nanoseconds = v; return }
        nanoseconds = try decoder.container(keyedBy: Timestamp.LegacyKeys.self).decode(Int64.self, forKey: .nanoseconds)
    }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(nanoseconds)
    }
    @inlinable public static func seconds(_ s: Int64) -> Duration { Duration(nanoseconds: s &* 1_000_000_000) }
    @inlinable public static func milliseconds(_ ms: Int64) -> Duration { Duration(nanoseconds: ms &* 1_000_000) }
    @inlinable public var seconds: Double { Double(nanoseconds) / 1e9 }
    @inlinable public static func < (a: Duration, b: Duration) -> Bool { a.nanoseconds < b.nanoseconds }
}
