// Pure Swift (no NIO): the DICOM upper-layer protocol data units of PS3.8 section 9.3.

/// The seven PDU types of PS3.8 table 9-10.
public enum PDUType: UInt8, Sendable {
    case associateRQ = 0x01
    case associateAC = 0x02
    case associateRJ = 0x03
    case dataTF = 0x04
    case releaseRQ = 0x05
    case releaseRP = 0x06
    case abort = 0x07
}

/// One presentation context proposed in an A-ASSOCIATE-RQ (item 0x20).
public struct ProposedPresentationContext: Sendable, Hashable {
    public var id: UInt8
    public var abstractSyntax: String
    public var transferSyntaxes: [String]

    public init(id: UInt8, abstractSyntax: String, transferSyntaxes: [String]) {
        (self.id, self.abstractSyntax, self.transferSyntaxes) = (id, abstractSyntax, transferSyntaxes)
    }
}

/// The acceptor's answer for one presentation context (item 0x21), PS3.8 table 9-18.
public struct PresentationContextResult: Sendable, Hashable {
    /// Result/Reason field values.
    public enum Outcome: UInt8, Sendable {
        case acceptance = 0
        case userRejection = 1
        case noReason = 2
        case abstractSyntaxNotSupported = 3
        case transferSyntaxesNotSupported = 4
    }

    public var id: UInt8
    public var outcome: Outcome
    /// The accepted transfer syntax; PS3.8 says it is not significant when the context is rejected.
    public var transferSyntax: String

    public init(id: UInt8, outcome: Outcome, transferSyntax: String) {
        (self.id, self.outcome, self.transferSyntax) = (id, outcome, transferSyntax)
    }
}

/// The user information item (0x50) sub-items Vigil reads and writes; others are skipped.
public struct UserInformation: Sendable, Hashable {
    /// Maximum P-DATA-TF variable-field length the sender can receive; 0 means unlimited.
    public var maxPDULength: UInt32
    public var implementationClassUID: String
    public var implementationVersionName: String?

    public init(maxPDULength: UInt32, implementationClassUID: String, implementationVersionName: String?) {
        self.maxPDULength = maxPDULength
        self.implementationClassUID = implementationClassUID
        self.implementationVersionName = implementationVersionName
    }
}

/// A-ASSOCIATE-RQ (PS3.8 9.3.2) and A-ASSOCIATE-AC (9.3.3) share their layout.
public struct AssociateRequest: Sendable, Hashable {
    public var protocolVersion: UInt16
    public var calledAETitle: String
    public var callingAETitle: String
    public var applicationContext: String
    public var presentationContexts: [ProposedPresentationContext]
    public var userInformation: UserInformation

    public init(protocolVersion: UInt16 = 1, calledAETitle: String, callingAETitle: String,
                applicationContext: String = DICOMUID.applicationContext,
                presentationContexts: [ProposedPresentationContext], userInformation: UserInformation) {
        self.protocolVersion = protocolVersion
        self.calledAETitle = calledAETitle
        self.callingAETitle = callingAETitle
        self.applicationContext = applicationContext
        self.presentationContexts = presentationContexts
        self.userInformation = userInformation
    }
}

/// A-ASSOCIATE-AC: the AE titles echo the request's (PS3.8 says they are not tested).
public struct AssociateAccept: Sendable, Hashable {
    public var protocolVersion: UInt16
    public var calledAETitle: String
    public var callingAETitle: String
    public var applicationContext: String
    public var presentationContexts: [PresentationContextResult]
    public var userInformation: UserInformation

    public init(protocolVersion: UInt16 = 1, calledAETitle: String, callingAETitle: String,
                applicationContext: String = DICOMUID.applicationContext,
                presentationContexts: [PresentationContextResult], userInformation: UserInformation) {
        self.protocolVersion = protocolVersion
        self.calledAETitle = calledAETitle
        self.callingAETitle = callingAETitle
        self.applicationContext = applicationContext
        self.presentationContexts = presentationContexts
        self.userInformation = userInformation
    }
}

/// A-ASSOCIATE-RJ fields (PS3.8 table 9-21).
public struct AssociateReject: Sendable, Hashable, CustomStringConvertible {
    /// 1 rejected-permanent, 2 rejected-transient.
    public var result: UInt8
    /// 1 service-user, 2 service-provider (ACSE), 3 service-provider (presentation).
    public var source: UInt8
    public var reason: UInt8

    public init(result: UInt8, source: UInt8, reason: UInt8) {
        (self.result, self.source, self.reason) = (result, source, reason)
    }

    /// Permanent, service-user: called AE title not recognised.
    public static let calledAETitleNotRecognized = AssociateReject(result: 1, source: 1, reason: 7)
    /// Permanent, service-user: calling AE title not recognized (not a registered station).
    public static let callingAETitleNotRecognized = AssociateReject(result: 1, source: 1, reason: 3)
    /// Permanent, service-user: application context name not supported.
    public static let applicationContextNotSupported = AssociateReject(result: 1, source: 1, reason: 2)
    /// Permanent, service-provider (ACSE): protocol version not supported.
    public static let protocolVersionNotSupported = AssociateReject(result: 1, source: 2, reason: 2)
    /// Transient, service-provider (presentation): local limit exceeded.
    public static let localLimitExceeded = AssociateReject(result: 2, source: 3, reason: 2)

    public var description: String {
        let kind = result == 1 ? "permanent" : result == 2 ? "transient" : "result \(result)"
        let why: String
        switch (source, reason) {
        case (1, 1): why = "service-user: no reason given"
        case (1, 2): why = "service-user: application context name not supported"
        case (1, 3): why = "service-user: calling AE title not recognized"
        case (1, 7): why = "service-user: called AE title not recognized"
        case (2, 1): why = "service-provider (ACSE): no reason given"
        case (2, 2): why = "service-provider (ACSE): protocol version not supported"
        case (3, 1): why = "service-provider (presentation): temporary congestion"
        case (3, 2): why = "service-provider (presentation): local limit exceeded"
        default: why = "source \(source), reason \(reason)"
        }
        return "\(kind), \(why)"
    }
}

/// One presentation data value item of a P-DATA-TF PDU (PS3.8 9.3.5.1 and annex E).
public struct PresentationDataValue: Sendable, Hashable {
    public var contextID: UInt8
    /// Message control header bit 0: command (true) or data set (false).
    public var isCommand: Bool
    /// Message control header bit 1: last fragment of the command or data set.
    public var isLast: Bool
    public var data: ArraySlice<UInt8>

    public init(contextID: UInt8, isCommand: Bool, isLast: Bool, data: ArraySlice<UInt8>) {
        (self.contextID, self.isCommand, self.isLast, self.data) = (contextID, isCommand, isLast, data)
    }
}

/// A-ABORT source values (PS3.8 table 9-26).
public enum AbortSource: UInt8, Sendable {
    case serviceUser = 0
    case serviceProvider = 2
}

/// A-ABORT reasons when the source is the service provider (PS3.8 table 9-26).
public enum AbortReason: UInt8, Sendable {
    case notSpecified = 0
    case unrecognizedPDU = 1
    case unexpectedPDU = 2
    case unrecognizedPDUParameter = 4
    case unexpectedPDUParameter = 5
    case invalidPDUParameterValue = 6
}

/// One decoded upper-layer PDU.
public enum PDU: Sendable, Hashable {
    case associateRQ(AssociateRequest)
    case associateAC(AssociateAccept)
    case associateRJ(AssociateReject)
    case dataTF([PresentationDataValue])
    case releaseRQ
    case releaseRP
    case abort(source: UInt8, reason: UInt8)

    public var type: PDUType {
        switch self {
        case .associateRQ: .associateRQ
        case .associateAC: .associateAC
        case .associateRJ: .associateRJ
        case .dataTF: .dataTF
        case .releaseRQ: .releaseRQ
        case .releaseRP: .releaseRP
        case .abort: .abort
        }
    }
}

/// Why bytes were not a valid PDU. Every case names the field that was wrong.
public enum PDUParseError: Error, Sendable, CustomStringConvertible {
    case truncated(StaticString)
    case unknownPDUType(UInt8)
    case pduTooLong(length: UInt32, limit: UInt32)
    case invalidLength(StaticString, Int)
    case tooMany(StaticString, limit: Int)
    case invalidValue(StaticString)
    case missing(StaticString)

    public var description: String {
        switch self {
        case .truncated(let f): "truncated PDU: \(f) runs past the end of its item"
        case .unknownPDUType(let t): "unknown PDU type 0x\(String(t, radix: 16))"
        case .pduTooLong(let l, let limit): "PDU length \(l) exceeds the limit of \(limit) bytes"
        case .invalidLength(let f, let l): "invalid length \(l) for \(f)"
        case .tooMany(let f, let limit): "more than \(limit) \(f)"
        case .invalidValue(let f): "invalid value in \(f)"
        case .missing(let f): "missing \(f)"
        }
    }

    /// The A-ABORT reason that reports this error to the peer.
    public var abortReason: AbortReason {
        switch self {
        case .unknownPDUType: .unrecognizedPDU
        case .invalidValue, .pduTooLong, .invalidLength: .invalidPDUParameterValue
        case .truncated, .tooMany, .missing: .invalidPDUParameterValue
        }
    }
}
