/// A scan that could not be read or written: the input it concerns and why.
public struct ScanImageError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The reason, in terms a station operator can act on.
    public enum Cause: Sendable, Equatable {
        case unreadable(String)
        case unknownFormat
        case corrupt(String)
        case truncated(String)
        case unsupported(String)
        case limitExceeded(String)
        case noPixelData
        case outOfMemory(String)
        case cannotEncode(String)
    }

    /// File path, or station reference, of the input.
    public var input: String
    public var cause: Cause

    public init(input: String, cause: Cause) {
        self.input = input
        self.cause = cause
    }

    public var description: String {
        let why: String
        switch cause {
        case .unreadable(let s): why = "cannot read: \(s)"
        case .unknownFormat: why = "unknown image format (not DICOM, TIFF, PNG, JPEG or NPY; raw pixels need --raw)"
        case .corrupt(let s): why = "corrupt: \(s)"
        case .truncated(let s): why = "truncated: \(s)"
        case .unsupported(let s): why = "unsupported: \(s)"
        case .limitExceeded(let s): why = "too large: \(s)"
        case .noPixelData: why = "no pixel data"
        case .outOfMemory(let s): why = "out of memory: \(s)"
        case .cannotEncode(let s): why = "cannot write: \(s)"
        }
        return "\(input): \(why)"
    }

    /// Maps a shim's error class (VIGIL_ERR_* / VIGIL_DICOM_*) and message to a cause.
    static func fromShim(code: Int32, message: String, input: String) -> ScanImageError {
        let cause: Cause
        switch code {
        case 2: cause = .unsupported(message)
        case 3: cause = .limitExceeded(message)
        case 4: cause = .truncated(message)
        case 5: cause = .outOfMemory(message)
        case 6: cause = .cannotEncode(message)
        case 7: cause = .noPixelData
        default: cause = .corrupt(message)
        }
        return ScanImageError(input: input, cause: cause)
    }
}
