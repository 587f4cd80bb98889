/// An 8-bit grey rendering of one channel of one frame for people: windowed, then PNG.
public enum ScanPreview {
    /// A window over raw sample values; nil bounds mean "from the image" (0.5th and 99.5th percentiles).
    public struct Window: Sendable, Equatable {
        public var low: Double?
        public var high: Double?

        public init(low: Double? = nil, high: Double? = nil) { (self.low, self.high) = (low, high) }

        /// From DICOM-style centre (level) and width.
        public init(level: Double, width: Double) { self.init(low: level - width / 2, high: level + width / 2) }
    }

    /// PNG bytes of `frame` (default: the middle one) and `channel` of `scan`.
    public static func png(_ scan: Scan, frame: Int? = nil, channel: Int = 0, window: Window = .init()) throws(ScanImageError) -> [UInt8] {
        let f = min(max(0, frame ?? scan.frames / 2), scan.frames - 1)
        let c = min(max(0, channel), scan.channels.count - 1)
        let plane = scan.plane(frame: f, channel: c)
        let (low, high) = bounds(plane, window)
        let scale = high > low ? 255 / (high - low) : 0
        var out = [UInt8](repeating: 0, count: plane.count)
        for i in plane.indices {
            let v = (Double(plane[i]) - low) * scale
            out[i] = UInt8(max(0, min(255, v.rounded())))
        }
        let grey = Scan(width: scan.width, height: scan.height, frames: 1, channels: [.single], bitsStored: 8,
                        pixels: PixelData(format: .uint8, bytes: out), source: scan.source)
        return try ScanEncoder.encode(grey, as: .png, output: "preview")
    }

    static func bounds(_ plane: [Float], _ window: Window) -> (Double, Double) {
        if let low = window.low, let high = window.high { return (low, high) }
        // Percentiles from a strided sample: a 4-megapixel plane needs no full sort.
        let step = max(1, plane.count / 65_536)
        var sample: [Float] = []
        sample.reserveCapacity(plane.count / step + 1)
        var i = 0
        while i < plane.count { sample.append(plane[i]); i += step }
        sample.sort()
        guard let first = sample.first else { return (0, 1) }
        let lo = Double(sample[Int(Double(sample.count - 1) * 0.005)])
        let hi = Double(sample[Int(Double(sample.count - 1) * 0.995)])
        return (window.low ?? lo, window.high ?? (hi > lo ? hi : Double(first) + 1))
    }
}
