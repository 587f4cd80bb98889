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
