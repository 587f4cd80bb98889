// Pure Swift (no NIO): compiled on its own into the PDU fuzz harness (Tests/Fuzz/fuzz_pdu.swift).

/// Bounds applied while parsing, before anything is allocated from a length or count in the input.
public struct PDULimits: Sendable, Hashable {
    /// Largest PDU body (bytes after the 6-byte header) accepted; longer PDUs are refused unread.
    public var maxPDULength: UInt32
    /// Most presentation contexts in one A-ASSOCIATE-RQ/AC (PS3.8 allows 128 odd context IDs).
    public var maxPresentationContexts: Int
    /// Most transfer syntaxes proposed in one presentation context.
    public var maxTransferSyntaxesPerContext: Int
    /// Most PDV items in one P-DATA-TF.
    public var maxPDVsPerPDU: Int

    public init(maxPDULength: UInt32 = 1 << 20, maxPresentationContexts: Int = 128,
                maxTransferSyntaxesPerContext: Int = 64, maxPDVsPerPDU: Int = 1024) {
        self.maxPDULength = maxPDULength
        self.maxPresentationContexts = maxPresentationContexts
        self.maxTransferSyntaxesPerContext = maxTransferSyntaxesPerContext
        self.maxPDVsPerPDU = maxPDVsPerPDU
    }
}

/// Parses upper-layer PDUs from bytes. Stateless; every failure is a `PDUParseError`.
public enum PDUParser {
    /// Length of the fixed PDU header: type, reserved, 32-bit big-endian length.
    public static let headerLength = 6

    /// The result of looking at the start of a byte stream.
    public enum Framing: Sendable, Hashable {
        /// The header is incomplete.
        case needHeader
        /// A PDU of `type` and `bodyLength` starts here; `bodyLength` is within the limits.
        case pdu(type: UInt8, bodyLength: Int)
    }

    /// Reads a PDU header and checks its type and length against `limits` before any body is read.
    public static func frame(_ bytes: ArraySlice<UInt8>, limits: PDULimits) throws(PDUParseError) -> Framing {
        guard bytes.count >= headerLength else { return .needHeader }
        var r = ByteReader(bytes)
        let type = try r.uint8("PDU type")
        try r.skip(1, "reserved")
        let length = try r.uint32BE("PDU length")
        guard PDUType(rawValue: type) != nil else { throw .unknownPDUType(type) }
        guard length <= limits.maxPDULength else { throw .pduTooLong(length: length, limit: limits.maxPDULength) }
        return .pdu(type: type, bodyLength: Int(length))
    }

    /// Parses a whole PDU (header and body); trailing bytes after the declared length are an error.
    public static func parse(_ bytes: ArraySlice<UInt8>, limits: PDULimits) throws(PDUParseError) -> PDU {
        guard case .pdu(let type, let length) = try frame(bytes, limits: limits) else { throw .truncated("PDU header") }
        guard bytes.count - headerLength == length else { throw .invalidLength("PDU", bytes.count - headerLength) }
        return try parseBody(type: type, bytes.dropFirst(headerLength), limits: limits)
    }

    /// Parses a PDU body whose header `frame` already accepted.
    public static func parseBody(type: UInt8, _ body: ArraySlice<UInt8>, limits: PDULimits) throws(PDUParseError) -> PDU {
        guard let pduType = PDUType(rawValue: type) else { throw .unknownPDUType(type) }
        var r = ByteReader(body)
        switch pduType {
        case .associateRQ:
            return .associateRQ(try parseAssociateRQ(&r, limits: limits))
        case .associateAC:
            return .associateAC(try parseAssociateAC(&r, limits: limits))
        case .associateRJ:
            guard body.count == 4 else { throw .invalidLength("A-ASSOCIATE-RJ", body.count) }
            try r.skip(1, "reserved")
            let result = try r.uint8("result"), source = try r.uint8("source"), reason = try r.uint8("reason")
            return .associateRJ(AssociateReject(result: result, source: source, reason: reason))
        case .dataTF:
            return .dataTF(try parsePDVs(&r, limits: limits))
        case .releaseRQ, .releaseRP:
            guard body.count == 4 else { throw .invalidLength("A-RELEASE PDU", body.count) }
            return pduType == .releaseRQ ? .releaseRQ : .releaseRP
        case .abort:
            guard body.count == 4 else { throw .invalidLength("A-ABORT", body.count) }
            try r.skip(2, "reserved")
            let source = try r.uint8("abort source"), reason = try r.uint8("abort reason")
            return .abort(source: source, reason: reason)
        }
    }

    // MARK: A-ASSOCIATE-RQ / AC

    private struct FixedFields {
        var protocolVersion: UInt16
        var called: String
        var calling: String
    }

    private static func parseFixedFields(_ r: inout ByteReader) throws(PDUParseError) -> FixedFields {
        let version = try r.uint16BE("protocol version")
        try r.skip(2, "reserved")
        let called = try aeTitle(try r.slice(16, "called AE title"), "called AE title")
        let calling = try aeTitle(try r.slice(16, "calling AE title"), "calling AE title")
        try r.skip(32, "reserved")
        return FixedFields(protocolVersion: version, called: called, calling: calling)
    }

    /// AE titles and the implementation version name use the default repertoire without
    /// backslash or control characters (PS3.5 6.2, VR AE and SH).
    private static func aeTitle(_ bytes: ArraySlice<UInt8>, _ field: StaticString) throws(PDUParseError) -> String {
        guard bytes.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && $0 != 0x5C }) else { throw .invalidValue(field) }
        return String(dicomPadded: bytes)
    }

    /// One variable item: type, reserved, 16-bit length, content.
    private static func item(_ r: inout ByteReader) throws(PDUParseError) -> (type: UInt8, content: ArraySlice<UInt8>) {
        let type = try r.uint8("item type")
        try r.skip(1, "reserved")
        let length = try r.uint16BE("item length")
        return (type, try r.slice(Int(length), "item"))
    }

    private static func uid(_ bytes: ArraySlice<UInt8>, _ field: StaticString) throws(PDUParseError) -> String {
        guard bytes.count <= 64 else { throw .invalidLength(field, bytes.count) }
        let s = String(dicomPadded: bytes)
        guard DICOMUID.isValid(s) else { throw .invalidValue(field) }
        return s
    }

    private static func parseAssociateRQ(_ r: inout ByteReader, limits: PDULimits) throws(PDUParseError) -> AssociateRequest {
        let fixed = try parseFixedFields(&r)
        var applicationContext: String?
        var contexts: [ProposedPresentationContext] = []
        var userInfo: UserInformation?
        var seenIDs = Set<UInt8>()
        while !r.isAtEnd {
            let (type, content) = try item(&r)
            switch type {
            case 0x10:
                applicationContext = try uid(content, "application context name")
            case 0x20:
                guard contexts.count < limits.maxPresentationContexts else {
                    throw .tooMany("presentation contexts", limit: limits.maxPresentationContexts)
                }
                var c = ByteReader(content)
                let id = try c.uint8("presentation context ID")
                try c.skip(3, "reserved")
                guard id % 2 == 1, seenIDs.insert(id).inserted else { throw .invalidValue("presentation context ID") }
                var abstract: String?
                var transfers: [String] = []
                while !c.isAtEnd {
                    let (sub, value) = try item(&c)
                    switch sub {
                    case 0x30:
                        guard abstract == nil else { throw .invalidValue("abstract syntax (repeated)") }
                        abstract = try uid(value, "abstract syntax")
                    case 0x40:
                        guard transfers.count < limits.maxTransferSyntaxesPerContext else {
                            throw .tooMany("transfer syntaxes in one context", limit: limits.maxTransferSyntaxesPerContext)
                        }
                        transfers.append(try uid(value, "transfer syntax"))
                    default:
                        throw .invalidValue("presentation context sub-item type")
                    }
                }
                guard let abstract else { throw .missing("abstract syntax") }
                guard !transfers.isEmpty else { throw .missing("transfer syntax") }
                contexts.append(ProposedPresentationContext(id: id, abstractSyntax: abstract, transferSyntaxes: transfers))
            case 0x50:
                userInfo = try parseUserInformation(content)
            default:
                // Item types this version of PS3.8 does not define are skipped, not fatal.
                continue
            }
        }
        guard let applicationContext else { throw .missing("application context item") }
        guard !contexts.isEmpty else { throw .missing("presentation context item") }
        guard let userInfo else { throw .missing("user information item") }
        return AssociateRequest(protocolVersion: fixed.protocolVersion, calledAETitle: fixed.called,
                                callingAETitle: fixed.calling, applicationContext: applicationContext,
                                presentationContexts: contexts, userInformation: userInfo)
    }

    private static func parseAssociateAC(_ r: inout ByteReader, limits: PDULimits) throws(PDUParseError) -> AssociateAccept {
        let fixed = try parseFixedFields(&r)
        var applicationContext: String?
        var results: [PresentationContextResult] = []
        var userInfo: UserInformation?
        while !r.isAtEnd {
            let (type, content) = try item(&r)
            switch type {
            case 0x10:
                applicationContext = try uid(content, "application context name")
            case 0x21:
                guard results.count < limits.maxPresentationContexts else {
                    throw .tooMany("presentation contexts", limit: limits.maxPresentationContexts)
                }
                var c = ByteReader(content)
                let id = try c.uint8("presentation context ID")
                try c.skip(1, "reserved")
                guard let outcome = PresentationContextResult.Outcome(rawValue: try c.uint8("result/reason")) else {
                    throw .invalidValue("presentation context result/reason")
                }
                try c.skip(1, "reserved")
                var transfer = ""
                while !c.isAtEnd {
                    let (sub, value) = try item(&c)
                    guard sub == 0x40 else { throw .invalidValue("presentation context sub-item type") }
                    // Not significant when rejected, and some implementations send it empty then.
                    transfer = outcome == .acceptance ? try uid(value, "transfer syntax") : String(dicomPadded: value)
                }
                if outcome == .acceptance && transfer.isEmpty { throw .missing("accepted transfer syntax") }
                results.append(PresentationContextResult(id: id, outcome: outcome, transferSyntax: transfer))
            case 0x50:
                userInfo = try parseUserInformation(content)
            default:
                continue
            }
        }
        guard let applicationContext else { throw .missing("application context item") }
        guard let userInfo else { throw .missing("user information item") }
        return AssociateAccept(protocolVersion: fixed.protocolVersion, calledAETitle: fixed.called,
                               callingAETitle: fixed.calling, applicationContext: applicationContext,
                               presentationContexts: results, userInformation: userInfo)
    }

    private static func parseUserInformation(_ content: ArraySlice<UInt8>) throws(PDUParseError) -> UserInformation {
        var r = ByteReader(content)
        var maxLength: UInt32?
        var classUID: String?
        var versionName: String?
        while !r.isAtEnd {
            let (type, value) = try item(&r)
            switch type {
            case 0x51:
                guard value.count == 4 else { throw .invalidLength("maximum length sub-item", value.count) }
                var v = ByteReader(value)
                maxLength = try v.uint32BE("maximum length")
            case 0x52:
                classUID = try uid(value, "implementation class UID")
            case 0x55:
                guard value.count <= 16 else { throw .invalidLength("implementation version name", value.count) }
                versionName = try aeTitle(value.prefix { $0 != 0 }, "implementation version name")
            default:
                // Asynchronous operations window, role selection, extended negotiation, user
                // identity...: not negotiated by Vigil, so left out of the answer (PS3.7 D.3.3).
                continue
            }
        }
        guard let maxLength else { throw .missing("maximum length sub-item") }
        // PS3.8 requires the implementation class UID; some SCUs omit it, and nothing depends on it.
        return UserInformation(maxPDULength: maxLength, implementationClassUID: classUID ?? "",
                               implementationVersionName: versionName)
    }

    // MARK: P-DATA-TF

    private static func parsePDVs(_ r: inout ByteReader, limits: PDULimits) throws(PDUParseError) -> [PresentationDataValue] {
        var pdvs: [PresentationDataValue] = []
        while !r.isAtEnd {
            guard pdvs.count < limits.maxPDVsPerPDU else { throw .tooMany("PDV items in one P-DATA-TF", limit: limits.maxPDVsPerPDU) }
            let length = try r.uint32BE("PDV item length")
            guard length >= 2, Int(length) <= r.remaining else { throw .invalidLength("PDV item", Int(length)) }
            let id = try r.uint8("presentation context ID")
            let header = try r.uint8("message control header")
            guard header & 0xFC == 0 else { throw .invalidValue("message control header") }
            let data = try r.slice(Int(length) - 2, "PDV data")
            pdvs.append(PresentationDataValue(contextID: id, isCommand: header & 1 != 0, isLast: header & 2 != 0, data: data))
        }
        guard !pdvs.isEmpty else { throw .missing("PDV item in P-DATA-TF") }
        return pdvs
    }
}
