import ScanImage

/// One scanner model as Vigil knows it: what its images mean and how to prepare them for a model.
public struct ScannerProfile: Sendable, Equatable {
    /// Source energy of a channel, as the vendor states it.
    public struct Energy: Sendable, Equatable {
        public enum Unit: String, Sendable, CaseIterable { case MeV, kV }
        public var peak: Double
        public var unit: Unit
    }

    /// A channel in file order, with its calibration (DR only).
    public struct Channel: Sendable, Equatable {
        public var role: ChannelRole
        public var energy: Energy
        /// Mean raw value with nothing in the beam.
        public var air: Double?
        /// Raw value with the beam off.
        public var dark: Double?
    }

    public var id: String
    public var vendor: String
    public var model: String
    public var description: String
    public var sources: [String]
    public var modality: Modality
    public var view: ScanView
    public var bitsStored: Int
    public var channels: [Channel]
    public var pitch: PixelPitch
    /// Distance between CT slices; nil for radiographs.
    public var sliceMM: Double?
    /// Detector pixels across travel (DR) or slice width (CT).
    public var detectorPixels: Int
    public var travelAxis: TravelAxis
    public var flipHorizontal: Bool
    public var flipVertical: Bool
    public var preprocessing: [PreprocessingStep]

    public var isDualEnergy: Bool { channels.count == 2 }
}

/// One step of a profile's preprocessing, applied in the order listed.
public enum PreprocessingStep: Sendable, Equatable {
    /// (I − dark) / (air − dark) per channel: transmission, 1 in air.
    case airNormalise
    /// −ln(max(t, minTransmission)): attenuation, 0 in air.
    case logAttenuation(minTransmission: Float)
    /// x · scale + offset.
    case rescale(scale: Float, offset: Float)
    case clamp(min: Float, max: Float)
    /// Resample to a square pitch, in millimetres.
    case resample(pitchMM: Double)
    /// Cut into overlapping tiles of a model's input size; always last.
    case tile(width: Int, height: Int, overlap: Int)
}
