// Pure Swift (no NIO): compiled into the PDU fuzz harness.

/// One complete DIMSE message: its command set and, when the command announces one, the data set
/// bytes exactly as received (in the presentation context's transfer syntax).
public struct DIMSEMessage: Sendable, Hashable {
    public var contextID: UInt8
    public var command: DIMSECommand
    public var dataSet: [UInt8]?
}

/// Reassembles PDV fragments into DIMSE messages (PS3.8 annex E): the command fragments, the last
/// one flagged, then, if the command says so, the data set fragments on the same context.
///
/// Invariant: at most one message is being assembled, and it never holds more than
/// `DIMSECommand.maxEncodedLength` command bytes or `maxDataSetLength` data set bytes.
public struct DIMSEAssembler: Sendable {
    public let maxDataSetLength: Int
    private var contextID: UInt8?
    private var commandBytes: [UInt8] = []
    private var command: DIMSECommand?
    private var dataSet: [UInt8] = []

    public init(maxDataSetLength: Int) { self.maxDataSetLength = maxDataSetLength }

    /// True between the first fragment of a message and its last.
    public var isAssembling: Bool { contextID != nil }

    /// Adds one fragment; returns the message it completes, if any.
    public mutating func append(_ pdv: PresentationDataValue) throws(PDUParseError) -> DIMSEMessage? {
        if let contextID, contextID != pdv.contextID {
            throw .invalidValue("PDV presentation context ID (changed inside a message)")
        }
        contextID = pdv.contextID
        if let command {
            guard !pdv.isCommand else { throw .invalidValue("PDV message control header (command inside a data set)") }
            guard pdv.data.count <= maxDataSetLength - dataSet.count else {
                throw .tooMany("data set bytes", limit: maxDataSetLength)
            }
            dataSet.append(contentsOf: pdv.data)
            guard pdv.isLast else { return nil }
            let message = DIMSEMessage(contextID: pdv.contextID, command: command, dataSet: dataSet)
            reset()
            return message
        }
        guard pdv.isCommand else { throw .invalidValue("PDV message control header (data set before its command)") }
        guard pdv.data.count <= DIMSECommand.maxEncodedLength - commandBytes.count else {
            throw .tooMany("command set bytes", limit: DIMSECommand.maxEncodedLength)
        }
        commandBytes.append(contentsOf: pdv.data)
        guard pdv.isLast else { return nil }
        let parsed = try DIMSECommand.parse(commandBytes[...])
        commandBytes = []
        if parsed.hasDataSet {
            command = parsed
            return nil
        }
        let message = DIMSEMessage(contextID: pdv.contextID, command: parsed, dataSet: nil)
        reset()
        return message
    }

    private mutating func reset() {
        contextID = nil
        commandBytes = []
        command = nil
        dataSet = []
    }
}

/// Splits a command set or data set into P-DATA-TF PDUs that respect the peer's maximum length.
public enum PDataFragmenter {
    /// Chunk size used when the peer announces no limit (maximum length 0).
    public static let unlimitedChunk = 1 << 20

    public static func pdus(contextID: UInt8, isCommand: Bool, bytes: [UInt8], peerMaxPDULength: UInt32) -> [PDU] {
        // The limit covers the PDV item: 4-byte length, context ID, control header, data.
        let chunk = peerMaxPDULength == 0 ? unlimitedChunk : max(Int(peerMaxPDULength) - 6, 1)
        var pdus: [PDU] = []
        var start = 0
        repeat {
            let end = min(start + chunk, bytes.count)
            let pdv = PresentationDataValue(contextID: contextID, isCommand: isCommand, isLast: end == bytes.count,
                                            data: bytes[start..<end])
            pdus.append(.dataTF([pdv]))
            start = end
        } while start < bytes.count
        return pdus
    }
}
