// Pure Swift (no NIO): DIMSE command sets (PS3.7 section 9.3 and annex E).

/// The DIMSE command fields Vigil handles (PS3.7 E.1).
public enum DIMSECommandField: UInt16, Sendable {
    case cStoreRQ = 0x0001
    case cStoreRSP = 0x8001
    case cEchoRQ = 0x0030
    case cEchoRSP = 0x8030
}

/// A command set: group 0000, always implicit VR little endian whatever the context's transfer
/// syntax (PS3.7 6.3.1). Only the elements C-ECHO and C-STORE use are modelled; others are
/// skipped when read.
public struct DIMSECommand: Sendable, Hashable {
    /// (0000,0800) value meaning "no data set follows".
    public static let noDataSet: UInt16 = 0x0101

    public var commandField: UInt16
    public var affectedSOPClassUID: String?
    public var messageID: UInt16?
    public var messageIDBeingRespondedTo: UInt16?
    public var priority: UInt16?
    public var commandDataSetType: UInt16
    public var status: UInt16?
    public var errorComment: String?
    public var affectedSOPInstanceUID: String?

    public init(commandField: UInt16, affectedSOPClassUID: String? = nil, messageID: UInt16? = nil,
                messageIDBeingRespondedTo: UInt16? = nil, priority: UInt16? = nil,
                commandDataSetType: UInt16 = DIMSECommand.noDataSet, status: UInt16? = nil,
                errorComment: String? = nil, affectedSOPInstanceUID: String? = nil) {
        self.commandField = commandField
        self.affectedSOPClassUID = affectedSOPClassUID
        self.messageID = messageID
        self.messageIDBeingRespondedTo = messageIDBeingRespondedTo
        self.priority = priority
        self.commandDataSetType = commandDataSetType
        self.status = status
        self.errorComment = errorComment
        self.affectedSOPInstanceUID = affectedSOPInstanceUID
    }

    public var hasDataSet: Bool { commandDataSetType != Self.noDataSet }

    /// Largest command set accepted: the real ones are a few hundred bytes.
    public static let maxEncodedLength = 64 * 1024

    /// Parses an encoded command set. Elements must be in group 0000 and fit in the bytes.
    public static func parse(_ bytes: ArraySlice<UInt8>) throws(PDUParseError) -> DIMSECommand {
        guard bytes.count <= maxEncodedLength else { throw .invalidLength("DIMSE command set", bytes.count) }
        var r = ByteReader(bytes)
        var command = DIMSECommand(commandField: 0)
        var sawField = false
        var sawDataSetType = false
        while !r.isAtEnd {
            let group = try r.uint16LE("command element group")
            let element = try r.uint16LE("command element number")
            let length = try r.uint32LE("command element length")
            guard group == 0x0000 else { throw .invalidValue("command element group (not 0000)") }
            guard length <= UInt32(r.remaining) else { throw .invalidLength("command element", Int(length)) }
            let value = try r.slice(Int(length), "command element value")
            func us() throws(PDUParseError) -> UInt16 {
                guard value.count == 2 else { throw .invalidLength("US command element", value.count) }
                return UInt16(value[value.startIndex]) | UInt16(value[value.startIndex + 1]) << 8
            }
            switch element {
            case 0x0002: command.affectedSOPClassUID = String(dicomPadded: value)
            case 0x0100: command.commandField = try us(); sawField = true
            case 0x0110: command.messageID = try us()
            case 0x0120: command.messageIDBeingRespondedTo = try us()
            case 0x0700: command.priority = try us()
            case 0x0800: command.commandDataSetType = try us(); sawDataSetType = true
            case 0x0900: command.status = try us()
            case 0x0902: command.errorComment = String(dicomPadded: value)
            case 0x1000: command.affectedSOPInstanceUID = String(dicomPadded: value)
            default: continue  // group length, move originator and the like
            }
        }
        guard sawField else { throw .missing("(0000,0100) Command Field") }
        guard sawDataSetType else { throw .missing("(0000,0800) Command Data Set Type") }
        return command
    }

    /// Encodes the command set with its group length first and elements in tag order.
    public func serialize() -> [UInt8] {
        var body = ByteWriter()
        func element(_ number: UInt16, _ value: [UInt8]) {
            body.uint16LE(0x0000); body.uint16LE(number)
            body.uint32LE(UInt32(value.count)); body.append(contentsOf: value)
        }
        func us(_ number: UInt16, _ v: UInt16?) {
            guard let v else { return }
            element(number, [UInt8(truncatingIfNeeded: v), UInt8(v >> 8)])
        }
        func text(_ number: UInt16, _ s: String?, pad: UInt8) {
            guard let s else { return }
            var b = Array(s.utf8)
            if b.count % 2 == 1 { b.append(pad) }
            element(number, b)
        }
        text(0x0002, affectedSOPClassUID, pad: 0)
        us(0x0100, commandField)
        us(0x0110, messageID)
        us(0x0120, messageIDBeingRespondedTo)
        us(0x0700, priority)
        us(0x0800, commandDataSetType)
        us(0x0900, status)
        text(0x0902, errorComment.map { String($0.prefix(64)) }, pad: UInt8(ascii: " "))
        text(0x1000, affectedSOPInstanceUID, pad: 0)
        var w = ByteWriter(capacity: body.bytes.count + 12)
        w.uint16LE(0x0000); w.uint16LE(0x0000); w.uint32LE(4); w.uint32LE(UInt32(body.bytes.count))
        w.append(contentsOf: body.bytes)
        return w.bytes
    }
}
