import CBLAS
import CKernels
import Compute

/// Conv: NCHW (1-D convolutions run as 2-D with height 1), groups, dilations, strides, pads,
/// auto_pad, an optional bias, and the activation the fusion pass attached.
///
/// Paths, chosen once per plan: depthwise (a direct SIMD-friendly loop per channel); direct
/// (AVX-512 implicit GEMMs with weights packed at plan time, see `DirectConvolution`), taken by
/// most group-1 layers on a CPU with AVX-512; and for the rest, pointwise 1x1 (SGEMM straight on
/// the input) or general (im2col of a column slice per thread, then SGEMM). Columns of the output
/// are split across the pool and each thread calls single-threaded BLAS, so BLAS and the pool
/// never compete for the cores.
enum Convolution {
    struct Geometry {
        var batch = 1, channels = 0, height = 1, width = 0
        var filters = 0, group = 1, kh = 1, kw = 1
        var strideH = 1, strideW = 1, dilationH = 1, dilationW = 1
        var padTop = 0, padLeft = 0, padBottom = 0, padRight = 0
        var outH = 1, outW = 0

        var columns: Int { outH * outW }
        var patch: Int { channels / group * kh * kw }
        var isPointwise: Bool { kh == 1 && kw == 1 && strideH == 1 && strideW == 1 && padTop == 0 && padLeft == 0 && padBottom == 0 && padRight == 0 }
        var isDepthwise: Bool { group == channels && filters == channels && group > 1 }
    }

    /// Output size and padding along one spatial axis, ONNX rules including auto_pad.
    static func axis(input: Int, kernel: Int, stride: Int, dilation: Int, pads: (Int, Int), autoPad: String) -> (out: Int, begin: Int, end: Int) {
        let extent = dilation * (kernel - 1) + 1
        switch autoPad {
        case "SAME_UPPER", "SAME_LOWER":
            let out = (input + stride - 1) / stride
            let total = max(0, (out - 1) * stride + extent - input)
            let small = total / 2
            return autoPad == "SAME_UPPER" ? (out, small, total - small) : (out, total - small, small)
        case "VALID":
            return ((input - extent) / stride + 1, 0, 0)
        default:
            return ((input + pads.0 + pads.1 - extent) / stride + 1, pads.0, pads.1)
        }
    }

    static func geometry(_ node: Node, x: [Int], w: [Int]) throws(EngineError) -> Geometry {
        guard x.count == 3 || x.count == 4, w.count == x.count else {
            throw node.unsupported("\(x.count - 2)-D convolution (1-D and 2-D are supported)")
        }
        let oneD = x.count == 3
        var g = Geometry()
        g.batch = x[0]
        g.channels = x[1]
        g.height = oneD ? 1 : x[2]
        g.width = x[x.count - 1]
        g.filters = w[0]
        g.group = node.int("group", 1)
        g.kh = oneD ? 1 : w[2]
        g.kw = w[w.count - 1]
        guard g.group > 0, g.channels % g.group == 0, g.filters % g.group == 0, w[1] * g.group == g.channels else {
            throw node.invalid("weights \(w) do not match input \(x) with group \(g.group)")
        }
        let spatial = oneD ? 1 : 2
        let strides = node.ints("strides") ?? Array(repeating: 1, count: spatial)
        let dilations = node.ints("dilations") ?? Array(repeating: 1, count: spatial)
        let pads = node.ints("pads") ?? Array(repeating: 0, count: 2 * spatial)
        let autoPad = node.string("auto_pad", "NOTSET")
        if let ks = node.ints("kernel_shape"), ks != Array(w.dropFirst(2)) { throw node.invalid("kernel_shape \(ks) does not match weights \(w)") }
        guard strides.count == spatial, dilations.count == spatial, pads.count == 2 * spatial else {
            throw node.invalid("strides/dilations/pads do not match \(spatial) spatial axes")
        }
        if oneD {
            g.strideW = strides[0]
            g.dilationW = dilations[0]
            let a = axis(input: g.width, kernel: g.kw, stride: g.strideW, dilation: g.dilationW, pads: (pads[0], pads[1]), autoPad: autoPad)
            (g.outW, g.padLeft, g.padRight) = a
        } else {
            (g.strideH, g.strideW, g.dilationH, g.dilationW) = (strides[0], strides[1], dilations[0], dilations[1])
            let h = axis(input: g.height, kernel: g.kh, stride: g.strideH, dilation: g.dilationH, pads: (pads[0], pads[2]), autoPad: autoPad)
            let v = axis(input: g.width, kernel: g.kw, stride: g.strideW, dilation: g.dilationW, pads: (pads[1], pads[3]), autoPad: autoPad)
            (g.outH, g.padTop, g.padBottom) = h
            (g.outW, g.padLeft, g.padRight) = v
        }
        guard g.outH > 0, g.outW > 0 else { throw node.invalid("output would be empty for input \(x)") }
        return g
    }

    static let prepare: OperatorPrepare = { node, inputs, context throws(EngineError) in
        let x = try node.required(inputs, 0)
        let w = try node.required(inputs, 1)
        let g = try geometry(node, x: x.shape, w: w.shape)
        let hasBias = inputs.count > 2 && inputs[2] != nil
        let activation = try FusedActivation.read(node)
        let outShape = x.shape.count == 3 ? [g.batch, g.filters, g.outW] : [g.batch, g.filters, g.outH, g.outW]
        let flops = 2.0 * Double(g.batch * g.filters * g.columns * g.patch)
        let zeroBias = ConstantBuffer(count: g.filters)
        let pool = context.pool
        let threads = pool.threads
        // Large images split their output columns across threads; small ones (deep layers,
        // a few hundred pixels) split the filters instead, each thread unfolding the whole
        // input, because a GEMM a few dozen columns wide runs far below peak.
        let splitFilters = threads > 1 && g.columns < 384 * threads && g.filters / g.group >= 2 * threads
        let chunk = splitFilters ? g.columns : (g.columns + threads - 1) / threads
        let direct = !g.isDepthwise ? DirectConvolution(g, weights: w.constant, threads: threads) : nil
        let scratch = direct?.scratch ?? (g.isDepthwise || g.isPointwise ? 0 : threads * g.patch * chunk)
        return PreparedOp(outputs: [(outShape, .float32)], scratch: scratch, flops: flops) { ins, outs, scratchOffset in
            // Weights and bias are constants bound once by the planner (or, rarely, graph inputs).
            let src = ins[0]!, dst = outs[0], weights = ins[1]!, biasLocation = hasBias ? ins[2] : nil
            return { frame in
                let input = frame.floats(src), output = frame.floats(dst)
                let w = frame.floats(weights), b = biasLocation.map { frame.floats($0) } ?? zeroBias.pointer
                if g.isDepthwise {
                    depthwise(g, input, w, b, output, activation, pool)
                } else if let direct {
                    direct.run(input, w, b, output, activation, pool, scratch: frame.arena + scratchOffset)
                } else {
                    gemmConvolution(g, input, w, b, output, activation, pool, scratch: frame.arena + scratchOffset,
                                    chunk: chunk, splitFilters: splitFilters)
                }
            }
        }
    }

    static func gemmConvolution(_ g: Geometry, _ input: UnsafeMutablePointer<Float>, _ weights: UnsafeMutablePointer<Float>,
                                _ bias: UnsafeMutablePointer<Float>, _ output: UnsafeMutablePointer<Float>,
                                _ activation: Activation, _ pool: WorkerPool, scratch: UnsafeMutablePointer<Float>,
                                chunk: Int, splitFilters: Bool) {
        let columns = g.columns
        let k = g.patch
        let cPerGroup = g.channels / g.group, mPerGroup = g.filters / g.group
        let planeIn = g.height * g.width
        let jobs = splitFilters ? pool.threads : (columns + chunk - 1) / chunk
        for n in 0..<g.batch {
            let x = input + n * g.channels * planeIn
            let y = output + n * g.filters * columns
            pool.forEachRange(jobs) { range in
                for job in range {
                    // Either a slice of columns with every filter, or every column with a slice of filters.
                    let c0 = splitFilters ? 0 : job * chunk, c1 = splitFilters ? columns : min(columns, c0 + chunk)
                    let m0 = splitFilters ? job * mPerGroup / jobs : 0, m1 = splitFilters ? (job + 1) * mPerGroup / jobs : mPerGroup
                    let width = c1 - c0, rows = m1 - m0
                    let cols = scratch + job * k * chunk
                    for grp in 0..<g.group {
                        let xg = x + grp * cPerGroup * planeIn
                        let wg = weights + (grp * mPerGroup + m0) * k
                        let yg = y + (grp * mPerGroup + m0) * columns + c0
                        if g.isPointwise {
                            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(width), Int32(k),
                                        1, wg, Int32(k), xg + c0, Int32(columns), 0, yg, Int32(columns))
                        } else {
                            im2col(g, xg, cPerGroup, c0, c1, cols)
                            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(width), Int32(k),
                                        1, wg, Int32(k), cols, Int32(width), 0, yg, Int32(columns))
                        }
                        for m in 0..<rows {
                            let row = yg + m * columns
                            activation.apply(row, width, bias: bias[grp * mPerGroup + m0 + m])
                        }
                    }
                }
            }
        }
    }

    /// Columns c0..<c1 of the unfolded input: row (c, ky, kx), column = output pixel. Works one
    /// output row at a time so the interior of each row is a straight (or strided) copy.
    static func im2col(_ g: Geometry, _ x: UnsafeMutablePointer<Float>, _ channels: Int, _ c0: Int, _ c1: Int,
                       _ cols: UnsafeMutablePointer<Float>) {
        let width = c1 - c0
        var row = 0
        for c in 0..<channels {
            let plane = x + c * g.height * g.width
            for ky in 0..<g.kh {
                for kx in 0..<g.kw {
                    let dst = cols + row * width
                    let dx = kx * g.dilationW - g.padLeft
                    // Output columns whose input column lies inside the image, for this tap.
                    let oxStart = min(g.outW, max(0, (-dx + g.strideW - 1) / g.strideW))
                    let oxEnd = max(oxStart, min(g.outW, (g.width - 1 - dx) / g.strideW + 1))
                    var p = c0
                    while p < c1 {
                        let oy = p / g.outW, ox0 = p % g.outW
                        let ox1 = min(g.outW, ox0 + (c1 - p))
                        let out = dst + (p - c0) - ox0
                        let iy = oy * g.strideH - g.padTop + ky * g.dilationH
                        if iy < 0 || iy >= g.height {
                            (out + ox0).update(repeating: 0, count: ox1 - ox0)
                        } else {
                            let src = plane + iy * g.width + dx
                            let lo = max(ox0, oxStart), hi = min(ox1, oxEnd)
                            if lo > ox0 { (out + ox0).update(repeating: 0, count: lo - ox0) }
                            if hi > lo {
                                if g.strideW == 1 {
                                    (out + lo).update(from: src + lo, count: hi - lo)
                                } else {
                                    for ox in lo..<hi { out[ox] = src[ox * g.strideW] }
                                }
                            }
                            if ox1 > max(hi, lo) { (out + max(hi, lo)).update(repeating: 0, count: ox1 - max(hi, lo)) }
                        }
                        p += ox1 - ox0
                    }
                    row += 1
                }
            }
        }
    }

    /// One filter per channel: accumulate each tap over the output rows it touches.
    static func depthwise(_ g: Geometry, _ input: UnsafeMutablePointer<Float>, _ weights: UnsafeMutablePointer<Float>,
                          _ bias: UnsafeMutablePointer<Float>, _ output: UnsafeMutablePointer<Float>,
                          _ activation: Activation, _ pool: WorkerPool) {
        let planeIn = g.height * g.width, planeOut = g.columns
        pool.forEachRange(g.batch * g.channels) { range in
            for nc in range {
                let c = nc % g.channels
                let x = input + nc * planeIn, y = output + nc * planeOut
                let w = weights + c * g.kh * g.kw
                y.update(repeating: bias[c], count: planeOut)
                for ky in 0..<g.kh {
                    for kx in 0..<g.kw {
                        let tap = w[ky * g.kw + kx]
                        let dx = kx * g.dilationW - g.padLeft
                        // Output columns whose input column lies inside the image.
                        let oxStart = max(0, (-dx + g.strideW - 1) / g.strideW)
                        let oxEnd = min(g.outW, (g.width - 1 - dx) / g.strideW + 1)
                        if oxStart >= oxEnd { continue }
                        for oy in 0..<g.outH {
                            let iy = oy * g.strideH - g.padTop + ky * g.dilationH
                            if iy < 0 || iy >= g.height { continue }
                            let xr = x + iy * g.width + dx, yr = y + oy * g.outW
                            if g.strideW == 1 {
                                for ox in oxStart..<oxEnd { yr[ox] += tap * xr[ox] }
                            } else {
                                for ox in oxStart..<oxEnd { yr[ox] += tap * xr[ox * g.strideW] }
                            }
                        }
                    }
                }
                activation.apply(y, planeOut)
            }
        }
    }
}

/// The activation a fusion pass attached to a node, stored as attributes `vigil.activation` and
/// `vigil.activation_params` so fused graphs stay plain `Graph` values.
enum FusedActivation {
    static let key = "vigil.activation", paramsKey = "vigil.activation_params"

    static func read(_ node: Node) throws(EngineError) -> Activation {
        guard case .string(let name)? = node.attributes[key] else { return .none }
        let p = node.floats(paramsKey) ?? []
        switch name {
        case "Relu": return .relu
        case "LeakyRelu": return .leakyRelu(p[0])
        case "Clip": return .clip(p[0], p[1])
        case "Sigmoid": return .sigmoid
        case "SiLU": return .silu
        case "HardSigmoid": return .hardSigmoid(alpha: p[0], beta: p[1])
        case "HardSwish": return .hardSwish
        case "Tanh": return .tanh
        default: throw node.invalid("unknown fused activation \(name)")
        }
    }

    static func attach(_ name: String, _ params: [Float], to node: inout Node) {
        node.attributes[key] = .string(name)
        node.attributes[paramsKey] = .floats(params)
    }
}
