import NPYFormat

/// How one sample is stored in memory (host byte order).
public enum SampleFormat: String, Sendable, Codable, CaseIterable {
    case uint8, int8, uint16, int16, uint32, int32, float32

    /// Bytes per sample.
    public var size: Int {
        switch self {
        case .uint8, .int8: return 1
        case .uint16, .int16: return 2
        case .uint32, .int32, .float32: return 4
        }
    }

    public var isSigned: Bool { self == .int8 || self == .int16 || self == .int32 || self == .float32 }

    /// The format for `bits`-wide samples of the given kind (1 unsigned, 2 signed, 3 float).
    init?(bits: Int, kind: UInt32) {
        switch (bits, kind) {
        case (8, 1): self = .uint8
        case (8, 2): self = .int8
        case (16, 1): self = .uint16
        case (16, 2): self = .int16
        case (32, 1): self = .uint32
        case (32, 2): self = .int32
        case (32, 3): self = .float32
        default: return nil
        }
    }
}

extension SampleFormat {
    /// The NumPy element type with the same layout.
    public var npyType: NPYArray.DType {
        switch self {
        case .uint8: return .uint8
        case .int8: return .int8
        case .uint16: return .uint16
        case .int16: return .int16
        case .uint32: return .uint32
        case .int32: return .int32
        case .float32: return .float32
        }
    }

    /// The sample format of a NumPy element type, when a scan can hold it.
    public init?(npy: NPYArray.DType) {
        guard let match = SampleFormat.allCases.first(where: { $0.npyType == npy }) else { return nil }
        self = match
    }
}
