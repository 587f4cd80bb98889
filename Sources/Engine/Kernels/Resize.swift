import Compute
import Foundation

/// Resize (and opset-10 style scales): nearest through an index table, linear as separable
/// two-tap passes along each resized axis.
enum Resize {
    static let prepare: OperatorPrepare = { node, inputs, context throws(EngineError) in
        let x = try node.required(inputs, 0)
        let rank = x.shape.count
        let mode = node.string("mode", "nearest")
        guard mode == "nearest" || mode == "linear" else { throw node.unsupported("mode \(mode)") }
        if node.int("antialias", 0) != 0 { throw node.unsupported("antialias 1") }
        // Opset 18 `axes`: scales and sizes name only these axes; the others keep their size.
        let axes: [Int]
        if let given = node.ints("axes") {
            axes = given.map { $0 < 0 ? $0 + rank : $0 }
            guard axes.allSatisfy({ (0..<rank).contains($0) }), Set(axes).count == axes.count else { throw node.invalid("axes \(given)") }
        } else {
            axes = Array(0..<rank)
        }
        if node.string("keep_aspect_ratio_policy", "stretch") != "stretch" { throw node.unsupported("keep_aspect_ratio_policy") }
        let coordinateMode = node.string("coordinate_transformation_mode", context.opset < 11 ? "asymmetric" : "half_pixel")
        guard ["half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_half_pixel_for_nn"].contains(coordinateMode) else {
            throw node.unsupported("coordinate_transformation_mode \(coordinateMode)")
        }
        let nearestMode = node.string("nearest_mode", "round_prefer_floor")
        var scales: [Double]? = nil
        var sizes: [Int]? = nil
        let scalesIndex = context.opset < 11 || inputs.count == 2 ? 1 : 2
        if inputs.count > scalesIndex, let s = inputs[scalesIndex], s.count > 0 {
            let given = try node.constant(inputs, scalesIndex, "scales").floats.map(Double.init)
            guard given.count == axes.count else { throw node.invalid("scales \(given) for \(axes.count) axes") }
            var full = [Double](repeating: 1, count: rank)
            for (a, v) in zip(axes, given) { full[a] = v }
            scales = full
        }
        if inputs.count > 3, let s = inputs[3], s.count > 0 {
            let given = try node.constant(inputs, 3, "sizes").intValues
            guard given.count == axes.count else { throw node.invalid("sizes \(given) for \(axes.count) axes") }
            var full = x.shape
            for (a, v) in zip(axes, given) { full[a] = v }
            sizes = full
        }
        var outShape = x.shape
        if let sizes {
            guard sizes.count == rank else { throw node.invalid("sizes \(sizes) for rank \(rank)") }
            outShape = sizes
            scales = (0..<rank).map { Double(sizes[$0]) / Double(x.shape[$0]) }
        } else if let s = scales {
            guard s.count == rank else { throw node.invalid("scales \(s) for rank \(rank)") }
            outShape = (0..<rank).map { Int((Double(x.shape[$0]) * s[$0]).rounded(.down)) }
        } else {
            throw node.invalid("neither scales nor sizes given")
        }
        let scale = scales!
        /// Input coordinate of output coordinate `o` along an axis.
        func source(_ o: Int, axis a: Int) -> Double {
            let inLen = Double(x.shape[a]), outLen = Double(outShape[a]), s = scale[a]
            switch coordinateMode {
            case "half_pixel": return (Double(o) + 0.5) / s - 0.5
            case "pytorch_half_pixel": return outLen > 1 ? (Double(o) + 0.5) / s - 0.5 : 0
            case "align_corners": return outLen == 1 ? 0 : Double(o) * (inLen - 1) / (outLen - 1)
            case "tf_half_pixel_for_nn": return (Double(o) + 0.5) / s
            default: return Double(o) / s
            }
        }
        if mode == "nearest" {
            let map = (0..<rank).map { a in
                (0..<outShape[a]).map { o -> Int in
                    let v = source(o, axis: a)
                    let i: Double
                    switch nearestMode {
                    case "floor": i = v.rounded(.down)
                    case "ceil": i = v.rounded(.up)
                    case "round_prefer_ceil": i = (v - v.rounded(.down)) == 0.5 ? v.rounded(.up) : v.rounded()
                    default: i = (v - v.rounded(.down)) == 0.5 ? v.rounded(.down) : v.rounded()
                    }
                    return min(max(Int(i), 0), x.shape[a] - 1)
                }
            }
            let table = Steps.axisTable(inputShape: x.shape, outputShape: outShape, map: map)
            return Steps.gather(x, outputShape: outShape, table: table, pool: context.pool)
        }
        // Linear: one pass per resized axis, two taps each, clamped at the edges.
        struct Pass { var axis: Int; var low: [Int]; var high: [Int]; var weight: [Float] }
        var passes: [Pass] = []
        for a in 0..<rank where outShape[a] != x.shape[a] || scale[a] != 1 {
            var pass = Pass(axis: a, low: [], high: [], weight: [])
            for o in 0..<outShape[a] {
                let v = min(max(source(o, axis: a), 0), Double(x.shape[a] - 1))
                let lo = Int(v.rounded(.down))
                pass.low.append(lo)
                pass.high.append(min(lo + 1, x.shape[a] - 1))
                pass.weight.append(Float(v - Double(lo)))
            }
            passes.append(pass)
        }
        let linearPasses = passes, resultShape = outShape
        return Steps.tensors([(resultShape, .float32)], inputs: [inputs[0]]) { t in
            var data = t[0]!.floats
            var shape = x.shape
            for p in linearPasses {
                let outer = shape.prefix(p.axis).reduce(1, *), inner = shape.dropFirst(p.axis + 1).reduce(1, *)
                let dim = shape[p.axis], newDim = p.low.count
                var next = [Float](repeating: 0, count: outer * newDim * inner)
                for o in 0..<outer {
                    for j in 0..<newDim {
                        let w = p.weight[j], a = (o * dim + p.low[j]) * inner, b = (o * dim + p.high[j]) * inner
                        let d = (o * newDim + j) * inner
                        for k in 0..<inner { next[d + k] = data[a + k] * (1 - w) + data[b + k] * w }
                    }
                }
                data = next
                shape[p.axis] = newDim
            }
            return [Tensor(shape: resultShape, floats: data)]
        }
    }
}
