// Pure Swift (no NIO): the inverse of PDUParser.

/// Writes PDUs as PS3.8 section 9.3 lays them out.
public enum PDUSerializer {
    public static func serialize(_ pdu: PDU) -> [UInt8] {
        var w = ByteWriter()
        w.uint8(pdu.type.rawValue)
        w.uint8(0)
        w.uint32BE(0)  // patched below
        switch pdu {
        case .associateRQ(let rq):
            writeFixedFields(&w, version: rq.protocolVersion, called: rq.calledAETitle, calling: rq.callingAETitle)
            writeItem(&w, 0x10, ascii(rq.applicationContext))
            for pc in rq.presentationContexts {
                var c = ByteWriter()
                c.uint8(pc.id); c.zeros(3)
                writeItem(&c, 0x30, ascii(pc.abstractSyntax))
                for ts in pc.transferSyntaxes { writeItem(&c, 0x40, ascii(ts)) }
                writeItem(&w, 0x20, c.bytes)
            }
            writeItem(&w, 0x50, userInformation(rq.userInformation))
        case .associateAC(let ac):
            writeFixedFields(&w, version: ac.protocolVersion, called: ac.calledAETitle, calling: ac.callingAETitle)
            writeItem(&w, 0x10, ascii(ac.applicationContext))
            for pc in ac.presentationContexts {
                var c = ByteWriter()
                c.uint8(pc.id); c.uint8(0); c.uint8(pc.outcome.rawValue); c.uint8(0)
                writeItem(&c, 0x40, ascii(pc.transferSyntax))
                writeItem(&w, 0x21, c.bytes)
            }
            writeItem(&w, 0x50, userInformation(ac.userInformation))
        case .associateRJ(let rj):
            w.uint8(0); w.uint8(rj.result); w.uint8(rj.source); w.uint8(rj.reason)
        case .dataTF(let pdvs):
            for pdv in pdvs {
                w.uint32BE(UInt32(pdv.data.count + 2))
                w.uint8(pdv.contextID)
                w.uint8((pdv.isCommand ? 1 : 0) | (pdv.isLast ? 2 : 0))
                w.append(contentsOf: pdv.data)
            }
        case .releaseRQ, .releaseRP:
            w.zeros(4)
        case .abort(let source, let reason):
            w.zeros(2); w.uint8(source); w.uint8(reason)
        }
        w.patchUInt32BE(UInt32(w.bytes.count - PDUParser.headerLength), at: 2)
        return w.bytes
    }

    private static func ascii(_ s: String) -> [UInt8] { Array(s.utf8) }

    /// AE titles are 16 bytes, space padded (PS3.8 9.3.2).
    private static func aeTitle(_ s: String) -> [UInt8] {
        var b = Array(s.utf8.prefix(16))
        b.append(contentsOf: repeatElement(UInt8(ascii: " "), count: 16 - b.count))
        return b
    }

    private static func writeFixedFields(_ w: inout ByteWriter, version: UInt16, called: String, calling: String) {
        w.uint16BE(version)
        w.zeros(2)
        w.append(contentsOf: aeTitle(called))
        w.append(contentsOf: aeTitle(calling))
        w.zeros(32)
    }

    private static func writeItem(_ w: inout ByteWriter, _ type: UInt8, _ content: [UInt8]) {
        w.uint8(type)
        w.uint8(0)
        w.uint16BE(UInt16(truncatingIfNeeded: content.count))
        w.append(contentsOf: content)
    }

    private static func userInformation(_ u: UserInformation) -> [UInt8] {
        var c = ByteWriter()
        var length = ByteWriter()
        length.uint32BE(u.maxPDULength)
        writeItem(&c, 0x51, length.bytes)
        if !u.implementationClassUID.isEmpty { writeItem(&c, 0x52, ascii(u.implementationClassUID)) }
        if let name = u.implementationVersionName { writeItem(&c, 0x55, Array(name.utf8.prefix(16))) }
        return c.bytes
    }
}
