/// Bounds on what a decoder will accept, checked against declared sizes before any allocation.
public struct ScanLimits: Sendable, Equatable {
    public var maxWidth: Int
    public var maxHeight: Int
    public var maxFrames: Int
    public var maxChannels: Int
    /// Decoded pixel bytes, all frames and channels together.
    public var maxPixelBytes: Int
    /// Size of the encoded file or message.
    public var maxFileBytes: Int

    /// Large enough for a long truck scan at fine pitch (tens of thousands of columns) and a
    /// parcel CT volume; small enough that a hostile header cannot exhaust memory.
    public static let `default` = ScanLimits(
        maxWidth: 65_536, maxHeight: 65_536, maxFrames: 4_096, maxChannels: 4,
        maxPixelBytes: 1 << 30, maxFileBytes: 1 << 30)

    public init(maxWidth: Int, maxHeight: Int, maxFrames: Int, maxChannels: Int, maxPixelBytes: Int, maxFileBytes: Int) {
        self.maxWidth = maxWidth
        self.maxHeight = maxHeight
        self.maxFrames = maxFrames
        self.maxChannels = maxChannels
        self.maxPixelBytes = maxPixelBytes
        self.maxFileBytes = maxFileBytes
    }
}
