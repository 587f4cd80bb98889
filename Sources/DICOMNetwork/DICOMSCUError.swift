// Pure Swift (no NIO).

/// Why a C-STORE from Vigil did not succeed; prints as one line naming the object, the peer and the cause.
public struct DICOMSCUError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, with the peer's own answer where there was one.
    public enum Cause: Sendable, Hashable {
        case invalidObject(String)
        case connectionFailed(String)
        case associationRejected(AssociateReject)
        case associationAborted(source: UInt8, reason: UInt8)
        case noAcceptablePresentationContext(sopClassUID: String)
        case timeout(seconds: Int64)
        case storeFailed(StoreStatus)
        case protocolError(String)
        case connectionClosed
    }

    /// "AE@host:port".
    public var peer: String
    /// The SOP instance being sent (or "object" when it could not be read).
    public var object: String
    public var cause: Cause

    public init(peer: String, object: String, cause: Cause) {
        (self.peer, self.object, self.cause) = (peer, object, cause)
    }

    public var description: String {
        let why: String
        switch cause {
        case .invalidObject(let s): why = "not a sendable DICOM object: \(s)"
        case .connectionFailed(let s): why = "cannot connect: \(s)"
        case .associationRejected(let rj): why = "association rejected (\(rj))"
        case .associationAborted(let source, let reason): why = "association aborted by the peer (source \(source), reason \(reason))"
        case .noAcceptablePresentationContext(let uid): why = "the peer accepts no presentation context for SOP class \(uid)"
        case .timeout(let s): why = "no answer within \(s) s"
        case .storeFailed(let status): why = "C-STORE failed with \(status)"
        case .protocolError(let s): why = "protocol error: \(s)"
        case .connectionClosed: why = "the peer closed the connection"
        }
        return "C-STORE of \(object) to \(peer): \(why)"
    }
}
