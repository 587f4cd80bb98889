import Compute

/// What scan A's high-energy attenuation would be for what scan B saw: a quadratic in B's two
/// channels (or a cubic in its one), with no constant term, so that air stays air. Two scanners see a material through different spectra, and the
/// ratio of their attenuations depends on the material and its thickness; B's two energies tell
/// those apart (that is what dual energy is for), so one smooth function of both maps B onto A for
/// every material, where a single factor would leave every object's outline as a difference.
struct EnergyMapping: Sendable {
    var coefficients: [Double]
    var dualEnergy: Bool

    /// The terms of the polynomial at one pixel of B.
    @inline(__always) static func terms(_ high: Double, _ low: Double?, into t: inout [Double]) {
        if let low {
            t[0] = high; t[1] = low; t[2] = high * high; t[3] = high * low; t[4] = low * low
        } else {
            t[0] = high; t[1] = high * high; t[2] = high * high * high
        }
    }

    /// Least squares over pixels where either scan sees matter, registered by `registration`; twice
    /// more without the pixels beyond 3σ (what changed, and misregistered edges).
    static func fit(_ a: AttenuationImage, _ b: AttenuationImage, _ registration: Registration) -> EnergyMapping {
        let dual = b.low != nil
        let n = dual ? 5 : 3
        var samples: [(a: Double, high: Double, low: Double?)] = []
        for y in stride(from: 1, to: a.height - 1, by: 3) {
            let by = registration.rowInB(y)
            guard by >= 1, by <= Double(b.height - 2) else { continue }
            for x in stride(from: 1, to: a.width - 1, by: 3) {
                let bx = registration.columnInB(x)
                guard bx >= 1, bx <= Double(b.width - 2) else { continue }
                let av = Double(a.values[y * a.width + x]), high = Double(b.sample(bx, by))
                guard av > 0.05 || high > 0.05 else { continue }
                samples.append((av, high, b.low.map { Double(b.sample(bx, by, plane: $0)) }))
            }
        }
        var mapping = EnergyMapping(coefficients: dual ? [1, 0, 0, 0, 0] : [1, 0, 0], dualEnergy: dual)
        guard samples.count > 100 else { return mapping }
        var limit = Double.infinity
        var t = [Double](repeating: 0, count: n)
        for _ in 0..<3 {
            var m = [Double](repeating: 0, count: n * n), rhs = [Double](repeating: 0, count: n)
            for s in samples where abs(s.a - mapping.value(s.high, s.low)) <= limit {
                terms(s.high, s.low, into: &t)
                for i in 0..<n {
                    rhs[i] += t[i] * s.a
                    for j in 0...i { m[i * n + j] += t[i] * t[j] }
                }
            }
            for i in 0..<n { for j in 0..<i { m[j * n + i] = m[i * n + j] } }
            let ridge = (0..<n).map { m[$0 * n + $0] }.max()! * 1e-12
            for i in 0..<n { m[i * n + i] += ridge }
            guard let c = Registration.solve(m, rhs, n) else { break }
            mapping.coefficients = c
            let residuals = samples.map { abs($0.a - mapping.value($0.high, $0.low)) }
            limit = 3 * 1.4826 * kthSmallest(residuals, residuals.count / 2) + 1e-4
        }
        return mapping
    }

    @inline(__always) func value(_ high: Double, _ low: Double?) -> Double {
        let c = coefficients
        if dualEnergy, let low {
            return c[0] * high + c[1] * low + c[2] * high * high + c[3] * high * low + c[4] * low * low
        }
        return high * (c[0] + high * (c[1] + high * (dualEnergy ? 0 : c[2])))
    }

    /// B's image in A's energy (B's pixels, B's geometry, one channel).
    func apply(to b: AttenuationImage, pool: WorkerPool) -> AttenuationImage {
        var out = b
        out.low = nil
        out.values.withUnsafeMutableBufferPointer { dst in
            let d = UnsafeSendableBuffer(dst)
            pool.forEachRange(b.values.count, minimumChunk: 4096) { range in
                for i in range {
                    d.base[i] = Float(value(Double(b.values[i]), b.low.map { Double($0[i]) }))
                }
            }
        }
        return out
    }
}
