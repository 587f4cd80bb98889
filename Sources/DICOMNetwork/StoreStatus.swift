// Pure Swift (no NIO).

/// A DIMSE status (PS3.7 annex C) with its optional Error Comment (0000,0902).
public struct StoreStatus: Sendable, Hashable, CustomStringConvertible {
    public var code: UInt16
    public var errorComment: String?

    public init(code: UInt16, errorComment: String? = nil) {
        self.code = code
        self.errorComment = errorComment
    }

    /// 0000: the object was received and will be processed.
    public static let success = StoreStatus(code: 0x0000)
    /// A700 Refused: out of resources (Vigil's queue is full; the sender should retry later).
    public static func outOfResources(_ comment: String? = nil) -> StoreStatus { StoreStatus(code: 0xA700, errorComment: comment) }
    /// A900 Error: data set does not match SOP class.
    public static func datasetDoesNotMatchSOPClass(_ comment: String? = nil) -> StoreStatus { StoreStatus(code: 0xA900, errorComment: comment) }
    /// C000 Error: cannot understand (e.g. unreadable pixel data).
    public static func cannotUnderstand(_ comment: String? = nil) -> StoreStatus { StoreStatus(code: 0xC000, errorComment: comment) }
    /// 0122 Refused: SOP class not supported (the command named a class other than its context's).
    public static func sopClassNotSupported(_ comment: String? = nil) -> StoreStatus { StoreStatus(code: 0x0122, errorComment: comment) }
    /// Refused: not authorized (PS3.7 C.4.2.1.2): the station may not store this.
    public static func notAuthorized(_ comment: String? = nil) -> StoreStatus { StoreStatus(code: 0x0124, errorComment: comment) }

    /// PS3.7 C.1: warnings are 0001, Bxxx and 0107/0116; cancel FE00; pending FF00/FF01.
    public var isSuccess: Bool { code == 0x0000 }
    public var isWarning: Bool { code == 0x0001 || code & 0xF000 == 0xB000 || code == 0x0107 || code == 0x0116 }
    public var isFailure: Bool { !isSuccess && !isWarning && code != 0xFE00 && code != 0xFF00 && code != 0xFF01 }

    public var description: String {
        let hex = String(code, radix: 16, uppercase: true)
        var s = "status 0x" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
        if let errorComment, !errorComment.isEmpty { s += " (\(errorComment))" }
        return s
    }
}
