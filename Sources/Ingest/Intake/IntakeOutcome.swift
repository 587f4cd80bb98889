/// What became of a scan a station handed over.
public enum IntakeOutcome: Sendable, Equatable {
    /// Durable now (or already, when `duplicate`): the result will follow.
    case accepted(scanId: String, duplicate: Bool)
    /// Not kept: why, in a form both protocols can answer with.
    case refused(IntakeRefusal)
}

/// Why a scan was not accepted; nothing of it was kept.
public struct IntakeRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case badMetadata = "bad-frame"
        case unsupportedFormat = "unsupported-format"
        case unknownProfile = "unknown-profile"
        case busy
        case shuttingDown = "shutting-down"
        case `internal`
        /// The station may not push this scan (not registered, another site or profile, or a
        /// certificate naming another station).
        case forbidden
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
