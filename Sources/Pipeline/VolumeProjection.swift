import Compute
import Profiles

/// How a CT volume reaches a radiograph model: a top-view projection (the line integral of
/// attenuation down through every slice column), and, for each box found there, the rows of the
/// slices that hold the object.
///
/// Values in are the profile's rescaled CT numbers, mu / mu_water (air 0, water 1), not clamped:
/// metal must keep its weight in the sum. The projection is in the units of a radiograph's log
/// attenuation: sum of mu / mu_water times mu_water (0.193 1/cm, water at 70 keV, NIST SRD 126)
/// times the voxel height, clamped where a radiograph stops resolving (transmission 1e-4).
public struct VolumeProjection: Sendable {
    public static let waterMu = 0.193
    public static let maxAttenuation: Float = 9.21

    public let slices: Int
    public let rows: Int
    public let columns: Int
    /// [slice][row][column], preprocessed.
    let values: [Float]

    public init(slices: Int, rows: Int, columns: Int, values: [Float]) {
        precondition(values.count == slices * rows * columns)
        (self.slices, self.rows, self.columns, self.values) = (slices, rows, columns, values)
    }

    /// The top view as an image: x = slice (along travel), y = column (across the belt).
    public func topView(voxelHeightMM: Double, pool: WorkerPool) -> [Float] {
        var out = [Float](repeating: 0, count: columns * slices)
        let scale = Float(VolumeProjection.waterMu * voxelHeightMM / 10)
        let (rows, columns, slices) = (rows, columns, slices)
        values.withUnsafeBufferPointer { v in
            let v = UnsafeSendableBuffer(UnsafeMutableBufferPointer(mutating: v))
            out.withUnsafeMutableBufferPointer { o in
                let o = UnsafeSendableBuffer(o)
                pool.forEachRange(slices, minimumChunk: 16) { range in
                    var sum = [Float](repeating: 0, count: columns)
                    for s in range {
                        for c in 0..<columns { sum[c] = 0 }
                        for r in 0..<rows {
                            let row = v.base + (s * rows + r) * columns
                            for c in 0..<columns { sum[c] += row[c] }
                        }
                        for c in 0..<columns { o.base[c * slices + s] = min(max(sum[c] * scale, 0), VolumeProjection.maxAttenuation) }
                    }
                }
            }
        }
        return out
    }

    /// The rows holding the object inside a top-view box (slices x columns): of the runs of rows
    /// whose mass over the box is at least 30 % of the heaviest row's, the run with the most mass.
    /// (The heaviest single row can be a thin sheet of metal, a laptop's board, above or below
    /// the object; the object is the thick run.)
    public func rows(slices sRange: Range<Int>, columns cRange: Range<Int>) -> Range<Int> {
        let s = sRange.clamped(to: 0..<slices), c = cRange.clamped(to: 0..<columns)
        guard !s.isEmpty, !c.isEmpty else { return 0..<rows }
        var profile = [Double](repeating: 0, count: rows)
        values.withUnsafeBufferPointer { v in
            for si in s {
                for r in 0..<rows { profile[r] += Double(Self.positiveSum(v.baseAddress! + (si * rows + r) * columns + c.lowerBound, c.count)) }
            }
        }
        guard let peak = profile.max(), peak > 0 else { return 0..<rows }
        var best = 0..<rows, bestMass = -1.0
        var r = 0
        while r < rows {
            guard profile[r] >= 0.3 * peak else { r += 1; continue }
            let start = r
            var mass = 0.0
            while r < rows && profile[r] >= 0.3 * peak { mass += profile[r]; r += 1 }
            if mass > bestMass { (best, bestMass) = (start..<r, mass) }
        }
        return best
    }

    /// Sum of max(0, x) over `count` floats, 16 lanes at a time (a box's row is a few hundred
    /// columns at most, well within Float's precision; rows are then summed in Double).
    static func positiveSum(_ p: UnsafePointer<Float>, _ count: Int) -> Float {
        var acc = SIMD16<Float>.zero
        var i = 0
        while i + 16 <= count {
            let x = UnsafeRawPointer(p + i).loadUnaligned(as: SIMD16<Float>.self)
            acc += x.replacing(with: 0, where: x .< 0)
            i += 16
        }
        var total = acc.sum()
        while i < count {
            total += max(0, p[i])
            i += 1
        }
        return total
    }
}
