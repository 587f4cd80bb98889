/// What the station declared about the load (from push metadata, DICOS, or `vigil analyze` flags).
public struct Declaration: Codable, Sendable, Equatable {
    /// Declared goods category (one of the goods model's classes), or nil when not stated.
    public var category: String?
    public var declaredEmpty: Bool

    public init(category: String? = nil, declaredEmpty: Bool = false) {
        self.category = category
        self.declaredEmpty = declaredEmpty
    }
}
