import Foundation

/// A value stored in snapshots as a fixed number of little-endian bytes.
public protocol PackedElement: Sendable, Hashable {
    static var packedSize: Int { get }
    func pack(into d: inout [UInt8])
    init(unpacking bytes: [UInt8], at offset: Int)
}

extension Array where Element == UInt8 {
    func littleEndian(at offset: Int, count: Int) -> UInt64 {
        var v: UInt64 = 0
        for k in 0..<count { v |= UInt64(self[offset + k]) << UInt64(8 * k) }
        return v
    }
    mutating func appendLittleEndian(_ v: UInt64, count: Int) {
        for k in 0..<count { append(UInt8(truncatingIfNeeded: v >> UInt64(8 * k))) }
    }
}

extension UInt8: PackedElement {
    public static var packedSize: Int { 1 }
    public func pack(into d: inout [UInt8]) { d.append(self) }
    public init(unpacking b: [UInt8], at o: Int) { self = b[o] }
}

extension UInt64: PackedElement {
    public static var packedSize: Int { 8 }
    public func pack(into d: inout [UInt8]) { d.appendLittleEndian(self, count: 8) }
    public init(unpacking b: [UInt8], at o: Int) { self = b.littleEndian(at: o, count: 8) }
}

extension Double: PackedElement {
    public static var packedSize: Int { 8 }
    public func pack(into d: inout [UInt8]) { d.appendLittleEndian(bitPattern, count: 8) }
    public init(unpacking b: [UInt8], at o: Int) { self = Double(bitPattern: b.littleEndian(at: o, count: 8)) }
}

/// Moments are stored in half precision: counts up to 2048 and log-space means keep three
/// significant digits, which is what the models use.
extension CompactMoments: PackedElement {
    public static var packedSize: Int { 6 }
    public func pack(into d: inout [UInt8]) {
        d.appendLittleEndian(UInt64(Float16(n).bitPattern), count: 2)
        d.appendLittleEndian(UInt64(Float16(mean).bitPattern), count: 2)
        d.appendLittleEndian(UInt64(Float16(variance).bitPattern), count: 2)
    }
    public init(unpacking b: [UInt8], at o: Int) {
        func f(_ i: Int) -> Float { Float(Float16(bitPattern: UInt16(b.littleEndian(at: o + i, count: 2)))) }
        self.init()
        n = f(0); mean = f(2); variance = f(4)
    }
}

/// An array stored in snapshots as packed bytes (base64 in JSON) rather than a list of
/// numbers: a quarter of the size or less, and no floating-point text to round-trip.
@propertyWrapper
public struct Packed<Element: PackedElement>: Codable, Sendable, Hashable {
    public var wrappedValue: [Element]
    public init(wrappedValue: [Element]) { self.wrappedValue = wrappedValue }
    public init(from decoder: any Decoder) throws {
        let d = [UInt8](try decoder.singleValueContainer().decode(Data.self))
        let size = Element.packedSize
        guard d.count % size == 0 else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "packed array of \(d.count) bytes is not a multiple of \(size)"))
        }
        wrappedValue = stride(from: 0, to: d.count, by: size).map { Element(unpacking: d, at: $0) }
    }
    public func encode(to encoder: any Encoder) throws {
        var d: [UInt8] = []
        d.reserveCapacity(wrappedValue.count * Element.packedSize)
        for v in wrappedValue { v.pack(into: &d) }
        var c = encoder.singleValueContainer()
        try c.encode(Data(d))
    }
}
