/// Element-wise math on SIMD vectors, for loops the compiler cannot vectorise through libm calls.
public enum VectorMath {
    /// Natural logarithm, within about 2 ulp of libm for positive normal inputs (Cephes' logf
    /// polynomial). Zero, negative and subnormal inputs return the log of the smallest normal float.
    @inlinable @inline(__always)
    public static func log(_ input: SIMD16<Float>) -> SIMD16<Float> {
        let x = input.replacing(with: Float.leastNormalMagnitude, where: input .< Float.leastNormalMagnitude)
        let bits = unsafeBitCast(x, to: SIMD16<UInt32>.self)
        var exponent = SIMD16<Float>(SIMD16<Int32>(truncatingIfNeeded: bits &>> 23) &- 126)
        // Mantissa scaled into [0.5, 1).
        var m = unsafeBitCast((bits & 0x007F_FFFF) | 0x3F00_0000, to: SIMD16<Float>.self)
        let small = m .< 0.707106781186547524
        exponent = exponent.replacing(with: exponent - 1, where: small)
        m = m.replacing(with: m + m - 1, where: small).replacing(with: m - 1, where: .!small)
        let z = m * m
        var y: SIMD16<Float> = SIMD16(repeating: 7.0376836292e-2)
        y = y * m + -1.1514610310e-1
        y = y * m + 1.1676998740e-1
        y = y * m + -1.2420140846e-1
        y = y * m + 1.4249322787e-1
        y = y * m + -1.6668057665e-1
        y = y * m + 2.0000714765e-1
        y = y * m + -2.4999993993e-1
        y = y * m + 3.3333331174e-1
        y = y * m * z
        y += exponent * -2.12194440e-4
        y -= z * 0.5
        return m + y + exponent * 0.693359375
    }
}

extension VectorMath {
    /// Lane-wise clamp. `SIMD.clamped(lowerBound:upperBound:)` compiles to a per-lane loop here;
    /// compare-and-select stays in vector registers.
    @inlinable @inline(__always)
    public static func clamp(_ v: SIMD16<Float>, _ lo: Float, _ hi: Float) -> SIMD16<Float> {
        let low = SIMD16<Float>(repeating: lo), high = SIMD16<Float>(repeating: hi)
        return v.replacing(with: low, where: v .< low).replacing(with: high, where: v .> high)
    }

    /// e^x, within about 2 ulp of libm (Cephes' expf); saturates outside about ±87.
    ///
    /// Rounding and the float-to-integer step use the 1.5·2^23 trick instead of `rounded()` and
    /// `SIMD16<Int32>(_:)`, which the compiler lowers to one libm call or conversion per lane.
    @inlinable @inline(__always)
    public static func exp(_ input: SIMD16<Float>) -> SIMD16<Float> {
        let x0 = clamp(input, -87.3, 88.3)
        let magic = SIMD16<Float>(repeating: 12_582_912)  // 1.5 · 2^23
        // n = round(x / ln 2); its integer value sits in the low mantissa bits of n + magic.
        let shifted = x0 * 1.44269504088896341 + magic
        let n = shifted - magic
        var x = x0 - n * 0.693359375
        x = x - n * -2.12194440e-4
        let z = x * x
        var y: SIMD16<Float> = SIMD16(repeating: 1.9875691500e-4)
        y = y * x + 1.3981999507e-3
        y = y * x + 8.3334519073e-3
        y = y * x + 4.1665795894e-2
        y = y * x + 1.6666665459e-1
        y = y * x + 5.0000001201e-1
        y = y * z + x + 1
        let integer = unsafeBitCast(shifted, to: SIMD16<Int32>.self) &- unsafeBitCast(magic, to: SIMD16<Int32>.self)
        let scale = unsafeBitCast((integer &+ 127) &<< 23, to: SIMD16<Float>.self)
        return y * scale
    }

    /// 1 / (1 + e^−x).
    @inlinable @inline(__always)
    public static func sigmoid(_ x: SIMD16<Float>) -> SIMD16<Float> {
        1 / (1 + exp(-x))
    }
}
