/// How raw pixels without a header are laid out; given by the sender's metadata.
public struct RawLayout: Sendable, Equatable, Codable {
    public enum ByteOrder: String, Sendable, Codable { case little, big }

    public var width: Int
    public var height: Int
    /// Planar channels (e.g. 2 for high and low energy), each a full width x height plane.
    public var channels: Int
    public var frames: Int
    public var format: SampleFormat
    public var byteOrder: ByteOrder
    public var bitsStored: Int?
    /// Bytes to skip before the first sample.
    public var headerBytes: Int

    public init(width: Int, height: Int, channels: Int = 1, frames: Int = 1, format: SampleFormat,
                byteOrder: ByteOrder = .little, bitsStored: Int? = nil, headerBytes: Int = 0) {
        self.width = width
        self.height = height
        self.channels = channels
        self.frames = frames
        self.format = format
        self.byteOrder = byteOrder
        self.bitsStored = bitsStored
        self.headerBytes = headerBytes
    }

    /// Parses `WIDTHxHEIGHT[xCHANNELS[xFRAMES]]:FORMAT[le|be]`, e.g. `2048x1024x2:uint16le`.
    public init?(parsing text: String) {
        let parts = text.split(separator: ":")
        guard parts.count == 2 else { return nil }
        let dims = parts[0].split(separator: "x").compactMap { Int($0) }
        guard (2...4).contains(dims.count), dims.allSatisfy({ $0 > 0 }),
              dims.count == parts[0].split(separator: "x").count else { return nil }
        var formatText = String(parts[1]).lowercased()
        var order = ByteOrder.little
        if formatText.hasSuffix("be") {
            order = .big
            formatText.removeLast(2)
        } else if formatText.hasSuffix("le") {
            formatText.removeLast(2)
        }
        guard let format = SampleFormat(rawValue: formatText) else { return nil }
        self.init(width: dims[0], height: dims[1], channels: dims.count > 2 ? dims[2] : 1,
                  frames: dims.count > 3 ? dims[3] : 1, format: format, byteOrder: order)
    }
}
