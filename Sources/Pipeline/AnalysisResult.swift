import Profiles

/// The result JSON of DESIGN.md: one per analysed scan.
public struct AnalysisResult: Codable, Sendable, Equatable {
    public struct Image: Codable, Sendable, Equatable {
        public var width: Int
        public var height: Int
        public var channels: [String]
        public var bitsStored: Int
        /// CT slices; absent for radiographs.
        public var frames: Int?
    }

    public struct Box: Codable, Sendable, Equatable {
        public var x: Int
        public var y: Int
        public var width: Int
        public var height: Int

        public init(x: Int, y: Int, width: Int, height: Int) {
            (self.x, self.y, self.width, self.height) = (x, y, width, height)
        }

        /// Whole pixels covering the rectangle, clipped to the image.
        public init(_ r: PixelRect, imageWidth: Int, imageHeight: Int) {
            let x0 = max(0, Int(r.x.rounded(.down))), y0 = max(0, Int(r.y.rounded(.down)))
            let x1 = min(imageWidth, Int((r.x + r.width).rounded(.up))), y1 = min(imageHeight, Int((r.y + r.height).rounded(.up)))
            self.init(x: x0, y: y0, width: max(0, x1 - x0), height: max(0, y1 - y0))
        }
    }

    public struct Finding: Codable, Sendable, Equatable {
        public var kind: String
        public var label: String
        public var confidence: Double
        public var threshold: Double
        public var box: Box
        public var model: String
        /// CT only: first and last slice (inclusive) in which the object was seen.
        public var slices: [Int]?
        /// Paired differences only: the earlier scan of the same vehicle, and the box there.
        public var pairedScanId: String? = nil
        public var otherBox: Box? = nil

        public init(kind: String, label: String, confidence: Double, threshold: Double, box: Box, model: String,
                    slices: [Int]? = nil, pairedScanId: String? = nil, otherBox: Box? = nil) {
            (self.kind, self.label, self.confidence, self.threshold, self.box, self.model) = (kind, label, confidence, threshold, box, model)
            (self.slices, self.pairedScanId, self.otherBox) = (slices, pairedScanId, otherBox)
        }
    }

    public struct ModelTiming: Codable, Sendable, Equatable {
        public var name: String
        public var version: String
        public var ms: Double
    }

    public var scanId: String
    public var source: String
    public var site: String?
    public var station: String?
    public var profile: String
    public var image: Image
    public var verdict: String
    public var findings: [Finding]
    public var models: [ModelTiming]
    public var timingsMs: [String: Double]
    /// Why the verdict is "error" (absent otherwise).
    public var error: String?

    enum CodingKeys: String, CodingKey {
        case scanId, source, site, station, profile, image, verdict, findings, models, timingsMs, error
    }

    /// Site and station are always present (null when unknown), as DESIGN.md's result shows them.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(scanId, forKey: .scanId)
        try c.encode(source, forKey: .source)
        try c.encode(site, forKey: .site)
        try c.encode(station, forKey: .station)
        try c.encode(profile, forKey: .profile)
        try c.encode(image, forKey: .image)
        try c.encode(verdict, forKey: .verdict)
        try c.encode(findings, forKey: .findings)
        try c.encode(models, forKey: .models)
        try c.encode(timingsMs, forKey: .timingsMs)
        try c.encodeIfPresent(error, forKey: .error)
    }
}
