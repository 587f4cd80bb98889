import CKernels
import Compute

/// Convolution without im2col (CKernels/convolution.c): two AVX-512 implicit GEMMs over one input
/// layout. The input is copied into a zero-padded, stride-phase-split layout (a 1x1 stride-1 layer
/// reads its input as it is), so every tap of every output pixel is a fixed offset from the
/// pixel's position; the weights are packed once per plan.
///
/// - `pixelTiles`, for images a few dozen pixels across and more: output pixels in the vector
///   lanes, 8 filters x 48 positions per register tile, the output rows laid end to end. Each
///   thread copies one band of input rows at a time into its own L2-sized buffer and runs every
///   filter block over it, so the input goes through memory once.
/// - `filterTiles`, for small images (deep layers): filters in the lanes, 64 filters x 6 pixels per
///   tile, so the padding columns cost nothing; sums go through scratch, pixel-major, to NCHW.
///
/// Bias and activation are applied per band of output while it is still in cache.
///
/// Invariant: only built when the CPU has AVX-512, the layer is group 1 with strides of at most 4,
/// and one of the two tilings keeps enough of its lanes busy to beat im2col + SGEMM (see `init`).
struct DirectConvolution: Sendable {
    enum Tiling: Sendable { case pixelTiles, filterTiles }

    let g: Convolution.Geometry
    let tiling: Tiling
    let shape: vigil_conv_shape
    let layout: vigil_conv_layout
    /// Input offset of every tap (channel, ky, kx) in the layout the kernel reads.
    let offsets: [Int32]
    /// Filter blocks: 8 filters each for pixel tiles, 64 for filter tiles.
    let blocks: Int
    let blockSize: Int
    /// Whether the kernel reads the input as it is (1x1, stride 1, no padding).
    let inPlace: Bool
    /// Output rows per band (pixel tiles) and the threads that share the bands.
    let bandRows: Int
    let threads: Int
    /// Floats of one phase-split copy: a band's (pixel tiles) or the whole image's (filter tiles).
    let phasedCount: Int
    /// Floats of pixel-major sums (filter tiles only).
    let sumsCount: Int
    /// Weights packed at plan time, when they are constants (they nearly always are).
    let packed: ConstantBuffer?

    static let supported = vigil_conv_direct_supported() != 0

    /// Share of the lanes that must do useful work. Pixel tiles lose the padding columns of each
    /// row and the last partial tile; filter tiles lose the filters past a multiple of 16 and the
    /// pixels past a multiple of 6. Below this, SGEMM wins (measured: Benchmarks/RESULTS.md).
    static let minimumLaneUse = 0.8
    /// From this many filters on, filter tiles beat pixel tiles when both keep their lanes busy;
    /// below it, pixel tiles win unless padding columns and tails idle a tenth of their lanes or
    /// more (a 64-filter layer on 20 x 20: 1.27 x onnxruntime as pixel tiles, 1.11 as filter tiles;
    /// on 40 x 40 and larger the other way round, Benchmarks/bench_layers.py).
    static let filterTilesFrom = 128
    static let pixelTilesWellUsed = 0.9
    /// Input bytes of one band (pixel tiles): a thread's copy stays in its L2 for every block.
    static let bandBytes = 512 * 1024

    init?(_ g: Convolution.Geometry, weights: Tensor? = nil, threads: Int = 1) {
        guard Self.supported, g.group == 1, (1...4).contains(g.strideH), (1...4).contains(g.strideW),
              // A strided 1x1 layer would copy every phase to read one; it is tiny work on SGEMM.
              g.kh * g.kw > 1 || (g.strideH == 1 && g.strideW == 1)
        else { return nil }
        inPlace = g.isPointwise
        let pitch = inPlace ? g.width : (g.padLeft + g.width + g.padRight + g.strideW - 1) / g.strideW
        let imagePhaseRows = inPlace ? g.height : (g.padTop + g.height + g.padBottom + g.strideH - 1) / g.strideH
        let plane = g.outH * g.outW
        let pixelTile = Int(VIGIL_CONV_PIXEL_TILE), widePixels = Int(VIGIL_CONV_WIDE_PIXELS)
        let positions = (g.outH - 1) * pitch + g.outW
        let pixelUse = Double(plane) / Double((positions + pixelTile - 1) / pixelTile * pixelTile)
        let filterUse = Double(g.filters) / Double((g.filters + 15) / 16 * 16)
            * Double(plane) / Double((plane + widePixels - 1) / widePixels * widePixels)
        if filterUse >= Self.minimumLaneUse && (g.filters >= Self.filterTilesFrom || pixelUse < Self.pixelTilesWellUsed) {
            tiling = .filterTiles
            blockSize = Int(VIGIL_CONV_WIDE_BLOCK)
        } else if pixelUse >= Self.minimumLaneUse {
            tiling = .pixelTiles
            blockSize = Int(VIGIL_CONV_FILTER_BLOCK)
        } else {
            return nil
        }
        self.g = g
        self.threads = threads
        blocks = (g.filters + blockSize - 1) / blockSize
        sumsCount = tiling == .filterTiles ? blocks * blockSize * plane : 0
        // Pixel tiles: bands of about `bandBytes` of input, at least two per thread.
        let dilatedRows = (g.kh - 1) * g.dilationH / g.strideH
        let inputPerRow = g.channels * g.strideH * g.strideW * pitch * MemoryLayout<Float>.size
        let perThread = (g.outH + 2 * threads - 1) / (2 * threads)
        switch (tiling, inPlace) {
        case (.pixelTiles, false): bandRows = max(1, min(perThread, Self.bandBytes / inputPerRow))
        case (.pixelTiles, true): bandRows = max(1, perThread)
        case (.filterTiles, _): bandRows = g.outH
        }
        let phaseRows = tiling == .pixelTiles ? bandRows + dilatedRows : imagePhaseRows
        phasedCount = inPlace ? 0 : g.channels * g.strideH * g.strideW * phaseRows * pitch
        shape = vigil_conv_shape(taps: Int32(g.patch), filters: Int32(g.filters), row_pitch: Int32(pitch),
                                 out_h: Int32(g.outH), out_w: Int32(g.outW), out_plane: Int32(plane))
        layout = vigil_conv_layout(height: Int32(g.height), width: Int32(g.width), pad_top: Int32(g.padTop), pad_left: Int32(g.padLeft),
                                   stride_h: Int32(g.strideH), stride_w: Int32(g.strideW), phase_h: Int32(phaseRows), phase_w: Int32(pitch),
                                   first_row: 0)
        var offsets: [Int32] = []
        offsets.reserveCapacity(g.patch)
        for c in 0..<g.channels {
            for ky in 0..<g.kh {
                for kx in 0..<g.kw {
                    if inPlace { offsets.append(Int32(c * g.height * g.width)); continue }
                    let dy = ky * g.dilationH, dx = kx * g.dilationW
                    let phase = (c * g.strideH + dy % g.strideH) * g.strideW + dx % g.strideW
                    offsets.append(Int32(phase * phaseRows * pitch + dy / g.strideH * pitch + dx / g.strideW))
                }
            }
        }
        self.offsets = offsets
        if let weights, weights.dtype == .float32, weights.count == g.filters * g.patch {
            let packed = ConstantBuffer(count: blocks * blockSize * g.patch)
            let chosen = tiling
            weights.floats.withUnsafeBufferPointer { Self.pack(chosen, $0.baseAddress!, packed.pointer, g) }
            self.packed = packed
        } else {
            packed = nil
        }
    }

    private static func pack(_ tiling: Tiling, _ weights: UnsafePointer<Float>, _ packed: UnsafeMutablePointer<Float>, _ g: Convolution.Geometry) {
        let block = tiling == .pixelTiles ? VIGIL_CONV_FILTER_BLOCK : VIGIL_CONV_WIDE_BLOCK
        vigil_conv_pack(weights, packed, Int32(g.filters), Int32(g.patch), Int32(block))
    }

    /// Phase-split copies held at once: one per thread for pixel tiles, one for filter tiles.
    private var copies: Int { tiling == .pixelTiles ? threads : 1 }

    /// Floats of scratch: the phase-split copies, the sums, and the packed weights when they were not constants.
    var scratch: Int { copies * phasedCount + sumsCount + (packed == nil ? blocks * blockSize * g.patch : 0) }

    func run(_ input: UnsafeMutablePointer<Float>, _ weights: UnsafeMutablePointer<Float>, _ bias: UnsafeMutablePointer<Float>,
             _ output: UnsafeMutablePointer<Float>, _ activation: Activation, _ pool: WorkerPool, scratch: UnsafeMutablePointer<Float>) {
        let sums = scratch + copies * phasedCount
        let packed = self.packed?.pointer ?? sums + sumsCount
        if self.packed == nil { Self.pack(tiling, weights, packed, g) }
        for n in 0..<g.batch {
            let x = input + n * g.channels * g.height * g.width
            let y = output + n * g.filters * g.outH * g.outW
            switch tiling {
            case .pixelTiles: pixelTiles(x, y, bias, activation, pool, phased: scratch, packed: packed)
            case .filterTiles: filterTiles(x, y, bias, activation, pool, phased: scratch, sums: sums, packed: packed)
            }
        }
    }

    private func pixelTiles(_ x: UnsafeMutablePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ bias: UnsafeMutablePointer<Float>,
                            _ activation: Activation, _ pool: WorkerPool, phased: UnsafeMutablePointer<Float>, packed: UnsafeMutablePointer<Float>) {
        let bands = (g.outH + bandRows - 1) / bandRows
        let slots = min(threads, pool.threads, bands)
        // One job per thread, each with its own copy buffer, walking its share of the bands.
        pool.forEachRange(slots) { range in
            offsets.withUnsafeBufferPointer { offsets in
                for slot in range {
                    let buffer = phased + slot * phasedCount
                    for band in (slot * bands / slots)..<((slot + 1) * bands / slots) {
                        let oy0 = band * bandRows, oy1 = min(g.outH, oy0 + bandRows)
                        let source: UnsafePointer<Float>, rows: (Int32, Int32), out: UnsafeMutablePointer<Float>
                        if inPlace {
                            (source, rows, out) = (UnsafePointer(x), (Int32(oy0), Int32(oy1)), y)
                        } else {
                            var band = layout
                            band.first_row = Int32(oy0)
                            withUnsafePointer(to: band) { vigil_conv_direct_phases(x, buffer, $0, 0, Int32(g.channels)) }
                            (source, rows, out) = (UnsafePointer(buffer), (0, Int32(oy1 - oy0)), y + oy0 * g.outW)
                        }
                        withUnsafePointer(to: shape) { shape in
                            for block in 0..<blocks {
                                vigil_conv_direct_rows(shape, source, offsets.baseAddress!, packed, out, Int32(block), rows.0, rows.1)
                            }
                        }
                        for f in 0..<g.filters {
                            activation.apply(y + f * g.outH * g.outW + oy0 * g.outW, (oy1 - oy0) * g.outW, bias: bias[f])
                        }
                    }
                }
            }
        }
    }

    private func filterTiles(_ x: UnsafeMutablePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ bias: UnsafeMutablePointer<Float>,
                             _ activation: Activation, _ pool: WorkerPool, phased: UnsafeMutablePointer<Float>,
                             sums: UnsafeMutablePointer<Float>, packed: UnsafeMutablePointer<Float>) {
        let plane = g.outH * g.outW, pixels = Int(VIGIL_CONV_WIDE_PIXELS)
        if !inPlace {
            pool.forEachRange(g.channels) { range in
                withUnsafePointer(to: layout) { vigil_conv_direct_phases(x, phased, $0, Int32(range.lowerBound), Int32(range.upperBound)) }
            }
        }
        let source = inPlace ? UnsafePointer(x) : UnsafePointer(phased)
        // Enough jobs for every thread several times over, each a band of pixels of one filter block.
        let tiles = (plane + pixels - 1) / pixels
        let bands = max(1, min(tiles, (4 * pool.threads + blocks - 1) / blocks))
        pool.forEachRange(blocks * bands) { range in
            withUnsafePointer(to: shape) { shape in
                offsets.withUnsafeBufferPointer { offsets in
                    for job in range {
                        let block = job / bands, band = job % bands
                        let f0 = block * blockSize, f1 = min(g.filters, f0 + blockSize)
                        let p0 = min(plane, band * tiles / bands * pixels), p1 = min(plane, (band + 1) * tiles / bands * pixels)
                        guard p1 > p0 else { continue }
                        let blockSums = sums + block * blockSize * plane
                        vigil_conv_wide_pixels(shape, source, offsets.baseAddress!, packed, blockSums, Int32(block), Int32(p0), Int32(p1))
                        vigil_conv_wide_unpack(blockSums, y + f0 * plane, Int32(plane), Int32(f1 - f0), Int32(p0), Int32(p1))
                        for f in f0..<f1 { activation.apply(y + f * plane + p0, p1 - p0, bias: bias[f]) }
                    }
                }
            }
        }
    }
}
