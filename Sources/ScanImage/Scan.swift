/// What one channel of a scan measures.
public enum ChannelRole: String, Sendable, Codable, CaseIterable {
    /// Single-energy transmission, a CT slice, or any grey image.
    case single
    /// The high-energy image of a dual-energy scanner.
    case high
    /// The low-energy image of a dual-energy scanner.
    case low
    case red, green, blue, alpha
}

/// Radiograph (projection) or computed tomography (slices).
public enum Modality: String, Sendable, Codable {
    case dr = "DR"
    case ct = "CT"
}

/// The direction the scanner looks through the object.
public enum ScanView: String, Sendable, Codable {
    case side, top, volume, unknown
}

/// Which image axis the object travels along during a line scan.
public enum TravelAxis: String, Sendable, Codable {
    /// Travel along columns (x): each column is one detector read-out.
    case x
    /// Travel along rows (y).
    case y
}

/// Distance between pixel centres, in millimetres.
public struct PixelPitch: Sendable, Equatable, Codable {
    public var alongTravelMM: Double
    public var acrossTravelMM: Double

    public init(alongTravelMM: Double, acrossTravelMM: Double) {
        self.alongTravelMM = alongTravelMM
        self.acrossTravelMM = acrossTravelMM
    }
}

/// Where a scan came from and what the sender said about it.
public struct SourceMetadata: Sendable, Equatable {
    /// File format: "dicom", "tiff", "png", "jpeg", "npy" or "raw".
    public var format: String
    public var compression: String?
    /// DICOM transfer syntax UID, when DICOM.
    public var transferSyntax: String?
    public var sopClassUID: String?
    public var sopInstanceUID: String?
    /// The modality attribute as the file states it (DX, CR, CT, OT ...), when DICOM.
    public var declaredModality: String?
    public var station: String?
    public var manufacturer: String?
    public var model: String?
    /// Acquisition time as the file states it (DICOM DT form), when known.
    public var acquisitionTime: String?
    public var rescaleSlope: Double = 1
    public var rescaleIntercept: Double = 0

    public init(format: String) {
        self.format = format
    }
}

/// A decoded scan: typed pixels with their geometry and meaning.
///
/// Invariant: `pixels` holds `frames * channels.count * height * width` samples in planar order.
public struct Scan: Sendable, Equatable {
    public var width: Int
    public var height: Int
    /// CT slices, or pages of a multi-page file; 1 for a plain radiograph.
    public var frames: Int
    public var channels: [ChannelRole]
    public var bitsStored: Int
    public var pixels: PixelData
    public var modality: Modality
    public var view: ScanView
    public var travelAxis: TravelAxis
    /// Nil when the file does not state it and no profile has supplied it.
    public var pitch: PixelPitch?
    /// DICOM photometric interpretation after decoding: MONOCHROME1, MONOCHROME2 or RGB.
    public var photometric: String
    public var source: SourceMetadata

    public init(width: Int, height: Int, frames: Int, channels: [ChannelRole], bitsStored: Int, pixels: PixelData,
                modality: Modality = .dr, view: ScanView = .unknown, travelAxis: TravelAxis = .x,
                pitch: PixelPitch? = nil, photometric: String = "MONOCHROME2", source: SourceMetadata) {
        precondition(pixels.bytes.count == frames * channels.count * width * height * pixels.format.size,
                     "pixel buffer does not match the scan's geometry")
        self.width = width
        self.height = height
        self.frames = frames
        self.channels = channels
        self.bitsStored = bitsStored
        self.pixels = pixels
        self.modality = modality
        self.view = view
        self.travelAxis = travelAxis
        self.pitch = pitch
        self.photometric = photometric
        self.source = source
    }

    public var pixelsPerPlane: Int { width * height }

    /// One channel of one frame, as `Float`.
    public func plane(frame: Int = 0, channel: Int) -> [Float] {
        pixels.floatPlane(index: frame * channels.count + channel, planeSize: pixelsPerPlane)
    }

    /// The sample at (x, y) of a channel and frame, for tests and diagnostics.
    public func sample(x: Int, y: Int, channel: Int = 0, frame: Int = 0) -> Double {
        pixels.value(at: (frame * channels.count + channel) * pixelsPerPlane + y * width + x)
    }
}
