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

    /// Fractional epoch seconds as logs write them ("1713567603.318246"), to the microsecond;
    /// nil when not finite or outside 1970 to the year 2255, so a hostile number in a file is
    /// refused instead of overflowing (nanoseconds in an Int64 end in April 2262).
    public static let latestEpochSeconds = 9_000_000_000.0

    public init?(epochSeconds: Double) {
        guard epochSeconds.isFinite, epochSeconds >= 0, epochSeconds < Timestamp.latestEpochSeconds else { return nil }
        self.nanoseconds = Int64((epochSeconds * 1_000_000).rounded()) * 1_000
    }

    public static let zero = Timestamp(nanoseconds: 0)

    /// Set `userInfo[Timestamp.asText] = true` on an encoder to write timestamps as ISO-8601
    /// text (reports for people and other tools); otherwise they are one integer of nanoseconds
    /// (the store, snapshots).
    public static let asText = CodingUserInfoKey(rawValue: "vigil.timestampAsText")!

    /// Reads the integer form, ISO-8601 text, or the older `{"nanoseconds": n}` form.
    public init(from decoder: any Decoder) throws {
        if let c = try? decoder.singleValueContainer() {
            if let v = try? c.decode(Int64.self) { nanoseconds = v; return }
            if let text = try? c.decode(String.self) {
                guard let t = Timestamp(iso8601: text) else {
                    throw DecodingError.dataCorruptedError(in: c, debugDescription: "'\(text)' is not an ISO-8601 time")
                }
                self = t
                return
            }
        }
        nanoseconds = try decoder.container(keyedBy: LegacyKeys.self).decode(Int64.self, forKey: .nanoseconds)
    }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        if encoder.userInfo[Timestamp.asText] as? Bool == true { try c.encode(iso8601) } else { try c.encode(nanoseconds) }
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

    /// Parses `2021-06-06T15:59:46.457984+0200`, `...Z`, `... +02:00`, `2019-12-05 10:00:00`
    /// (no offset means UTC), as alert sources and reports write times.
    public init?(iso8601 s: String) {
        let u = Array(s.utf8)
        func num(_ a: Int, _ n: Int) -> Int64? {
            guard a >= 0, a + n <= u.count else { return nil }
            var v: Int64 = 0
            for c in u[a..<(a + n)] { guard c >= 48 && c <= 57 else { return nil }; v = v * 10 + Int64(c - 48) }
            return v
        }
        guard u.count >= 19, let y = num(0, 4), let mo = num(5, 2), let d = num(8, 2), let h = num(11, 2),
              let mi = num(14, 2), let se = num(17, 2), (1...12).contains(mo), (1...31).contains(d), h < 24, mi < 60, se < 61 else { return nil }
        var i = 19
        var nanos: Int64 = 0
        if i < u.count, u[i] == UInt8(ascii: ".") {
            i += 1
            var scale: Int64 = 100_000_000
            while i < u.count, u[i] >= 48, u[i] <= 57 {
                nanos += Int64(u[i] - 48) * scale
                scale /= 10
                i += 1
            }
        }
        while i < u.count, u[i] == UInt8(ascii: " ") { i += 1 }
        var offset: Int64 = 0
        if i < u.count, u[i] == UInt8(ascii: "+") || u[i] == UInt8(ascii: "-") {
            let sign: Int64 = u[i] == UInt8(ascii: "+") ? 1 : -1
            guard let oh = num(i + 1, 2) else { return nil }
            let minutesAt = i + 3 < u.count && u[i + 3] == UInt8(ascii: ":") ? i + 4 : i + 3
            offset = sign * (oh * 3600 + (num(minutesAt, 2) ?? 0) * 60)
        }
        self.init(seconds: Timestamp.days(fromCivil: y, mo, d) * 86_400 + h * 3600 + mi * 60 + se - offset, nanoseconds: nanos)
    }

    /// Howard Hinnant's days-from-civil.
    static func days(fromCivil y: Int64, _ m: Int64, _ d: Int64) -> Int64 {
        let yy = m <= 2 ? y - 1 : y
        let era = (yy >= 0 ? yy : yy - 399) / 400
        let yoe = yy - era * 400
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

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
