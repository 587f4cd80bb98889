import Foundation

@testable import ScanImage

/// Writes a minimal Part 10 file (explicit VR little endian, MONOCHROME2) as fuzzing seed and
/// for limit tests. Conformance against files made by dcmtk and pydicom is in Tests/python.
enum DICOMWriter {
    static func explicitLittle(scan: Scan, pixelData: Bool = true) -> [UInt8] {
        var meta: [UInt8] = []
        meta += element(0x0002, 0x0001, "OB", [0, 1])
        meta += element(0x0002, 0x0002, "UI", uid("1.2.840.10008.5.1.4.1.1.1.1"))
        meta += element(0x0002, 0x0003, "UI", uid("1.2.3.4.5"))
        meta += element(0x0002, 0x0010, "UI", uid("1.2.840.10008.1.2.1"))
        var out = [UInt8](repeating: 0, count: 128) + Array("DICM".utf8)
        out += element(0x0002, 0x0000, "UL", le32(UInt32(meta.count)))
        out += meta
        out += element(0x0008, 0x0016, "UI", uid("1.2.840.10008.5.1.4.1.1.1.1"))
        out += element(0x0008, 0x0018, "UI", uid("1.2.3.4.5"))
        out += element(0x0008, 0x0060, "CS", Array("DX".utf8))
        out += element(0x0028, 0x0002, "US", le16(1))
        out += element(0x0028, 0x0004, "CS", Array("MONOCHROME2 ".utf8))
        out += element(0x0028, 0x0010, "US", le16(UInt16(scan.height)))
        out += element(0x0028, 0x0011, "US", le16(UInt16(scan.width)))
        out += element(0x0028, 0x0100, "US", le16(16))
        out += element(0x0028, 0x0101, "US", le16(16))
        out += element(0x0028, 0x0102, "US", le16(15))
        out += element(0x0028, 0x0103, "US", le16(0))
        if pixelData { out += element(0x7FE0, 0x0010, "OW", scan.pixels.bytes) }
        return out
    }

    private static func uid(_ s: String) -> [UInt8] {
        var b = Array(s.utf8)
        if b.count % 2 == 1 { b.append(0) }
        return b
    }

    private static func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8)] }
    private static func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(v >> (8 * $0) & 0xFF) } }

    private static func element(_ group: UInt16, _ elem: UInt16, _ vr: String, _ value: [UInt8]) -> [UInt8] {
        var out = le16(group) + le16(elem) + Array(vr.utf8)
        if ["OB", "OW", "UN", "SQ", "UT"].contains(vr) {
            out += [0, 0] + le32(UInt32(value.count))
        } else {
            out += le16(UInt16(value.count))
        }
        return out + value
    }
}

/// A 16x16 grey JPEG written by libjpeg-turbo (through Pillow, quality 90).
enum TestJPEG {
    static let grey16x16 = [UInt8](Data(base64Encoded: """
        /9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAMCAgMCAgMDAwMEAwMEBQgFBQQEBQoHBwYIDAoMDAsKCwsNDhIQDQ4RDgsLEBYQERMUFRUVDA8XGBYUGBIUFRT/wAALCAAQABABAREA/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/9oACAEBAAA/APizwj8Lfufuf0r2vwj8Lfufuf0r1Xwj8Lfufuf0r2vwj8Lfufuf0r//2Q==
        """, options: .ignoreUnknownCharacters)!)
}
