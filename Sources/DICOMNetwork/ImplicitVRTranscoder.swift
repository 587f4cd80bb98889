// Pure Swift (no NIO).

/// Re-encodes an explicit VR little endian data set as implicit VR little endian, so the SCU can
/// send a file when the peer accepts only the default transfer syntax (PS3.5 annex A.1).
///
/// Sequences and items are written with undefined length and delimiters: lengths then never need
/// recomputing, though element headers change size. Values are copied unchanged, since both
/// syntaxes are little endian. Undefined-length non-sequence values (encapsulated pixel data, UN
/// holding an implicit sequence) cannot occur in native explicit little endian objects Vigil writes
/// and are refused.
public enum ImplicitVRTranscoder {
    public static let maxDepth = 32

    public static func transcode(explicitLittleEndian bytes: [UInt8]) throws(PDUParseError) -> [UInt8] {
        var r = ByteReader(bytes)
        var w = ByteWriter(capacity: bytes.count + 1024)
        try elements(&r, until: nil, into: &w, depth: 0)
        return w.bytes
    }

    private static let longVRs: Set<String> = ["OB", "OW", "OF", "SQ", "UT", "UN", "UC", "UR", "OD", "OL", "OV", "SV", "UV"]
    private static let undefined: UInt32 = 0xFFFF_FFFF

    /// Copies elements until the reader ends, or until a delimiter tag `until` is read (consumed).
    private static func elements(_ r: inout ByteReader, until delimiter: UInt16?, into w: inout ByteWriter,
                                 depth: Int) throws(PDUParseError) {
        guard depth <= maxDepth else { throw .tooMany("nested sequences", limit: maxDepth) }
        while !r.isAtEnd {
            let group = try r.uint16LE("element group")
            let element = try r.uint16LE("element number")
            if group == 0xFFFE {
                let length = try r.uint32LE("delimiter length")
                guard element == delimiter, length == 0 else { throw .invalidValue("item delimiter") }
                return
            }
            let vr = String(decoding: try r.slice(2, "VR"), as: UTF8.self)
            let length: UInt32
            if longVRs.contains(vr) {
                try r.skip(2, "reserved")
                length = try r.uint32LE("element length")
            } else {
                length = UInt32(try r.uint16LE("element length"))
            }
            w.uint16LE(group); w.uint16LE(element)
            if vr == "SQ" {
                w.uint32LE(undefined)
                try items(&r, length: length, into: &w, depth: depth + 1)
                w.uint16LE(0xFFFE); w.uint16LE(0xE0DD); w.uint32LE(0)
                continue
            }
            guard length != undefined else { throw .invalidValue("undefined length outside a sequence") }
            w.uint32LE(length)
            w.append(contentsOf: try r.slice(Int(length), "element value"))
        }
        if delimiter != nil { throw .missing("item delimiter") }
    }

    private static func items(_ r: inout ByteReader, length: UInt32, into w: inout ByteWriter, depth: Int) throws(PDUParseError) {
        if length != undefined {
            var body = ByteReader(try r.slice(Int(length), "sequence"))
            while !body.isAtEnd { guard try item(&body, into: &w, depth: depth) else { throw .invalidValue("sequence delimiter in a defined-length sequence") } }
            return
        }
        while try item(&r, into: &w, depth: depth) {}
    }

    /// Copies one item; returns false when it read the sequence delimitation item instead.
    private static func item(_ r: inout ByteReader, into w: inout ByteWriter, depth: Int) throws(PDUParseError) -> Bool {
        let group = try r.uint16LE("item tag group"), element = try r.uint16LE("item tag element")
        let length = try r.uint32LE("item length")
        guard group == 0xFFFE else { throw .invalidValue("item tag") }
        if element == 0xE0DD { return false }
        guard element == 0xE000 else { throw .invalidValue("item tag") }
        w.uint16LE(0xFFFE); w.uint16LE(0xE000); w.uint32LE(undefined)
        if length == undefined {
            try elements(&r, until: 0xE00D, into: &w, depth: depth)
        } else {
            var body = ByteReader(try r.slice(Int(length), "item"))
            try elements(&body, until: nil, into: &w, depth: depth)
        }
        w.uint16LE(0xFFFE); w.uint16LE(0xE00D); w.uint32LE(0)
        return true
    }
}
