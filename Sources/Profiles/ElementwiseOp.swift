import CKernels
import Compute

/// An element-wise preprocessing operation, applied in place with SIMD over a block of floats.
enum ElementwiseOp: Sendable {
    /// Per channel (air, dark): (x − dark) / (air − dark).
    case airNormalise([(air: Float, dark: Float)])
    case negativeLog(minTransmission: Float)
    case affine(scale: Float, offset: Float)
    case clamp(Float, Float)

    func apply(_ p: UnsafeMutablePointer<Float>, count: Int, channel: Int) {
        switch self {
        case .airNormalise(let calibration):
            let (air, dark) = calibration[channel]
            let range = air - dark
            map(p, count) { ($0 - dark) / range } scalar: { ($0 - dark) / range }
        case .negativeLog(let minT):
            // In C, where the loop gets AVX-512 or AVX2 (Swift here is baseline x86-64): the same bits.
            vigil_negative_log(p, count, minT)
        case .affine(let scale, let offset):
            map(p, count) { $0 * scale + offset } scalar: { $0 * scale + offset }
        case .clamp(let lo, let hi):
            map(p, count) { VectorMath.clamp($0, lo, hi) } scalar: {
                min(max($0, lo), hi)
            }
        }
    }
}

/// Applies `vector` 16 floats at a time and `scalar` to the tail; both must compute the same function.
@inline(__always)
private func map(_ p: UnsafeMutablePointer<Float>, _ count: Int, _ vector: (SIMD16<Float>) -> SIMD16<Float>,
                 scalar: (Float) -> Float) {
    let raw = UnsafeMutableRawPointer(p)
    var i = 0
    while i + 16 <= count {
        let v = raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
        raw.storeBytes(of: vector(v), toByteOffset: i * 4, as: SIMD16<Float>.self)
        i += 16
    }
    while i < count {
        p[i] = scalar(p[i])
        i += 1
    }
}
