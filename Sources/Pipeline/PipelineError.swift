import ScanImage

/// Why a scan could not be analysed, with the input it concerns; printed as one line.
public enum PipelineError: Error, Sendable, CustomStringConvertible {
    /// A models folder, manifest or model file is unusable.
    case configuration(String, String)
    /// The scan could not be read or does not fit its profile.
    case input(String, String)
    /// The bytes could not be decoded.
    case unreadable(ScanImageError)

    public var description: String {
        switch self {
        case .configuration(let what, let why), .input(let what, let why): return "\(what): \(why)"
        case .unreadable(let e): return e.description
        }
    }
}
