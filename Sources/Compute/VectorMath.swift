/// Element-wise math on SIMD vectors, for loops the compiler cannot vectorise through libm calls.
public enum VectorMath {
    /// Natural logarithm, within about 2 ulp of libm for positive normal inputs (Cephes' logf
    /// polynomial). Zero, negative and subnormal inputs return the log of the smallest normal float.
    @inlinable
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
