import Compute
import Foundation

/// An element-wise function fused into the epilogue of the kernel that produces its input,
/// so a convolution's output is written once instead of read and written again.
enum Activation: Sendable, Equatable {
    case none
    case relu
    case leakyRelu(Float)
    case clip(Float, Float)
    case sigmoid
    case silu
    case hardSigmoid(alpha: Float, beta: Float)
    case hardSwish
    case tanh

    /// Applies the activation in place to `count` floats.
    func apply(_ p: UnsafeMutablePointer<Float>, _ count: Int) {
        apply(p, count, bias: 0)
    }

    /// Adds `bias` and applies the activation in one pass (a convolution's epilogue).
    func apply(_ p: UnsafeMutablePointer<Float>, _ count: Int, bias b: Float) {
        switch self {
        case .none: if b != 0 { mapInPlace(p, count) { $0 + b } }
        case .relu: mapInPlace(p, count) { let v = $0 + b; return v.replacing(with: 0, where: v .< 0) }
        case .leakyRelu(let a): mapInPlace(p, count) { let v = $0 + b; return v.replacing(with: v * a, where: v .< 0) }
        case .clip(let lo, let hi): mapInPlace(p, count) { VectorMath.clamp($0 + b, lo, hi) }
        case .sigmoid: mapInPlace(p, count) { VectorMath.sigmoid($0 + b) }
        case .silu: mapInPlace(p, count) { let v = $0 + b; return v * VectorMath.sigmoid(v) }
        case .hardSigmoid(let alpha, let beta): mapInPlace(p, count) { VectorMath.clamp(($0 + b) * alpha + beta, 0, 1) }
        case .hardSwish: mapInPlace(p, count) { let v = $0 + b; return v * VectorMath.clamp(v * (1 / 6) + 0.5, 0, 1) }
        case .tanh: for i in 0..<count { p[i] = Foundation.tanh(p[i] + b) }
        }
    }
}

/// Applies `vector` in place, 16 floats at a time; the tail goes through the same vector code
/// (zero-padded), so a value's result never depends on where a chunk boundary fell.
@inline(__always)
func mapInPlace(_ p: UnsafeMutablePointer<Float>, _ count: Int, _ vector: (SIMD16<Float>) -> SIMD16<Float>) {
    let raw = UnsafeMutableRawPointer(p)
    var i = 0
    while i + 16 <= count {
        raw.storeBytes(of: vector(raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)), toByteOffset: i * 4, as: SIMD16<Float>.self)
        i += 16
    }
    if i < count {
        var tail = SIMD16<Float>.zero
        for k in 0..<(count - i) { tail[k] = p[i + k] }
        tail = vector(tail)
        for k in 0..<(count - i) { p[i + k] = tail[k] }
    }
}
