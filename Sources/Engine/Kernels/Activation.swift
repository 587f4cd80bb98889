import CKernels
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

    /// Adds `bias` and applies the activation in one pass (a convolution's epilogue), with the
    /// widest SIMD the CPU has (see CKernels).
    func apply(_ p: UnsafeMutablePointer<Float>, _ count: Int, bias: Float) {
        switch self {
        case .none: if bias != 0 { vigil_bias_activation(p, count, bias, VIGIL_ACT_NONE, 0, 0) }
        case .relu: vigil_bias_activation(p, count, bias, VIGIL_ACT_RELU, 0, 0)
        case .leakyRelu(let a): vigil_bias_activation(p, count, bias, VIGIL_ACT_LEAKY_RELU, a, 0)
        case .clip(let lo, let hi): vigil_bias_activation(p, count, bias, VIGIL_ACT_CLIP, lo, hi)
        case .sigmoid: vigil_bias_activation(p, count, bias, VIGIL_ACT_SIGMOID, 0, 0)
        case .silu: vigil_bias_activation(p, count, bias, VIGIL_ACT_SILU, 0, 0)
        case .hardSigmoid(let alpha, let beta): vigil_bias_activation(p, count, bias, VIGIL_ACT_HARD_SIGMOID, alpha, beta)
        case .hardSwish: vigil_bias_activation(p, count, bias, VIGIL_ACT_HARD_SWISH, 0, 0)
        case .tanh: for i in 0..<count { p[i] = Foundation.tanh(p[i] + bias) }
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
