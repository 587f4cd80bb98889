// Pure Swift (no NIO).

/// The DICOM file format of PS3.10: a 128-byte preamble, "DICM", the group 0002 file meta
/// information in explicit VR little endian, then the data set in its own transfer syntax.
public enum Part10 {
    /// The fields of a file meta information header that the network layer uses.
    public struct Meta: Sendable, Hashable {
        public var sopClassUID: String
        public var sopInstanceUID: String
        public var transferSyntaxUID: String
    }

    /// Wraps a data set received over the network, unchanged, as a Part-10 file.
    public static func wrap(dataSet: [UInt8], sopClassUID: String, sopInstanceUID: String, transferSyntaxUID: String,
                            sourceAETitle: String?, implementationClassUID: String = DICOMUID.implementationClassUID,
                            implementationVersionName: String = DICOMUID.implementationVersionName) -> [UInt8] {
        var meta = ByteWriter()
        func element(_ number: UInt16, _ vr: String, _ value: [UInt8]) {
            meta.uint16LE(0x0002); meta.uint16LE(number)
            meta.append(contentsOf: vr.utf8)
            if vr == "OB" {
                meta.uint16LE(0); meta.uint32LE(UInt32(value.count))
            } else {
                meta.uint16LE(UInt16(value.count))
            }
            meta.append(contentsOf: value)
        }
        func text(_ s: String, pad: UInt8) -> [UInt8] {
            var b = Array(s.utf8)
            if b.count % 2 == 1 { b.append(pad) }
            return b
        }
        element(0x0001, "OB", [0x00, 0x01])
        element(0x0002, "UI", text(sopClassUID, pad: 0))
        element(0x0003, "UI", text(sopInstanceUID, pad: 0))
        element(0x0010, "UI", text(transferSyntaxUID, pad: 0))
        element(0x0012, "UI", text(implementationClassUID, pad: 0))
        element(0x0013, "SH", text(String(implementationVersionName.prefix(16)), pad: UInt8(ascii: " ")))
        if let sourceAETitle, !sourceAETitle.isEmpty {
            element(0x0016, "AE", text(String(sourceAETitle.prefix(16)), pad: UInt8(ascii: " ")))
        }
        var file = ByteWriter(capacity: 128 + 4 + 12 + meta.bytes.count + dataSet.count)
        file.zeros(128)
        file.append(contentsOf: "DICM".utf8)
        file.uint16LE(0x0002); file.uint16LE(0x0000)
        file.append(contentsOf: "UL".utf8); file.uint16LE(4)
        file.uint32LE(UInt32(meta.bytes.count))
        file.append(contentsOf: meta.bytes)
        file.append(contentsOf: dataSet)
        return file.bytes
    }

    /// Reads the file meta information; returns it and the offset where the data set starts.
    public static func readMeta(_ file: [UInt8]) throws(PDUParseError) -> (meta: Meta, dataSetOffset: Int) {
        guard file.count >= 132, file[128..<132].elementsEqual("DICM".utf8) else {
            throw .missing("DICOM Part 10 preamble and \"DICM\" prefix")
        }
        var r = ByteReader(file[132...])
        var sopClass: String?, sopInstance: String?, transferSyntax: String?
        var dataSetOffset = r.index
        // Group 0002 is always explicit VR little endian; it ends at the first element of another group.
        while r.remaining >= 8 {
            let start = r.index
            let group = try r.uint16LE("meta element group")
            guard group == 0x0002 else {
                dataSetOffset = start
                break
            }
            let element = try r.uint16LE("meta element number")
            let vr = try r.slice(2, "meta element VR")
            let length: Int
            let vrString = String(decoding: vr, as: UTF8.self)
            if ["OB", "OW", "OF", "SQ", "UT", "UN", "UC", "UR", "OD", "OL", "OV", "SV", "UV"].contains(vrString) {
                try r.skip(2, "reserved")
                length = Int(try r.uint32LE("meta element length"))
            } else {
                length = Int(try r.uint16LE("meta element length"))
            }
            let value = try r.slice(length, "meta element value")
            switch element {
            case 0x0002: sopClass = String(dicomPadded: value)
            case 0x0003: sopInstance = String(dicomPadded: value)
            case 0x0010: transferSyntax = String(dicomPadded: value)
            default: break
            }
            dataSetOffset = r.index
        }
        guard let sopClass, !sopClass.isEmpty else { throw .missing("(0002,0002) Media Storage SOP Class UID") }
        guard let sopInstance, !sopInstance.isEmpty else { throw .missing("(0002,0003) Media Storage SOP Instance UID") }
        guard let transferSyntax, !transferSyntax.isEmpty else { throw .missing("(0002,0010) Transfer Syntax UID") }
        return (Meta(sopClassUID: sopClass, sopInstanceUID: sopInstance, transferSyntaxUID: transferSyntax), dataSetOffset)
    }
}
