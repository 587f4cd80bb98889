/// Why the store could not keep or read something, with the path or id it concerns.
public enum StoreError: Error, Sendable, CustomStringConvertible {
    /// The database could not be opened, migrated, read or written.
    case database(String, String)
    /// A scan's bytes could not be written or read back.
    case file(String, String)

    public var description: String {
        switch self {
        case .database(let what, let why): return "store \(what): \(why)"
        case .file(let path, let why): return "\(path): \(why)"
        }
    }
}
