import CKernels
import Compute

/// Convolution without im2col for thin layers over large images (the first layers of a
/// detector: 2 → 12 or 12 → 24 channels on a 512 × 1024 tile), where im2col + SGEMM runs at half
/// of peak or less. The input is copied once, zero-padded, into scratch; the weights are packed
/// into blocks of 8 filters; the AVX-512 kernel (CKernels/convolution.c) computes 8 filters ×
/// 48 pixels per register tile; bias and activation are applied row by row while the rows are
/// still in cache.
///
/// Invariant: only built when the CPU has AVX-512 and the layer is group 1, dilation 1, equal
/// strides of 1 or 2, a kernel of at most 7 × 7, and thin enough (see `init`) to gain.
struct DirectConvolution: Sendable {
    let g: Convolution.Geometry
    let shape: vigil_conv_shape
    let blocks: Int
    let paddedCount: Int
    let packedCount: Int

    static let supported = vigil_conv_direct_supported() != 0
    /// Measured on this machine (Benchmarks/RESULTS.md): up to 64 filters and a 576-long patch the
    /// direct kernel wins; wider, it ties or loses to OpenBLAS.
    static let maxFilters = 64, maxPatch = 576

    init?(_ g: Convolution.Geometry) {
        let filterBlock = Int(VIGIL_CONV_FILTER_BLOCK), tile = Int(VIGIL_CONV_PIXEL_TILE)
        guard Self.supported, g.group == 1, g.dilationH == 1, g.dilationW == 1, g.strideH == g.strideW,
              g.strideW == 1 || g.strideW == 2, g.kh <= 7, g.kw <= 7, g.outW >= 16,
              // Thin: a GEMM with few rows (filters) or a short reduction (patch) is where OpenBLAS
              // falls far below peak; wider layers stay on im2col + SGEMM.
              g.filters <= Self.maxFilters, g.patch <= Self.maxPatch
        else { return nil }
        self.g = g
        let s = g.strideW
        let tiles = (g.outW + tile - 1) / tile * tile
        let height = g.padTop + g.height + g.padBottom
        // Wide enough that the last tile's loads (every 2nd float for stride 2) stay inside.
        let width = max(g.padLeft + g.width + g.padRight, (tiles - 1) * s + g.kw + (s - 1))
        shape = vigil_conv_shape(channels: Int32(g.channels), height: Int32(height), width: Int32(width), filters: Int32(g.filters),
                                 kh: Int32(g.kh), kw: Int32(g.kw), stride: Int32(s), out_h: Int32(g.outH), out_w: Int32(g.outW))
        blocks = (g.filters + filterBlock - 1) / filterBlock
        paddedCount = g.channels * height * width
        packedCount = blocks * filterBlock * g.patch
    }

    /// Floats of scratch: the padded input and the packed weights.
    var scratch: Int { paddedCount + packedCount }

    func run(_ input: UnsafeMutablePointer<Float>, _ weights: UnsafeMutablePointer<Float>, _ bias: UnsafeMutablePointer<Float>,
             _ output: UnsafeMutablePointer<Float>, _ activation: Activation, _ pool: WorkerPool, scratch: UnsafeMutablePointer<Float>) {
        let padded = scratch, packed = scratch + paddedCount
        // A few thousand weights: packing them per run costs microseconds, against milliseconds of convolution.
        vigil_conv_direct_pack(weights, packed, Int32(g.filters), Int32(g.channels), Int32(g.kh), Int32(g.kw))
        let height = Int(shape.height), width = Int(shape.width), plane = g.outH * g.outW
        let filterBlock = Int(VIGIL_CONV_FILTER_BLOCK)
        // Enough jobs for every thread several times over, each a band of output rows of one filter block.
        let bands = max(1, min(g.outH, (4 * pool.threads + blocks - 1) / blocks))
        for n in 0..<g.batch {
            let x = input + n * g.channels * g.height * g.width
            let y = output + n * g.filters * plane
            pool.forEachRange(g.channels) { range in
                for c in range {
                    let dst = padded + c * height * width, src = x + c * g.height * g.width
                    dst.update(repeating: 0, count: g.padTop * width)
                    for row in 0..<g.height {
                        let line = dst + (g.padTop + row) * width
                        line.update(repeating: 0, count: g.padLeft)
                        (line + g.padLeft).update(from: src + row * g.width, count: g.width)
                        (line + g.padLeft + g.width).update(repeating: 0, count: width - g.padLeft - g.width)
                    }
                    (dst + (g.padTop + g.height) * width).update(repeating: 0, count: (height - g.padTop - g.height) * width)
                }
            }
            pool.forEachRange(blocks * bands) { range in
                withUnsafePointer(to: shape) { shapePointer in
                    for job in range {
                        let block = job / bands, band = job % bands
                        let oy0 = band * g.outH / bands, oy1 = (band + 1) * g.outH / bands
                        vigil_conv_direct_rows(shapePointer, padded, packed, y, Int32(block), Int32(oy0), Int32(oy1))
                        for f in (block * filterBlock)..<min(g.filters, (block + 1) * filterBlock) {
                            for oy in oy0..<oy1 { activation.apply(y + f * plane + oy * g.outW, g.outW, bias: bias[f]) }
                        }
                    }
                }
            }
        }
    }
}
