// Pure Swift (no NIO).

/// One object received by C-STORE, already wrapped as a DICOM Part 10 file.
public struct ReceivedObject: Sendable, Hashable {
    public var callingAETitle: String
    public var calledAETitle: String
    /// The peer's address as NIO prints it, e.g. "[IPv4]127.0.0.1/127.0.0.1:50912".
    public var peerAddress: String
    public var sopClassUID: String
    public var sopInstanceUID: String
    public var transferSyntaxUID: String
    /// Preamble, "DICM", file meta information, then the data set bytes exactly as received.
    public var part10: [UInt8]

    public init(callingAETitle: String, calledAETitle: String, peerAddress: String, sopClassUID: String,
                sopInstanceUID: String, transferSyntaxUID: String, part10: [UInt8]) {
        self.callingAETitle = callingAETitle
        self.calledAETitle = calledAETitle
        self.peerAddress = peerAddress
        self.sopClassUID = sopClassUID
        self.sopInstanceUID = sopInstanceUID
        self.transferSyntaxUID = transferSyntaxUID
        self.part10 = part10
    }
}

/// Receives the objects Vigil's SCP accepts.
public protocol DICOMStoreDelegate: Sendable {
    /// One received object; the returned status goes back in the C-STORE-RSP.
    func store(_ object: ReceivedObject) async -> StoreStatus
}
