import Compute

/// ConvTranspose (2-D, and 1-D as height 1) by direct scatter: rare in detectors, kept simple.
enum ConvTranspose {
    static let prepare: OperatorPrepare = { node, inputs, context throws(EngineError) in
        let x = try node.required(inputs, 0)
        let w = try node.required(inputs, 1)
        guard x.shape.count == 4 || x.shape.count == 3, w.shape.count == x.shape.count else { throw node.unsupported("\(x.shape.count - 2)-D ConvTranspose") }
        let oneD = x.shape.count == 3
        let group = node.int("group", 1)
        let (n, c) = (x.shape[0], x.shape[1])
        let inH = oneD ? 1 : x.shape[2], inW = x.shape[x.shape.count - 1]
        let mPerGroup = w.shape[1], m = mPerGroup * group
        let kh = oneD ? 1 : w.shape[2], kw = w.shape[w.shape.count - 1]
        guard w.shape[0] == c, c % group == 0 else { throw node.invalid("weights \(w.shape) for input \(x.shape)") }
        let spatial = oneD ? 1 : 2
        let strides = node.ints("strides") ?? Array(repeating: 1, count: spatial)
        let dilations = node.ints("dilations") ?? Array(repeating: 1, count: spatial)
        let outputPadding = node.ints("output_padding") ?? Array(repeating: 0, count: spatial)
        var pads = node.ints("pads") ?? Array(repeating: 0, count: 2 * spatial)
        let inputs2 = oneD ? [inW] : [inH, inW], kernel = oneD ? [kw] : [kh, kw]
        /// Full output length along axis i before any padding is removed.
        func unpadded(_ i: Int) -> Int {
            let span: Int = (kernel[i] - 1) * dilations[i] + 1
            return strides[i] * (inputs2[i] - 1) + outputPadding[i] + span
        }
        var outSpatial: [Int] = (0..<spatial).map { i in unpadded(i) - pads[i] - pads[i + spatial] }
        let autoPad = node.string("auto_pad", "NOTSET")
        var requested = node.ints("output_shape")
        if requested == nil, autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER" {
            requested = (0..<spatial).map { inputs2[$0] * strides[$0] }
        }
        if let shape = requested {
            let wanted = Array(shape.suffix(spatial))
            for i in 0..<spatial {
                let total = unpadded(i) - wanted[i]
                // Floor division, as the reference does: a negative total pads the end, not the start.
                let half = Int((Double(total) / 2).rounded(.down))
                (pads[i], pads[i + spatial]) = autoPad == "SAME_UPPER" ? (half, total - half) : (total - half, half)
            }
            outSpatial = wanted
        }
        let outH = oneD ? 1 : outSpatial[0], outW = outSpatial[spatial - 1]
        let (sh, sw) = oneD ? (1, strides[0]) : (strides[0], strides[1])
        let (dh, dw) = oneD ? (1, dilations[0]) : (dilations[0], dilations[1])
        let (pt, pl) = oneD ? (0, pads[0]) : (pads[0], pads[1])
        let hasBias = inputs.count > 2 && inputs[2] != nil
        let outShape = [n, m] + (oneD ? [outW] : [outH, outW])
        var prepared = Steps.tensors([(outShape, .float32)], inputs: inputs) { t in
            let input = t[0]!.floats, weights = t[1]!.floats
            let biases = hasBias ? t[2]!.floats : [Float](repeating: 0, count: m)
            var out = [Float](repeating: 0, count: n * m * outH * outW)
            let cPerGroup = c / group
            for b in 0..<n {
                for oc in 0..<m { for i in 0..<(outH * outW) { out[(b * m + oc) * outH * outW + i] = biases[oc] } }
                for ic in 0..<c {
                    let g = ic / cPerGroup
                    for iy in 0..<inH {
                        for ix in 0..<inW {
                            let v = input[((b * c + ic) * inH + iy) * inW + ix]
                            for mm in 0..<mPerGroup {
                                let oc = g * mPerGroup + mm
                                for ky in 0..<kh {
                                    let oy = iy * sh - pt + ky * dh
                                    if oy < 0 || oy >= outH { continue }
                                    for kx in 0..<kw {
                                        let ox = ix * sw - pl + kx * dw
                                        if ox < 0 || ox >= outW { continue }
                                        out[((b * m + oc) * outH + oy) * outW + ox] += v * weights[((ic * mPerGroup + mm) * kh + ky) * kw + kx]
                                    }
                                }
                            }
                        }
                    }
                }
            }
            return [Tensor(shape: outShape, floats: out)]
        }
        prepared.flops = 2.0 * Double(n * c * inH * inW * mPerGroup * kh * kw)
        return prepared
    }
}
