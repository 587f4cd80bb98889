import Foundation

/// A seeded generator (SplitMix64): the same seed gives the same scans on every machine.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64
    private var spare: Double? = nil

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [lo, hi).
    public mutating func uniform(_ lo: Double, _ hi: Double) -> Double {
        lo + (hi - lo) * Double(next() >> 11) / Double(1 << 53)
    }

    /// Standard normal (Marsaglia's polar method: one log and one square root per two values).
    public mutating func gaussian() -> Double {
        if let s = spare {
            spare = nil
            return s
        }
        while true {
            let u = uniform(-1, 1), v = uniform(-1, 1)
            let r = u * u + v * v
            if r > 0 && r < 1 {
                let f = (-2 * Foundation.log(r) / r).squareRoot()
                spare = v * f
                return u * f
            }
        }
    }

    /// Poisson with mean `lambda`: exact for small means, normal approximation above 64.
    public mutating func poisson(_ lambda: Double) -> Double {
        if lambda > 64 { return max(0, Double(Int(lambda + lambda.squareRoot() * gaussian() + 0.5))) }
        let limit = Foundation.exp(-lambda)
        var k = 0.0, p = 1.0
        repeat {
            k += 1
            p *= uniform(0, 1)
        } while p > limit
        return k - 1
    }

    public mutating func pick<T>(_ options: [T]) -> T { options[Int(next() % UInt64(options.count))] }
}
