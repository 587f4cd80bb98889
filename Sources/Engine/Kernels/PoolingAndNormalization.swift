import CBLAS
import CKernels
import Compute
import Foundation

/// MaxPool, AveragePool, GlobalAveragePool (1-D and 2-D) and a stand-alone BatchNormalization.
enum Pooling {
    static func prepare(max isMax: Bool) -> OperatorPrepare {
        { node, inputs, context throws(EngineError) in
            let x = try node.required(inputs, 0)
            guard (3...5).contains(x.shape.count) else { throw node.unsupported("\(x.shape.count - 2)-D pooling") }
            if node.outputs.count > 1 && !node.outputs[1].isEmpty { throw node.unsupported("the Indices output") }
            if node.int("storage_order", 0) != 0 { throw node.unsupported("storage_order 1") }
            guard let kernel = node.ints("kernel_shape") else { throw node.invalid("kernel_shape is missing") }
            let oneD = x.shape.count == 3
            let spatial = x.shape.count - 2
            let strides = node.ints("strides") ?? Array(repeating: 1, count: spatial)
            let dilations = node.ints("dilations") ?? Array(repeating: 1, count: spatial)
            let pads = node.ints("pads") ?? Array(repeating: 0, count: 2 * spatial)
            guard kernel.count == spatial, strides.count == spatial, dilations.count == spatial, pads.count == 2 * spatial else {
                throw node.invalid("kernel_shape/strides/pads do not match \(spatial) spatial axes")
            }
            let ceilMode = node.int("ceil_mode", 0) == 1
            let includePad = node.int("count_include_pad", 0) == 1
            let autoPad = node.string("auto_pad", "NOTSET")
            func axis(_ i: Int) -> (out: Int, begin: Int, input: Int) {
                let input = x.shape[2 + i]
                let extent = dilations[i] * (kernel[i] - 1) + 1
                if autoPad != "NOTSET" {
                    let a = Convolution.axis(input: input, kernel: kernel[i], stride: strides[i], dilation: dilations[i],
                                             pads: (0, 0), autoPad: autoPad)
                    return (a.out, a.begin, input)
                }
                let span = input + pads[i] + pads[i + spatial] - extent
                var out = (ceilMode ? (span + strides[i] - 1) / strides[i] : span / strides[i]) + 1
                // A last window that would start inside the end padding is dropped (ONNX/PyTorch rule).
                if ceilMode && (out - 1) * strides[i] >= input + pads[i] { out -= 1 }
                return (out, pads[i], input)
            }
            if spatial == 3 {
                // Volumetric (CT) pooling: rare, so a straightforward loop over whole tensors.
                let axes = (0..<3).map(axis)
                return volumetric(x, axes: axes, kernel: kernel, strides: strides, dilations: dilations,
                                  padEnds: Array(pads.suffix(3)), isMax: isMax, includePad: includePad, inputs: inputs)
            }
            let h = oneD ? (out: 1, begin: 0, input: 1) : axis(0)
            let w = axis(oneD ? 0 : 1)
            let (kh, kw) = oneD ? (1, kernel[0]) : (kernel[0], kernel[1])
            let (sh, sw) = oneD ? (1, strides[0]) : (strides[0], strides[1])
            let (dh, dw) = oneD ? (1, dilations[0]) : (dilations[0], dilations[1])
            let planes = x.shape[0] * x.shape[1]
            let outShape = Array(x.shape.prefix(2)) + (oneD ? [w.out] : [h.out, w.out])
            // Window ends for count_include_pad count up to the padded edge, not past it.
            let padEndH = oneD ? 0 : pads[2], padEndW = oneD ? pads[1] : pads[3]
            let pool = context.pool
            // Max over a kh x kw window is a max over rows of maxes over columns: two passes of
            // k instead of k^2 comparisons, without per-tap bounds checks (YOLO's SPPF pools
            // 5 x 5 three times; ResNet's stem pools 3 x 3 with stride 2). CKernels/pooling.c.
            let separable = isMax && dh == 1 && dw == 1 && !oneD
            if separable {
                let inW = w.input, inH = h.input, outW = w.out, outH = h.out
                let top = h.begin, left = w.begin
                return PreparedOp(outputs: [(outShape, .float32)], scratch: pool.threads * inH * outW) { ins, outs, scratchOffset in
                    let src = ins[0]!, dst = outs[0]
                    return { frame in
                        let input = frame.floats(src), output = frame.floats(dst)
                        let scratch = frame.arena + scratchOffset
                        let perThread = (planes + pool.threads - 1) / pool.threads
                        pool.forEachRange(pool.threads) { jobs in
                            for job in jobs {
                                let rowsMax = scratch + job * inH * outW
                                for p in (job * perThread)..<min(planes, (job + 1) * perThread) {
                                    vigil_max_pool_plane(input + p * inH * inW, output + p * outH * outW, rowsMax,
                                                         Int32(inH), Int32(inW), Int32(outH), Int32(outW), Int32(kh), Int32(kw),
                                                         Int32(sh), Int32(sw), Int32(top), Int32(left))
                                }
                            }
                        }
                    }
                }
            }
            return PreparedOp(outputs: [(outShape, .float32)]) { ins, outs, _ in
                let src = ins[0]!, dst = outs[0]
                return { frame in
                    let input = frame.floats(src), output = frame.floats(dst)
                    pool.forEachRange(planes) { range in
                        for p in range {
                            let xp = input + p * h.input * w.input, yp = output + p * h.out * w.out
                            for oy in 0..<h.out {
                                for ox in 0..<w.out {
                                    var acc: Float = isMax ? -.infinity : 0
                                    var n = 0
                                    let y0 = oy * sh - h.begin, x0 = ox * sw - w.begin
                                    for ky in 0..<kh {
                                        let iy = y0 + ky * dh
                                        if iy < 0 || iy >= h.input { continue }
                                        for kx in 0..<kw {
                                            let ix = x0 + kx * dw
                                            if ix < 0 || ix >= w.input { continue }
                                            let v = xp[iy * w.input + ix]
                                            if isMax { if v > acc || v.isNaN { acc = v } } else { acc += v }
                                            n += 1
                                        }
                                    }
                                    if !isMax {
                                        if includePad {
                                            let hEnd = min(y0 + (kh - 1) * dh + 1, h.input + padEndH)
                                            let wEnd = min(x0 + (kw - 1) * dw + 1, w.input + padEndW)
                                            n = ((hEnd - y0 + dh - 1) / dh) * ((wEnd - x0 + dw - 1) / dw)
                                        }
                                        acc /= Float(max(n, 1))
                                    }
                                    yp[oy * w.out + ox] = acc
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// 3-D max or average pooling over [N, C, D, H, W].
    static func volumetric(_ x: Operand, axes: [(out: Int, begin: Int, input: Int)], kernel: [Int], strides: [Int],
                           dilations: [Int], padEnds: [Int], isMax: Bool, includePad: Bool, inputs: [Operand?]) -> PreparedOp {
        let outShape = Array(x.shape.prefix(2)) + axes.map(\.out)
        let planes = x.shape[0] * x.shape[1]
        let inSize = axes.map(\.input), outSize = axes.map(\.out)
        return Steps.tensors([(outShape, .float32)], inputs: [inputs[0]]) { t in
            let input = t[0]!.floats
            var out = [Float](repeating: 0, count: Shapes.count(outShape))
            let inPlane = inSize.reduce(1, *), outPlane = outSize.reduce(1, *)
            for p in 0..<planes {
                for o in 0..<outPlane {
                    let oc = [o / (outSize[1] * outSize[2]), (o / outSize[2]) % outSize[1], o % outSize[2]]
                    let start = (0..<3).map { oc[$0] * strides[$0] - axes[$0].begin }
                    var acc: Float = isMax ? -.infinity : 0
                    var n = 0
                    for kd in 0..<kernel[0] {
                        let z = start[0] + kd * dilations[0]
                        if z < 0 || z >= inSize[0] { continue }
                        for kh in 0..<kernel[1] {
                            let y = start[1] + kh * dilations[1]
                            if y < 0 || y >= inSize[1] { continue }
                            for kw in 0..<kernel[2] {
                                let xx = start[2] + kw * dilations[2]
                                if xx < 0 || xx >= inSize[2] { continue }
                                let v = input[p * inPlane + (z * inSize[1] + y) * inSize[2] + xx]
                                if isMax { if v > acc || v.isNaN { acc = v } } else { acc += v }
                                n += 1
                            }
                        }
                    }
                    if !isMax {
                        if includePad {
                            // Window positions inside the padded extent count, clipped at its end.
                            n = (0..<3).reduce(1) { product, a in
                                let end = min(start[a] + (kernel[a] - 1) * dilations[a] + 1, inSize[a] + padEnds[a])
                                return product * ((end - start[a] + dilations[a] - 1) / dilations[a])
                            }
                        }
                        acc /= Float(max(n, 1))
                    }
                    out[p * outPlane + o] = acc
                }
            }
            return [Tensor(shape: outShape, floats: out)]
        }
    }

    static let globalAverage: OperatorPrepare = { node, inputs, context throws(EngineError) in
        let x = try node.required(inputs, 0)
        guard x.shape.count >= 3 else { throw node.invalid("input rank \(x.shape.count)") }
        let planes = x.shape[0] * x.shape[1], size = x.shape.dropFirst(2).reduce(1, *)
        let outShape = Array(x.shape.prefix(2)) + Array(repeating: 1, count: x.shape.count - 2)
        let pool = context.pool
        return PreparedOp(outputs: [(outShape, .float32)]) { ins, outs, _ in
            let src = ins[0]!, dst = outs[0]
            return { frame in
                let input = frame.floats(src), output = frame.floats(dst)
                pool.forEachRange(planes, minimumChunk: max(1, 16384 / max(size, 1))) { range in
                    for p in range {
                        var acc: Float = 0
                        vDSPSum(input + p * size, size, &acc)
                        output[p] = acc / Float(size)
                    }
                }
            }
        }
    }

    /// Inference-mode BatchNormalization as a per-channel affine map (when not folded into a Conv).
    static let batchNorm: OperatorPrepare = { node, inputs, context throws(EngineError) in
        let x = try node.required(inputs, 0)
        if node.int("training_mode", 0) != 0 { throw node.unsupported("training_mode 1") }
        for i in 1...4 { _ = try node.required(inputs, i) }
        let epsilon = node.float("epsilon", 1e-5)
        let channels = x.shape.count > 1 ? x.shape[1] : 1
        let inner = x.shape.dropFirst(2).reduce(1, *), batch = x.shape[0]
        let pool = context.pool
        return PreparedOp(outputs: [(x.shape, .float32)]) { ins, outs, _ in
            let src = ins[0]!, dst = outs[0], params = (1...4).map { ins[$0]! }
            return { frame in
                let input = frame.floats(src), output = frame.floats(dst)
                let p = params.map { UnsafeBufferPointer(start: frame.floats($0), count: channels) }
                let (a, b) = BatchNormFolding.affine(scale: Array(p[0]), bias: Array(p[1]), mean: Array(p[2]), variance: Array(p[3]), epsilon: epsilon)
                pool.forEachRange(batch * channels) { range in
                    for nc in range {
                        let c = nc % channels, s = a[c], t = b[c]
                        let o = output + nc * inner
                        if o != input + nc * inner { o.update(from: input + nc * inner, count: inner) }
                        mapInPlace(o, inner) { $0 * s + t }
                    }
                }
            }
        }
    }
}

/// BatchNormalization as y = a·x + b per channel.
enum BatchNormFolding {
    static func affine(scale: [Float], bias: [Float], mean: [Float], variance: [Float], epsilon: Float) -> ([Float], [Float]) {
        var a = [Float](), b = [Float]()
        for c in 0..<scale.count {
            let s = scale[c] / (variance[c] + epsilon).squareRoot()
            a.append(s)
            b.append(bias[c] - mean[c] * s)
        }
        return (a, b)
    }
}

/// Sums `count` floats with 16 independent SIMD accumulators.
func vDSPSum(_ p: UnsafeMutablePointer<Float>, _ count: Int, _ result: inout Float) {
    var acc = SIMD16<Float>.zero
    var i = 0
    while i + 16 <= count {
        acc += p.load16(i)
        i += 16
    }
    var total = acc.sum()
    while i < count {
        total += p[i]
        i += 1
    }
    result = total
}
