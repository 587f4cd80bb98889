import Compute

/// Separable linear resampling with a tent filter widened when shrinking, so downsampling
/// averages every input pixel (area-like) instead of skipping some.
public struct Resampler {
    /// Input taps of one output sample: first input index and normalised weights.
    struct Taps {
        var start: Int
        var weights: [Float]
    }

    /// Taps mapping `inputLength` samples to `outputLength`, pixel centres aligned.
    static func taps(inputLength: Int, outputLength: Int) -> [Taps] {
        let scale = Double(outputLength) / Double(inputLength)
        let support = scale < 1 ? 1 / scale : 1  // tent half-width in input pixels
        return (0..<outputLength).map { i in
            let centre = (Double(i) + 0.5) / scale - 0.5
            let lo = max(0, Int((centre - support).rounded(.up)))
            let hi = min(inputLength - 1, Int((centre + support).rounded(.down)))
            // The tent is unimodal, so the taps with positive weight are contiguous.
            let taps = lo <= hi
                ? (lo...hi).map { j in (j, max(0, 1 - abs(Double(j) - centre) / support)) }.filter { $0.1 > 0 }
                : []
            // A centre outside the input (extreme shrink at an edge) takes the nearest sample.
            let first = taps.first?.0 ?? min(max(0, Int(centre.rounded())), inputLength - 1)
            let weights = taps.isEmpty ? [1.0] : taps.map(\.1)
            let total = weights.reduce(0, +)
            return Taps(start: first, weights: weights.map { Float($0 / total) })
        }
    }

    /// Resamples planes of `width` x `height` to `outWidth` x `outHeight`. When the height shrinks,
    /// rows are combined first: the vertical pass runs over whole rows in SIMD, and the horizontal
    /// pass (a short dot product per output sample) then has fewer rows to walk.
    public static func resample(_ input: [Float], planes: Int, width: Int, height: Int, outWidth: Int, outHeight: Int,
                         pool: WorkerPool) -> [Float] {
        if outHeight < height {
            let rows = vertical(input, planes: planes, rowLength: width, height: height, outHeight: outHeight, pool: pool)
            return horizontal(rows, rows: planes * outHeight, width: width, outWidth: outWidth, pool: pool)
        }
        let columns = horizontal(input, rows: planes * height, width: width, outWidth: outWidth, pool: pool)
        return vertical(columns, planes: planes, rowLength: outWidth, height: height, outHeight: outHeight, pool: pool)
    }

    /// Each of `rows` rows of `width` samples resampled to `outWidth`.
    static func horizontal(_ input: [Float], rows: Int, width: Int, outWidth: Int, pool: WorkerPool) -> [Float] {
        let xTaps = taps(inputLength: width, outputLength: outWidth)
        // Taps are flattened to a fixed stride (zero weights past a tap's end) so the inner loop
        // is plain pointer arithmetic.
        let stride = xTaps.map(\.weights.count).max() ?? 1
        var starts = [Int](repeating: 0, count: outWidth)
        var weights = [Float](repeating: 0, count: outWidth * stride)
        for (x, t) in xTaps.enumerated() {
            // Keep every tap inside the row: shift the window left at the right edge.
            let start = min(t.start, max(0, width - stride))
            starts[x] = start
            for (k, w) in t.weights.enumerated() { weights[x * stride + (t.start - start) + k] = w }
        }
        var out = [Float](repeating: 0, count: rows * outWidth)
        input.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                starts.withUnsafeBufferPointer { starts in
                    weights.withUnsafeBufferPointer { weights in
                        let dst = UnsafeSendableBuffer(dst)
                        let taps = min(stride, width)
                        pool.forEachRange(rows, minimumChunk: 64) { range in
                            for row in range {
                                let s = src.baseAddress! + row * width
                                let d = dst.base + row * outWidth
                                for x in 0..<outWidth {
                                    let p = s + starts[x], w = weights.baseAddress! + x * stride
                                    var acc: Float = 0
                                    for k in 0..<taps { acc += p[k] * w[k] }
                                    d[x] = acc
                                }
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// Each plane's `height` rows (of `rowLength` samples) resampled to `outHeight` rows: every
    /// output row is a weighted sum of input rows (vectorisable).
    static func vertical(_ input: [Float], planes: Int, rowLength: Int, height: Int, outHeight: Int, pool: WorkerPool) -> [Float] {
        let yTaps = taps(inputLength: height, outputLength: outHeight)
        var out = [Float](repeating: 0, count: planes * outHeight * rowLength)
        input.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                let dst = UnsafeSendableBuffer(dst)
                pool.forEachRange(planes * outHeight, minimumChunk: 32) { rows in
                    for row in rows {
                        let plane = row / outHeight
                        let t = yTaps[row % outHeight]
                        let d = dst.base + row * rowLength
                        for x in 0..<rowLength { d[x] = 0 }
                        for (k, w) in t.weights.enumerated() {
                            let s = src.baseAddress! + (plane * height + t.start + k) * rowLength
                            for x in 0..<rowLength { d[x] += s[x] * w }
                        }
                    }
                }
            }
        }
        return out
    }
}
