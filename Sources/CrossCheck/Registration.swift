import Compute

/// Where scan B's pixels are for each pixel of scan A, in the common space:
/// B(x + shift[x], y · scaleY + dy). The vehicle sits at another height (`dy`), the scanners'
/// geometry (source distance, calibration) gives another vertical magnification (`scaleY`), and it
/// travelled at another, uneven speed (`shift` varies along the scan). Found first from 1-D
/// profiles, which the changes sought barely move (`find`), then on the images (`refine`).
public struct Registration: Sendable, Equatable {
    /// Vertical offset, pixels.
    public var dy: Double
    /// Vertical magnification of B relative to A.
    public var scaleY: Double
    /// Horizontal displacement per column of A, pixels.
    public var shift: [Double]

    /// The column of B (fractional) that column `x` of A saw.
    @inline(__always) func columnInB(_ x: Int) -> Double { Double(x) + shift[x] }
    /// The row of B (fractional) that row `y` of A saw.
    @inline(__always) func rowInB(_ y: Int) -> Double { Double(y) * scaleY + dy }

    /// The robust σ of magnitudes (the median, scaled for a normal distribution); nil when there are none.
    static func robustSigma<T: BinaryFloatingPoint>(_ magnitudes: [T]) -> T? {
        guard !magnitudes.isEmpty else { return nil }
        return kthSmallest(magnitudes, magnitudes.count / 2) * 1.4826
    }

    /// Finds the registration of `b` onto `a`. `maxShift` bounds the search (pixels).
    static func find(_ a: AttenuationImage, _ b: AttenuationImage, maxShift: Int, pool: WorkerPool) -> Registration {
        let (scaleY, dy) = vertical(a.rowProfile, b.rowProfile, pool: pool)
        let ca = a.columnProfile, cb = b.columnProfile
        // Global shift first. Speed wobbles smoothly (a few percent), so the displacement drifts by
        // at most a couple of pixels between neighbouring windows: start from the most distinctive
        // window, searched widely around the global shift, and track outwards in small steps.
        let global = bestOffset(ca, cb, range: -maxShift...maxShift)
        let half = 48, step = 24
        var windows: [Int] = []
        var x = half
        while x + half <= a.width { windows.append(x); x += step }
        func match(_ x: Int, around centre: Double, radius: Int) -> (score: Double, shift: Double) {
            let window = Array(ca[(x - half)..<(x + half)])
            let c = Int(centre.rounded())
            var best = (score: -Double.infinity, shift: centre)
            var scores: [Int: Double] = [:]
            for s in (c - radius)...(c + radius) {
                let start = x - half + s
                guard start >= 0, start + 2 * half <= cb.count else { continue }
                let score = correlation(window, Array(cb[start..<(start + 2 * half)]))
                scores[s] = score
                if score > best.score { best = (score, Double(s)) }
            }
            let s = Int(best.shift)
            if let l = scores[s - 1], let r = scores[s + 1] { best.shift += parabola(l, best.score, r) }
            return best
        }
        let wide = windows.map { match($0, around: global, radius: maxShift / 2) }
        guard let anchor = wide.indices.max(by: { contrast(ca, windows[$0], half) < contrast(ca, windows[$1], half) }) else {
            return Registration(dy: dy, scaleY: scaleY, shift: [Double](repeating: global, count: a.width))
        }
        var tracked = [Double](repeating: wide[anchor].shift, count: windows.count)
        for order in [Array(stride(from: anchor + 1, to: windows.count, by: 1)), Array(stride(from: anchor - 1, through: 0, by: -1))] {
            var previous = wide[anchor].shift
            var radius = 8
            for k in order {
                let m = match(windows[k], around: previous, radius: radius)
                // A flat window (empty floor) says nothing: keep the neighbour's displacement, and
                // search wider at the next one (the two speeds drift apart by up to ~4 px a step).
                if m.score > 0.6 { previous = m.shift; radius = 8 } else { radius = min(radius + 4, 40) }
                tracked[k] = previous
            }
        }
        let centres = windows.map(Double.init)
        let smooth = medianFilter(tracked, radius: 2)
        var field = [Double](repeating: global, count: a.width)
        if !centres.isEmpty {
            for i in 0..<a.width {
                let xi = Double(i)
                if xi <= centres[0] { field[i] = smooth[0]; continue }
                if xi >= centres[centres.count - 1] { field[i] = smooth[smooth.count - 1]; continue }
                var k = 0
                while centres[k + 1] < xi { k += 1 }
                let t = (xi - centres[k]) / (centres[k + 1] - centres[k])
                field[i] = smooth[k] * (1 - t) + smooth[k + 1] * t
            }
        }
        return Registration(dy: dy, scaleY: scaleY, shift: field)
    }

    /// The vertical scale (0.8 to 1.25) and offset that best map A's height profile onto B's:
    /// b(y · scale + dy) ≈ a(y).
    static func vertical(_ a: [Double], _ b: [Double], pool: WorkerPool) -> (Double, Double) {
        var best = (score: -Double.infinity, scale: 1.0, dy: 0.0)
        // B's profile resampled into `out` (one buffer per thread: ten thousand candidates are tried).
        func sample(_ scale: Double, _ dy: Double, into out: inout [Double]) {
            for y in a.indices {
                let p = Double(y) * scale + dy
                let i = Int(p.rounded(.down)), t = p - Double(i)
                out[y] = i >= 0 && i + 1 < b.count ? b[i] * (1 - t) + b[i + 1] * t : 0
            }
        }
        var buffer = [Double](repeating: 0, count: a.count)
        func sampled(_ scale: Double, _ dy: Double) -> [Double] {
            sample(scale, dy, into: &buffer)
            return buffer
        }
        // Scales are searched in parallel, each its own best; the first best in scale order wins, as
        // a serial search would pick it.
        var scales: [Double] = []
        var scale = 0.8
        while scale <= 1.25 {
            scales.append(scale)
            scale += 0.01
        }
        var bests = [(score: Double, scale: Double, dy: Double)](repeating: (-Double.infinity, 1, 0), count: scales.count)
        bests.withUnsafeMutableBufferPointer { buffer in
            let out = UnsafeSendableBuffer(buffer)
            pool.forEachRange(scales.count) { range in
                var candidate = [Double](repeating: 0, count: a.count)
                for k in range {
                    let limit = Double(a.count) / 4
                    var dy = -limit
                    var local = (score: -Double.infinity, scale: scales[k], dy: 0.0)
                    while dy <= limit {
                        sample(scales[k], dy, into: &candidate)
                        let c = correlation(a, candidate)
                        if c > local.score { local = (c, scales[k], dy) }
                        dy += 1
                    }
                    out.base[k] = local
                }
            }
        }
        for candidate in bests where candidate.score > best.score { best = candidate }
        // Refine both around the best, finer.
        var fine = best
        for ds in stride(from: -0.006, through: 0.006, by: 0.001) {
            for ddy in stride(from: -1.0, through: 1.0, by: 0.1) {
                let c = correlation(a, sampled(best.scale + ds, best.dy + ddy))
                if c > fine.score { fine = (c, best.scale + ds, best.dy + ddy) }
            }
        }
        return (fine.scale, fine.dy)
    }

    /// How much a window of the profile varies (its standard deviation): where matching is reliable.
    static func contrast(_ p: [Double], _ centre: Int, _ half: Int) -> Double {
        let w = p[(centre - half)..<(centre + half)]
        let m = w.reduce(0, +) / Double(w.count)
        return (w.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(w.count)).squareRoot()
    }

    /// The offset `s` in `range` maximising the correlation of a[i] with b[i + s], sub-pixel.
    static func bestOffset(_ a: [Double], _ b: [Double], range: ClosedRange<Int>) -> Double {
        var scores: [Int: Double] = [:]
        var best = (score: -Double.infinity, s: 0)
        for s in range {
            var xs: [Double] = [], ys: [Double] = []
            for i in a.indices where i + s >= 0 && i + s < b.count { xs.append(a[i]); ys.append(b[i + s]) }
            guard xs.count > a.count / 3 else { continue }
            let c = correlation(xs, ys)
            scores[s] = c
            if c > best.score { best = (c, s) }
        }
        var s = Double(best.s)
        if let l = scores[best.s - 1], let r = scores[best.s + 1] { s += parabola(l, best.score, r) }
        return s
    }

    /// Pearson correlation.
    static func correlation(_ a: [Double], _ b: [Double]) -> Double {
        let n = Double(a.count)
        let ma = a.reduce(0, +) / n, mb = b.reduce(0, +) / n
        var sab = 0.0, saa = 0.0, sbb = 0.0
        for i in a.indices {
            let da = a[i] - ma, db = b[i] - mb
            sab += da * db; saa += da * da; sbb += db * db
        }
        return saa > 0 && sbb > 0 ? sab / (saa * sbb).squareRoot() : 0
    }

    /// Vertex of the parabola through three equally spaced scores, relative to the middle one.
    static func parabola(_ l: Double, _ m: Double, _ r: Double) -> Double {
        let d = l - 2 * m + r
        return d < 0 ? max(-0.5, min(0.5, 0.5 * (l - r) / d)) : 0
    }

    static func medianFilter(_ v: [Double], radius: Int) -> [Double] {
        v.indices.map { i in
            let w = v[max(0, i - radius)...min(v.count - 1, i + radius)].sorted()
            return w[w.count / 2]
        }
    }
}

extension Registration {
    /// Refines a registration on the images themselves (B already in A's energy): Gauss–Newton on
    /// Σ w·(A(x, y) − B(x + shift(x), y·scaleY + dy))², with the shift piecewise linear between
    /// knots `spacing` columns apart (the speed varies smoothly), a small penalty on its bends, and
    /// the vertical scale and offset solved together with it. A pixel whose residual a shift of a
    /// few pixels cannot explain (beyond 3σ plus 2.5 px times the local gradient) is what changed,
    /// or noise: it gets no weight, so the changes sought do not pull the registration. The first
    /// passes run on blurred images, which widens the basin the profile registration must land in.
    static func refine(_ a: AttenuationImage, _ b: AttenuationImage, _ initial: Registration,
                       spacing: Int = 24, pool: WorkerPool) -> Registration {
        let (w, h) = (a.width, a.height)
        let knots = (w - 1) / spacing + 2  // knot k at column k·spacing; the last lies beyond the image
        var knot = (0..<knots).map { initial.shift[min(w - 1, $0 * spacing)] }
        var (scaleY, dy) = (initial.scaleY, initial.dy)
        func current() -> Registration {
            Registration(dy: dy, scaleY: scaleY, shift: (0..<w).map { x -> Double in
                let k = x / spacing, t = Double(x - k * spacing) / Double(spacing)
                return knot[k] * (1 - t) + knot[k + 1] * t
            })
        }
        // Gauss–Newton passes on one pair of images with one weighting, until the knots settle.
        func iterate(_ ia: AttenuationImage, _ ib: AttenuationImage, passes: Int, robust: Float?, mask: [Bool]?) {
            for _ in 0..<passes {
                let sums = NormalSums.accumulate(ia, ib, current(), robust: robust, mask: mask, pool: pool)
                guard let delta = step(sums) else { return }
                // Gauss–Newton steps are trusted up to a pixel: beyond that the linearisation is not.
                var steps: [Double] = []
                for i in 0..<knots {
                    let step = max(-1, min(1, delta[i]))
                    knot[i] += step
                    steps.append(abs(step))
                }
                scaleY += max(-0.01, min(0.01, delta[knots]))
                dy += max(-1, min(1, delta[knots + 1]))
                // Settled when nine knots in ten move less than 0.02 px (the rest may be in air).
                steps.sort()
                if steps[steps.count * 9 / 10] < 0.02 { return }
            }
        }
        // The normal equations: unknowns are the knots' corrections, then scaleY's and dy's.
        func step(_ sums: NormalSums) -> [Double]? {
            let n = knots + 2
            var m = [Double](repeating: 0, count: n * n), rhs = [Double](repeating: 0, count: n)
            for x in 0..<w {
                let k = x / spacing, t = Double(x - k * spacing) / Double(spacing)
                let c = sums.columns[x]
                for (i, wi) in [(k, 1 - t), (k + 1, t)] {
                    rhs[i] += wi * c.xr
                    for (j, wj) in [(k, 1 - t), (k + 1, t)] { m[i * n + j] += wi * wj * c.xx }
                    m[i * n + knots] += wi * c.xyY
                    m[i * n + knots + 1] += wi * c.xy
                }
            }
            for i in 0..<knots {
                m[knots * n + i] = m[i * n + knots]
                m[(knots + 1) * n + i] = m[i * n + knots + 1]
            }
            let g = sums.global
            m[knots * n + knots] = g.yyYY; m[knots * n + knots + 1] = g.yyY
            m[(knots + 1) * n + knots] = g.yyY; m[(knots + 1) * n + knots + 1] = g.yy
            rhs[knots] = g.yrY; rhs[knots + 1] = g.yr
            // Bends cost λ·(Δ²knot)²: where nothing pins the shift (a chassis rail, uniform along
            // travel, at the truck's end) it carries on at the speed it had, rather than at A's
            // speed, which a penalty on Δknot would impose (6 px off at the end of a rail). λ = 0.1
            // measured best on 40 simulated pairs (mean error 0.10 px; 0.18 at 0.001, 0.38 at 10). A tiny
            // damping keeps the system regular where no column has any texture.
            let mean = (0..<knots).map { m[$0 * n + $0] }.reduce(0, +) / Double(knots)
            let lambda = 0.1 * mean + 1e-9, damping = 1e-4 * mean + 1e-9
            for i in 1..<max(1, knots - 1) {
                let bend = knot[i - 1] - 2 * knot[i] + knot[i + 1]
                let v = [(i - 1, 1.0), (i, -2.0), (i + 1, 1.0)]
                for (r, vr) in v {
                    rhs[r] -= lambda * vr * bend
                    for (c, vc) in v { m[r * n + c] += lambda * vr * vc }
                }
            }
            for i in 0..<n { m[i * n + i] += i < knots ? damping : damping * (i == knots ? Double(h * h) : 1) }
            return solve(m, rhs, n)
        }
        // Blurred images first (a wide basin), then the images themselves with residuals weighted
        // ever more robustly; then once more without what has changed (and its outline), found as
        // the residual no shift explains, so that a filled tank's edges do not drag the shift along.
        iterate(binomialBlur(a, pool: pool), binomialBlur(b, pool: pool), passes: 8, robust: nil, mask: nil)
        iterate(a, b, passes: 4, robust: 10, mask: nil)
        iterate(a, b, passes: 4, robust: 3, mask: nil)
        iterate(a, b, passes: 6, robust: 3, mask: changeMask(a, b, current(), pool: pool))
        return current()
    }

    /// Per-column and global sums of the linearised problem (see `refine`).
    struct NormalSums {
        struct Column { var xx = 0.0, xr = 0.0, xyY = 0.0, xy = 0.0 }
        struct Global { var yyYY = 0.0, yyY = 0.0, yy = 0.0, yrY = 0.0, yr = 0.0 }
        var columns: [Column]
        var global: Global

        static func accumulate(_ a: AttenuationImage, _ b: AttenuationImage, _ registration: Registration,
                               robust: Float?, mask: [Bool]?, pool: WorkerPool) -> NormalSums {
            let (w, h) = (a.width, a.height)
            // σ of the residual, robustly, from a sparse sample of pixels where either image sees matter.
            var sample: [Float] = []
            for i in stride(from: 0, to: w * h, by: 61) {
                let bv = b.sample(registration.columnInB(i % w), registration.rowInB(i / w))
                if a.values[i] > 0.05 || bv > 0.05 { sample.append(abs(a.values[i] - bv)) }
            }
            let sigma = Registration.robustSigma(sample).map { max(1e-3, $0) } ?? 0.01
            // Where each column of A lands in B is the same on every row: found once per pass
            // (-1: outside B), instead of once per pixel.
            var columnX0 = [Int](repeating: -1, count: w), columnFx = [Float](repeating: 0, count: w)
            for x in 0..<w {
                let bx = registration.columnInB(x)
                guard bx >= 1, bx <= Double(b.width - 2) else { continue }
                columnX0[x] = Int(bx)
                columnFx[x] = Float(bx - Double(Int(bx)))
            }
            let blocks = 16
            var columns = [Column](repeating: Column(), count: w * blocks)
            var globals = [Global](repeating: Global(), count: blocks)
            columns.withUnsafeMutableBufferPointer { cp in
              globals.withUnsafeMutableBufferPointer { gp in
                a.values.withUnsafeBufferPointer { av in
                  b.values.withUnsafeBufferPointer { bv in
                    let cols = UnsafeSendableBuffer(cp), globs = UnsafeSendableBuffer(gp)
                    pool.forEachRange(blocks) { range in
                        for block in range {
                            var g = Global()
                            let base = cols.base + block * w
                            for y in (block * h / blocks)..<((block + 1) * h / blocks) {
                                let by = registration.rowInB(y)
                                guard by >= 1, by <= Double(b.height - 2) else { continue }
                                let y0 = Int(by), fy = Float(by - Double(y0))
                                for x in 0..<w {
                                    if let mask, mask[y * w + x] { continue }
                                    let x0 = columnX0[x], fx = columnFx[x]
                                    guard x0 >= 0 else { continue }
                                    let p00 = bv[y0 * b.width + x0], p01 = bv[y0 * b.width + x0 + 1]
                                    let p10 = bv[(y0 + 1) * b.width + x0], p11 = bv[(y0 + 1) * b.width + x0 + 1]
                                    let top = p00 + (p01 - p00) * fx, bottom = p10 + (p11 - p10) * fx
                                    let value = top + (bottom - top) * fy
                                    let gx = (p01 - p00) * (1 - fy) + (p11 - p10) * fy
                                    let gy = bottom - top
                                    let r = av[y * w + x] - value
                                    var weight: Float = 1
                                    if let robust {
                                        let u = r / (robust * sigma)
                                        weight = 1 / ((1 + u * u) * (1 + u * u))
                                    } else {
                                        guard abs(r) <= 3 * sigma + 2.5 * (abs(gx) + abs(gy)) else { continue }
                                    }
                                    let root = weight.squareRoot()
                                    let (dgx, dgy, dr, yy) = (Double(gx * root), Double(gy * root), Double(r * root), Double(y))
                                    base[x].xx += dgx * dgx
                                    base[x].xr += dgx * dr
                                    base[x].xyY += dgx * dgy * yy
                                    base[x].xy += dgx * dgy
                                    g.yyYY += dgy * dgy * yy * yy
                                    g.yyY += dgy * dgy * yy
                                    g.yy += dgy * dgy
                                    g.yrY += dgy * dr * yy
                                    g.yr += dgy * dr
                                }
                            }
                            globs.base[block] = g
                        }
                    }
                  }
                }
              }
            }
            var out = NormalSums(columns: Array(columns[0..<w]), global: globals[0])
            for block in 1..<blocks {
                for x in 0..<w {
                    let c = columns[block * w + x]
                    out.columns[x].xx += c.xx; out.columns[x].xr += c.xr; out.columns[x].xyY += c.xyY; out.columns[x].xy += c.xy
                }
                let g = globals[block]
                out.global.yyYY += g.yyYY; out.global.yyY += g.yyY; out.global.yy += g.yy; out.global.yrY += g.yrY; out.global.yr += g.yr
            }
            return out
        }
    }

    /// Pixels no small shift explains (the residual beyond 4σ plus 2.5 px times the gradient), in
    /// clusters (at least 5 of their 3 x 3 neighbourhood), grown by 4 px to take in their outlines.
    static func changeMask(_ a: AttenuationImage, _ b: AttenuationImage, _ registration: Registration, pool: WorkerPool) -> [Bool] {
        let (w, h) = (a.width, a.height)
        var residual = [Float](repeating: 0, count: w * h), tolerance = residual
        PairedComparison.fill(&residual, h, pool) { y, out in
            let by = registration.rowInB(y)
            for x in 0..<w { out[y * w + x] = abs(a.values[y * w + x] - b.sample(registration.columnInB(x), by)) }
        }
        PairedComparison.fill(&tolerance, h, pool) { y, out in
            let by = registration.rowInB(y)
            for x in 0..<w {
                let bx = registration.columnInB(x)
                let gx = abs(b.sample(bx + 0.5, by) - b.sample(bx - 0.5, by)), gy = abs(b.sample(bx, by + 0.5) - b.sample(bx, by - 0.5))
                out[y * w + x] = 2.5 * (gx + gy)
            }
        }
        let sample = stride(from: 0, to: w * h, by: 7).compactMap { i -> Float? in a.values[i] > 0.05 ? residual[i] : nil }
        let sigma = Registration.robustSigma(sample).map { max(1e-3, $0) } ?? 0.01
        let raw = (0..<(w * h)).map { residual[$0] > 4 * sigma + tolerance[$0] }
        var clustered = [Bool](repeating: false, count: w * h)
        for y in 1..<(h - 1) {
            for x in 1..<(w - 1) where raw[y * w + x] {
                var n = 0
                for dy in -1...1 { for dx in -1...1 where raw[(y + dy) * w + x + dx] { n += 1 } }
                clustered[y * w + x] = n >= 5
            }
        }
        // Grow by 4 px: a row pass, then a column pass.
        var rows = clustered
        for y in 0..<h {
            for x in 0..<w where clustered[y * w + x] { for d in max(0, x - 4)...min(w - 1, x + 4) { rows[y * w + d] = true } }
        }
        var grown = rows
        for y in 0..<h {
            for x in 0..<w where rows[y * w + x] { for d in max(0, y - 4)...min(h - 1, y + 4) { grown[d * w + x] = true } }
        }
        return grown
    }

    /// The image smoothed by a 5-tap binomial kernel on both axes (σ ≈ 1 px).
    static func binomialBlur(_ image: AttenuationImage, pool: WorkerPool) -> AttenuationImage {
        let (w, h) = (image.width, image.height)
        let k: [Float] = [1 / 16, 4 / 16, 6 / 16, 4 / 16, 1 / 16]
        // One pass along an axis, `step` apart (1: along rows, w: along columns), clamped at the
        // borders; taps summed in the same order everywhere, so the interior's shortcut changes no bit.
        func pass(_ src: [Float], horizontal: Bool) -> [Float] {
            var out = [Float](repeating: 0, count: w * h)
            src.withUnsafeBufferPointer { s in
                let base = s.baseAddress!
                PairedComparison.fill(&out, h, pool) { y, dst in
                    // 16 pixels at a time where no tap is clamped, lane for lane the scalar sum.
                    var x = 0
                    if horizontal {
                        if w >= 20 { while x < 2 { dst[y * w + x] = clamped(s, x, y, horizontal: true); x += 1 } }
                        while x >= 2 && x + 16 <= w - 2 {
                            var v = SIMD16<Float>(repeating: 0)
                            for t in -2...2 { v += k[t + 2] * load16(base + y * w + x + t) }
                            store16(v, dst + y * w + x)
                            x += 16
                        }
                    } else if y >= 2 && y < h - 2 {
                        while x + 16 <= w {
                            var v = SIMD16<Float>(repeating: 0)
                            for t in -2...2 { v += k[t + 2] * load16(base + (y + t) * w + x) }
                            store16(v, dst + y * w + x)
                            x += 16
                        }
                    }
                    while x < w { dst[y * w + x] = clamped(s, x, y, horizontal: horizontal); x += 1 }
                }
            }
            return out
        }
        // One output pixel, taps clamped to the image.
        func clamped(_ s: UnsafeBufferPointer<Float>, _ x: Int, _ y: Int, horizontal: Bool) -> Float {
            var v: Float = 0
            for t in -2...2 {
                v += k[t + 2] * (horizontal ? s[y * w + min(w - 1, max(0, x + t))] : s[min(h - 1, max(0, y + t)) * w + x])
            }
            return v
        }
        let out = pass(pass(image.values, horizontal: true), horizontal: false)
        var blurred = image
        blurred.values = out
        return blurred
    }

    @inline(__always) static func load16(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
    }

    @inline(__always) static func store16(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD16<Float>.self)
    }

    /// Solves the symmetric positive definite system `m·x = rhs` (Cholesky); nil when it is singular.
    static func solve(_ m: [Double], _ rhs: [Double], _ n: Int) -> [Double]? {
        var l = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in 0...i {
                var sum = m[i * n + j]
                for k in 0..<j { sum -= l[i * n + k] * l[j * n + k] }
                if i == j {
                    guard sum > 0 else { return nil }
                    l[i * n + i] = sum.squareRoot()
                } else {
                    l[i * n + j] = sum / l[j * n + j]
                }
            }
        }
        var y = [Double](repeating: 0, count: n)
        for i in 0..<n {
            var sum = rhs[i]
            for k in 0..<i { sum -= l[i * n + k] * y[k] }
            y[i] = sum / l[i * n + i]
        }
        var x = [Double](repeating: 0, count: n)
        for i in stride(from: n - 1, through: 0, by: -1) {
            var sum = y[i]
            for k in (i + 1)..<n { sum -= l[k * n + i] * x[k] }
            x[i] = sum / l[i * n + i]
        }
        return x
    }
}
