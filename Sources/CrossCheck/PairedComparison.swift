import Compute
import Profiles
import ScanImage

/// Two scans of one vehicle compared: what attenuates in one and not in the other, beyond both
/// scans' noise, after registration. A is the earlier scan; `added` means B holds more.
public struct PairedComparison: Sendable {
    /// One region that does not cancel out.
    public struct Difference: Sendable, Equatable {
        /// True when the later scan (B) attenuates more there: something was added.
        public var added: Bool
        public var confidence: Double
        /// In each scan's received pixels.
        public var boxA: PixelRect
        public var boxB: PixelRect
        /// Significance of the region: summed difference over noise × √area.
        public var significance: Double
        /// Mean attenuation difference over the region (−ln I/I₀ of A's high channel).
        public var meanDifference: Double
    }

    public var registration: Registration
    /// Scale that brings B's attenuation to A's energy (robust ratio over the vehicle).
    public var scale: Double
    /// Noise of the difference image (robust σ), attenuation units.
    public var noise: Double
    public var differences: [Difference]
    /// How the compared images' pixels map to each scan as received.
    public var geometryA: ScanGeometry
    public var geometryB: ScanGeometry

    /// Compares two scans, each interpreted by its own profile.
    public static func compare(_ a: Scan, profileA: ScannerProfile, _ b: Scan, profileB: ScannerProfile,
                               pool: WorkerPool = .shared) throws(CrossCheckError) -> PairedComparison {
        try compare(AttenuationImage(a, profile: profileA, pool: pool), AttenuationImage(b, profile: profileB, pool: pool), pool: pool)
    }

    /// Compares two attenuation images at the coarser of their pitches.
    public static func compare(_ a: AttenuationImage, _ b: AttenuationImage, pool: WorkerPool = .shared) throws(CrossCheckError) -> PairedComparison {
        guard a.modality == b.modality, a.view == b.view || a.view == .unknown || b.view == .unknown else {
            throw .incompatible("a \(a.modality.rawValue) \(a.view.rawValue) scan cannot be compared with a \(b.modality.rawValue) \(b.view.rawValue) scan")
        }
        guard max(a.lengthMM, b.lengthMM) / max(1, min(a.lengthMM, b.lengthMM)) < 1.5 else {
            throw .incompatible("the scans are \(Int(a.lengthMM / 10)) cm and \(Int(b.lengthMM / 10)) cm long: not the same vehicle")
        }
        for (name, image) in [("A", a), ("B", b)] where image.values.lazy.filter({ $0 > 0.1 }).count < image.values.count / 100 {
            throw .incompatible("scan \(name) shows no vehicle (under 1 % of its pixels attenuate)")
        }
        let pitch = max(a.pitchMM, b.pitchMM)
        let ia = a.resampled(toPitchMM: pitch, pool: pool), ib = b.resampled(toPitchMM: pitch, pool: pool)
        let coarse = Registration.find(ia, ib, maxShift: ia.width / 4, pool: pool)
        // B in A's energy, fitted on the coarse registration, then again on the refined one.
        let mappedCoarse = EnergyMapping.fit(ia, ib, coarse).apply(to: ib, pool: pool)
        let registration = Registration.refine(ia, mappedCoarse, coarse, pool: pool)
        let mapped = EnergyMapping.fit(ia, ib, registration).apply(to: ib, pool: pool)
        return compare(ia, mapped, registration: registration)
    }

    /// The factor bringing B's attenuation to A's: the median ratio where both see matter.
    static func energyScale(_ a: AttenuationImage, _ b: AttenuationImage, _ registration: Registration) -> Float {
        var ratios: [Float] = []
        for y in stride(from: 0, to: a.height, by: 2) {
            let by = registration.rowInB(y)
            for x in stride(from: 0, to: a.width, by: 2) {
                let av = a.values[y * a.width + x], bv = b.sample(registration.columnInB(x), by)
                if av > 0.3, av < 6, bv > 0.3 { ratios.append(av / bv) }
            }
        }
        guard !ratios.isEmpty else { return 1 }
        return kthSmallest(ratios, ratios.count / 2)
    }

    /// Where a point of scan A (received pixel coordinates) lies in scan B, by the registration.
    public func pointInB(x: Double, y: Double) -> (x: Double, y: Double) {
        let p = geometryA.toPrepared(x: x + 0.5, y: y + 0.5)
        let column = min(registration.shift.count - 1, max(0, Int(p.x)))
        let bx = p.x + registration.shift[column], by = (p.y - 0.5) * registration.scaleY + registration.dy + 0.5
        let r = geometryB.toReceived(x: bx, y: by)
        return (r.x - 0.5, r.y - 0.5)
    }

    /// Calibration differences the energy mapping leaves grow with the attenuation: 2 % of A's is
    /// tolerated. Measured on 40 simulated pairs: at 1 % tyres and engine blocks gave 12 false
    /// differences in 16 unchanged pairs, at 2 % none.
    static let relativeTolerance: Float = 0.02

    static func compare(_ a: AttenuationImage, _ b: AttenuationImage, registration: Registration, pool: WorkerPool = .shared) -> PairedComparison {
        let (w, h) = (a.width, a.height)
        // B warped onto A.
        var warped = [Float](repeating: 0, count: w * h)
        fill(&warped, h, pool) { y, out in
            let by = registration.rowInB(y)
            for x in 0..<w { out[y * w + x] = b.sample(registration.columnInB(x), by) }
        }
        let scale = energyScale(a, b, registration)
        // Difference, keeping at each pixel the smallest of its 5 x 5 neighbourhood's differences: an
        // edge misregistered by up to two pixels does not survive, a real object does (smaller
        // neighbourhoods, or opening the thresholded map instead, found no more changes on simulated
        // pairs and reported more false ones).
        var diff = [Float](repeating: 0, count: w * h)
        warped.withUnsafeBufferPointer { wb in
            a.values.withUnsafeBufferPointer { av in
                fill(&diff, h, pool) { y, out in
                    // Same taps in the same order everywhere: inside, 16 pixels at a time with no clamping.
                    func pixel(_ x: Int) -> Float {
                        let value = av[y * w + x]
                        var best = Float.infinity
                        for dy in -2...2 {
                            let row = min(h - 1, max(0, y + dy)) * w
                            for dx in -2...2 {
                                let d = value - scale * wb[row + min(w - 1, max(0, x + dx))]
                                if abs(d) < abs(best) { best = d }
                            }
                        }
                        return best
                    }
                    var x = 0
                    while x < min(2, w) { out[y * w + x] = pixel(x); x += 1 }
                    let scaleV = SIMD16<Float>(repeating: scale)
                    // |v| lane by lane, as abs() gives it for each Float (NaN stays NaN).
                    func magnitude(_ v: SIMD16<Float>) -> SIMD16<Float> { v.replacing(with: -v, where: v .< 0) }
                    while x + 16 <= w - 2 {
                        let value = Registration.load16(av.baseAddress! + y * w + x)
                        var best = SIMD16<Float>(repeating: .infinity)
                        for dy in -2...2 {
                            let row = min(h - 1, max(0, y + dy)) * w
                            for dx in -2...2 {
                                let d = value - scaleV * Registration.load16(wb.baseAddress! + row + x + dx)
                                best.replace(with: d, where: magnitude(d) .< magnitude(best))
                            }
                        }
                        Registration.store16(best, out + y * w + x)
                        x += 16
                    }
                    while x < w { out[y * w + x] = pixel(x); x += 1 }
                }
            }
        }
        // 3 x 3 mean: the regions sought are tens of pixels across; noise drops by three.
        var smooth = [Float](repeating: 0, count: w * h)
        fill(&smooth, h, pool) { y, out in
            for x in 0..<w {
                var s: Float = 0
                for dy in -1...1 { for dx in -1...1 { s += diff[min(h - 1, max(0, y + dy)) * w + min(w - 1, max(0, x + dx))] } }
                out[y * w + x] = s / 9
            }
        }
        // Noise grows with attenuation (fewer photons through dense matter): a robust σ per band of
        // attenuation, over the pixels where either scan sees matter.
        let bands = 24, top: Float = 12
        var byBand = [[Float]](repeating: [], count: bands)
        // Banded by the lesser of the two attenuations: a large change would otherwise fill a band of
        // its own and be taken for that band's noise (a 38 g/cm² block was missed so).
        func band(_ i: Int) -> Int { min(bands - 1, max(0, Int(min(a.values[i], scale * warped[i]) / top * Float(bands)))) }
        for i in stride(from: 0, to: w * h, by: 3) where a.values[i] > 0.05 || warped[i] > 0.05 {  // every third pixel is plenty
            byBand[band(i)].append(abs(smooth[i]))
        }
        var sigmaOf = [Double](repeating: 0, count: bands)
        var fallback = 1e-3
        for k in 0..<bands where byBand[k].count >= 100 {
            sigmaOf[k] = max(1e-4, Registration.robustSigma(byBand[k].map(Double.init))!)
            fallback = max(fallback, sigmaOf[k])
        }
        for k in 0..<bands where sigmaOf[k] == 0 { sigmaOf[k] = fallback }  // too few pixels: be conservative
        // Each pixel in units of its own noise, beyond what misregistration of an edge leaves (the
        // local gradient of A times a pixel and a half) and what calibration leaves.
        var z = [Float](repeating: 0, count: w * h)
        fill(&z, h, pool) { y, out in
            let by = registration.rowInB(y)
            for x in 0..<w {
                let i = y * w + x
                // Where B saw nothing of A's view (beyond its top, bottom or ends) there is nothing to compare.
                let bx = registration.columnInB(x)
                let valid = bx >= 2 && bx <= Double(b.width - 3) && by >= 2 && by <= Double(b.height - 3)
                let gx = abs(a.at(x + 1, y) - a.at(x - 1, y)) / 2, gy = abs(a.at(x, y + 1) - a.at(x, y - 1)) / 2
                let sigma = Float(sigmaOf[band(i)])
                let excess = valid ? max(0, abs(smooth[i]) - 1.5 * max(gx, gy) - relativeTolerance * abs(a.values[i])) : 0
                out[i] = (smooth[i] < 0 ? -excess : excess) / sigma
            }
        }
        let sigma = sigmaOf[1]
        let kept = regions(z, w, h, sigma: 1, threshold: 5).filter { r in
            let (bw, bh) = (r.x1 - r.x0 + 1, r.y1 - r.y0 + 1)
            // Objects, not specks: at least 40 pixels, 5 x 5 (3 x 3 cm at 6 mm), and significant.
            guard r.count >= 40, bw >= 5, bh >= 5, r.sum / Double(r.count).squareRoot() >= 60 else { return false }
            return !explainedByShift(r, a, b, registration, scale: scale, sigma: Float(sigmaOf[band(r.y0 * w + r.x0)]))
        }
        let differences = merged(kept, gap: 6).map { r -> Difference in
            let significance = r.sum / Double(r.count).squareRoot()
            let (bw, bh) = (r.x1 - r.x0 + 1, r.y1 - r.y0 + 1)
            let boxA = PixelRect(x: Double(r.x0), y: Double(r.y0), width: Double(bw), height: Double(bh))
            let s0 = registration.shift[r.x0], s1 = registration.shift[r.x1]
            let boxB = PixelRect(x: registration.columnInB(r.x0), y: registration.rowInB(r.y0),
                                 width: Double(bw) + s1 - s0, height: Double(bh) * registration.scaleY)
            var mean = 0.0
            for y in r.y0...r.y1 { for x in r.x0...r.x1 where abs(z[y * w + x]) > 5 { mean += Double(smooth[y * w + x]) } }
            return Difference(added: !r.positive, confidence: min(0.999, 1 - Foundation.exp(-(significance - 60) / 60)),
                              boxA: a.geometry.toReceived(boxA), boxB: b.geometry.toReceived(boxB), significance: significance,
                              meanDifference: mean / Double(r.count))
        }
        return PairedComparison(registration: registration, scale: Double(scale), noise: sigma,
                                differences: differences.sorted { $0.significance > $1.significance },
                                geometryA: a.geometry, geometryB: b.geometry)
    }

    /// Whether moving B a little (up to 4 px along travel, 2 px across) around the region makes it
    /// cancel: then it is an edge the registration missed (at the vehicle's ends, where little
    /// texture pins the shift), not something added or removed, which no shift makes cancel.
    /// Measured over the region's box grown by the search range, so a real object moved by the
    /// search still counts.
    static func explainedByShift(_ r: Region, _ a: AttenuationImage, _ b: AttenuationImage, _ registration: Registration,
                                 scale: Float, sigma: Float) -> Bool {
        let x0 = max(0, r.x0 - 5), x1 = min(a.width - 1, r.x1 + 5), y0 = max(0, r.y0 - 3), y1 = min(a.height - 1, r.y1 + 3)
        // Every pixel of a small box; a sparser grid over a large one.
        let stride = max(1, Int((Double((x1 - x0 + 1) * (y1 - y0 + 1)) / 4000).squareRoot()))
        func excess(_ dx: Double, _ dy: Double) -> Float {
            var total: Float = 0
            for y in Swift.stride(from: y0, through: y1, by: stride) {
                let by = registration.rowInB(y) + dy
                for x in Swift.stride(from: x0, through: x1, by: stride) {
                    let d = a.values[y * a.width + x] - scale * b.sample(registration.columnInB(x) + dx, by)
                    total += max(0, abs(d) - 3 * sigma)
                }
            }
            return total
        }
        let original = excess(0, 0)
        for dy in Swift.stride(from: -2.0, through: 2.0, by: 1) {
            for dx in Swift.stride(from: -4.0, through: 4.0, by: 1) where excess(dx, dy) < 0.3 * original { return true }
        }
        return false
    }

    /// Runs `body(y, out)` for every row of `array` on the pool; each row writes only its own pixels.
    static func fill<T>(_ array: inout [T], _ h: Int, _ pool: WorkerPool, _ body: (Int, UnsafeMutablePointer<T>) -> Void) {
        array.withUnsafeMutableBufferPointer { buffer in
            let out = UnsafeSendableBuffer(buffer)
            pool.forEachRange(h, minimumChunk: 16) { range in for y in range { body(y, out.base) } }
        }
    }

    struct Region {
        var positive: Bool
        var count = 0
        var sum = 0.0
        var x0 = Int.max, y0 = Int.max, x1 = -1, y1 = -1
    }

    /// Regions of one sign whose boxes come within `gap` pixels of each other, as one: a filled
    /// compartment's change shows along its walls in pieces, and the analyst wants one box for it.
    static func merged(_ regions: [Region], gap: Int) -> [Region] {
        var out = regions
        var changed = true
        while changed {
            changed = false
            search: for i in out.indices {
                for j in out.indices where j > i && out[i].positive == out[j].positive {
                    let (p, q) = (out[i], out[j])
                    guard p.x0 - gap <= q.x1, q.x0 - gap <= p.x1, p.y0 - gap <= q.y1, q.y0 - gap <= p.y1 else { continue }
                    out[i] = Region(positive: p.positive, count: p.count + q.count, sum: p.sum + q.sum,
                                    x0: min(p.x0, q.x0), y0: min(p.y0, q.y0), x1: max(p.x1, q.x1), y1: max(p.y1, q.y1))
                    out.remove(at: j)
                    changed = true
                    break search
                }
            }
        }
        return out
    }

    /// Connected regions (4-neighbours) of one sign beyond `threshold` σ.
    static func regions(_ d: [Float], _ w: Int, _ h: Int, sigma: Double, threshold: Double) -> [Region] {
        var seen = [Bool](repeating: false, count: w * h)
        var out: [Region] = []
        let limit = Float(sigma * threshold)
        var stack: [Int] = []
        for start in 0..<(w * h) where !seen[start] && abs(d[start]) > limit {
            let positive = d[start] > 0
            var r = Region(positive: positive)
            stack.append(start)
            seen[start] = true
            while let i = stack.popLast() {
                let x = i % w, y = i / w
                r.count += 1
                r.sum += Double(abs(d[i]))
                (r.x0, r.y0, r.x1, r.y1) = (min(r.x0, x), min(r.y0, y), max(r.x1, x), max(r.y1, y))
                for (nx, ny) in [(x - 1, y), (x + 1, y), (x, y - 1), (x, y + 1)] where nx >= 0 && nx < w && ny >= 0 && ny < h {
                    let j = ny * w + nx
                    if !seen[j], abs(d[j]) > limit, (d[j] > 0) == positive {
                        seen[j] = true
                        stack.append(j)
                    }
                }
            }
            out.append(r)
        }
        return out
    }
}

/// Why two scans cannot be compared, in one line.
public enum CrossCheckError: Error, Sendable, CustomStringConvertible {
    case incompatible(String)

    public var description: String {
        switch self {
        case .incompatible(let why): return why
        }
    }
}

import Foundation
