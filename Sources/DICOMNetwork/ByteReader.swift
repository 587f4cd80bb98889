// Pure Swift (no NIO): compiled on its own into the PDU fuzz harness.

/// A cursor over received bytes that never reads past the end: every read checks the remaining
/// length first, so a length field in the input can never make it allocate or index out of range.
struct ByteReader {
    private let bytes: ArraySlice<UInt8>
    private(set) var index: Int

    init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        self.index = bytes.startIndex
    }

    init(_ bytes: [UInt8]) { self.init(bytes[...]) }

    var remaining: Int { bytes.endIndex - index }
    var isAtEnd: Bool { index >= bytes.endIndex }

    mutating func uint8(_ field: StaticString) throws(PDUParseError) -> UInt8 {
        guard remaining >= 1 else { throw .truncated(field) }
        defer { index += 1 }
        return bytes[index]
    }

    mutating func uint16BE(_ field: StaticString) throws(PDUParseError) -> UInt16 {
        guard remaining >= 2 else { throw .truncated(field) }
        defer { index += 2 }
        return UInt16(bytes[index]) << 8 | UInt16(bytes[index + 1])
    }

    mutating func uint32BE(_ field: StaticString) throws(PDUParseError) -> UInt32 {
        guard remaining >= 4 else { throw .truncated(field) }
        defer { index += 4 }
        return UInt32(bytes[index]) << 24 | UInt32(bytes[index + 1]) << 16
            | UInt32(bytes[index + 2]) << 8 | UInt32(bytes[index + 3])
    }

    mutating func uint16LE(_ field: StaticString) throws(PDUParseError) -> UInt16 {
        guard remaining >= 2 else { throw .truncated(field) }
        defer { index += 2 }
        return UInt16(bytes[index]) | UInt16(bytes[index + 1]) << 8
    }

    mutating func uint32LE(_ field: StaticString) throws(PDUParseError) -> UInt32 {
        guard remaining >= 4 else { throw .truncated(field) }
        defer { index += 4 }
        return UInt32(bytes[index]) | UInt32(bytes[index + 1]) << 8
            | UInt32(bytes[index + 2]) << 16 | UInt32(bytes[index + 3]) << 24
    }

    /// A view of the next `count` bytes; fails before touching memory when fewer remain.
    mutating func slice(_ count: Int, _ field: StaticString) throws(PDUParseError) -> ArraySlice<UInt8> {
        guard count >= 0, remaining >= count else { throw .truncated(field) }
        defer { index += count }
        return bytes[index..<(index + count)]
    }

    mutating func skip(_ count: Int, _ field: StaticString) throws(PDUParseError) {
        _ = try slice(count, field)
    }
}

/// Appends big- and little-endian integers, the two byte orders of the upper layer and of DIMSE.
struct ByteWriter {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    mutating func uint8(_ v: UInt8) { bytes.append(v) }
    mutating func uint16BE(_ v: UInt16) { bytes.append(UInt8(v >> 8)); bytes.append(UInt8(truncatingIfNeeded: v)) }
    mutating func uint32BE(_ v: UInt32) {
        bytes.append(UInt8(v >> 24)); bytes.append(UInt8(truncatingIfNeeded: v >> 16))
        bytes.append(UInt8(truncatingIfNeeded: v >> 8)); bytes.append(UInt8(truncatingIfNeeded: v))
    }
    mutating func uint16LE(_ v: UInt16) { bytes.append(UInt8(truncatingIfNeeded: v)); bytes.append(UInt8(v >> 8)) }
    mutating func uint32LE(_ v: UInt32) {
        bytes.append(UInt8(truncatingIfNeeded: v)); bytes.append(UInt8(truncatingIfNeeded: v >> 8))
        bytes.append(UInt8(truncatingIfNeeded: v >> 16)); bytes.append(UInt8(v >> 24))
    }
    mutating func append<S: Sequence>(contentsOf s: S) where S.Element == UInt8 { bytes.append(contentsOf: s) }
    mutating func zeros(_ count: Int) { bytes.append(contentsOf: repeatElement(0, count: count)) }

    /// Overwrites a 32-bit big-endian value written earlier (a length known only afterwards).
    mutating func patchUInt32BE(_ v: UInt32, at offset: Int) {
        bytes[offset] = UInt8(v >> 24); bytes[offset + 1] = UInt8(truncatingIfNeeded: v >> 16)
        bytes[offset + 2] = UInt8(truncatingIfNeeded: v >> 8); bytes[offset + 3] = UInt8(truncatingIfNeeded: v)
    }

    mutating func patchUInt16BE(_ v: UInt16, at offset: Int) {
        bytes[offset] = UInt8(v >> 8); bytes[offset + 1] = UInt8(truncatingIfNeeded: v)
    }

    mutating func patchUInt32LE(_ v: UInt32, at offset: Int) {
        bytes[offset] = UInt8(truncatingIfNeeded: v); bytes[offset + 1] = UInt8(truncatingIfNeeded: v >> 8)
        bytes[offset + 2] = UInt8(truncatingIfNeeded: v >> 16); bytes[offset + 3] = UInt8(v >> 24)
    }
}

extension String {
    /// A DICOM text value with its padding removed: trailing NULs and spaces (UIDs are padded with
    /// NUL, AE titles and LO with spaces), and leading spaces, which are insignificant in AE titles.
    init(dicomPadded bytes: some Collection<UInt8>) {
        var s = Substring(decoding: bytes, as: UTF8.self)
        while let last = s.last, last == "\0" || last == " " { s.removeLast() }
        while let first = s.first, first == " " { s.removeFirst() }
        self = String(s)
    }
}
