import Compute
import Foundation

/// Softmax, ReduceMean, ReduceMax and ArgMax.
enum Reduction {
    static let softmax: OperatorPrepare = { node, inputs, context throws(EngineError) in
        let x = try node.required(inputs, 0)
        let rank = x.shape.count
        guard let axis = Shapes.axis(node.int("axis", context.opset < 13 ? 1 : -1), rank: rank) else { throw node.invalid("axis out of range") }
        // Before opset 13 the input is coerced to 2-D at `axis`; from 13 on, one axis.
        let outer = x.shape.prefix(axis).reduce(1, *)
        let n = context.opset < 13 ? x.shape.dropFirst(axis).reduce(1, *) : x.shape[axis]
        let inner = context.opset < 13 ? 1 : x.shape.dropFirst(axis + 1).reduce(1, *)
        let pool = context.pool
        return PreparedOp(outputs: [(x.shape, .float32)]) { ins, outs, _ in
            let src = ins[0]!, dst = outs[0]
            return { frame in
                let input = frame.floats(src), output = frame.floats(dst)
                if inner >= 16 {
                    // Softmax along an outer axis (a detector's DFL head: 16 bins x thousands of
                    // anchors): 16 neighbouring columns at a time, every load contiguous.
                    let chunks = inner / 16
                    pool.forEachRange(outer * chunks, minimumChunk: 16) { range in
                        var column = [SIMD16<Float>](repeating: .zero, count: n)
                        for job in range {
                            let base = (job / chunks) * n * inner + (job % chunks) * 16
                            softmaxColumns(input + base, output + base, n: n, stride: inner, &column)
                        }
                    }
                    let tail = inner - chunks * 16
                    if tail == 0 { return }
                    pool.forEachRange(outer, minimumChunk: 16) { range in
                        var row = [Float](repeating: 0, count: n)
                        for o in range {
                            for k in (inner - tail)..<inner { softmaxStrided(input, output, base: o * n * inner + k, n: n, stride: inner, &row) }
                        }
                    }
                    return
                }
                pool.forEachRange(outer * inner, minimumChunk: 64) { range in
                    var row = [Float](repeating: 0, count: n)
                    for job in range {
                        let o = job / inner, k = job % inner
                        softmaxStrided(input, output, base: o * n * inner + k, n: n, stride: inner, &row)
                    }
                }
            }
        }
    }

    /// One softmax over n values `stride` apart, through `row` (n floats).
    static func softmaxStrided(_ input: UnsafeMutablePointer<Float>, _ output: UnsafeMutablePointer<Float>, base: Int, n: Int, stride: Int,
                               _ row: inout [Float]) {
        var m = -Float.infinity
        for i in 0..<n { row[i] = input[base + i * stride]; m = max(m, row[i]) }
        row.withUnsafeMutableBufferPointer { r in mapInPlace(r.baseAddress!, n) { VectorMath.exp($0 - m) } }
        var sum: Float = 0
        row.withUnsafeMutableBufferPointer { r in vDSPSum(r.baseAddress!, n, &sum) }
        for i in 0..<n { output[base + i * stride] = row[i] / sum }
    }

    /// Sixteen softmaxes side by side: column j is x[j], x[j + stride], ... x[j + (n-1) stride].
    static func softmaxColumns(_ x: UnsafeMutablePointer<Float>, _ y: UnsafeMutablePointer<Float>, n: Int, stride: Int,
                               _ column: inout [SIMD16<Float>]) {
        var m = SIMD16<Float>(repeating: -.infinity)
        // replacing(with:where:) compiles to vector compares; pointwiseMax goes lane by lane through memory.
        for i in 0..<n { let v = x.load16(i * stride); m = m.replacing(with: v, where: v .> m) }
        var sum = SIMD16<Float>.zero
        for i in 0..<n {
            let e = VectorMath.exp(x.load16(i * stride) - m)
            column[i] = e
            sum += e
        }
        for i in 0..<n { UnsafeMutableRawPointer(y + i * stride).storeBytes(of: column[i] / sum, as: SIMD16<Float>.self) }
    }

    /// ReduceMean / ReduceMax over any set of axes.
    static func reduce(mean: Bool) -> OperatorPrepare {
        { node, inputs, context throws(EngineError) in
            let x = try node.required(inputs, 0)
            let rank = x.shape.count
            var axes = node.ints("axes")
            if axes == nil, inputs.count > 1, inputs[1] != nil { axes = try node.constant(inputs, 1, "axes").intValues }
            if axes?.isEmpty ?? true {
                axes = node.int("noop_with_empty_axes", 0) == 1 ? [] : Array(0..<rank)
            }
            var reduced = Set<Int>()
            for a in axes! {
                guard let v = Shapes.axis(a, rank: rank) else { throw node.invalid("axis \(a) out of range") }
                reduced.insert(v)
            }
            let keep = node.int("keepdims", 1) == 1
            let keptShape = x.shape.enumerated().map { reduced.contains($0.offset) ? 1 : $0.element }
            let outShape = keep ? keptShape : x.shape.enumerated().filter { !reduced.contains($0.offset) }.map(\.element)
            let target = Shapes.strides(keptShape).enumerated().map { reduced.contains($0.offset) ? 0 : $0.element }
            let perOutput = max(1, x.count / max(1, Shapes.count(keptShape)))
            return Steps.tensors([(outShape, x.dtype)], inputs: [inputs[0]]) { t in
                let v = t[0]!
                var acc = [Double](repeating: mean ? 0 : -.infinity, count: Shapes.count(keptShape))
                ElementwiseOperators.forEachBroadcast(x.shape, Shapes.strides(x.shape), target) { _, i, o in
                    let value = v.value(i)
                    acc[o] = mean ? acc[o] + value : max(acc[o], value)
                }
                if mean { acc = acc.map { $0 / Double(perOutput) } }
                return [v.dtype.isFloat ? Tensor(shape: outShape, floats: acc.map { Float($0) })
                        : Tensor(shape: outShape, ints: acc.map { integerResult($0, v.dtype) }, dtype: v.dtype)]
            }
        }
    }

    /// An integer reduction result; an empty ReduceMax gives the type's smallest value (false for bool).
    static func integerResult(_ v: Double, _ dtype: DataType) -> Int64 {
        if v.isFinite { return Int64(v) }
        if dtype == .bool { return v < 0 ? 0 : 1 }
        return v < 0 ? Int64.min : Int64.max
    }

    static let argmax: OperatorPrepare = { node, inputs, _ throws(EngineError) in
        let x = try node.required(inputs, 0)
        guard let axis = Shapes.axis(node.int("axis", 0), rank: x.shape.count) else { throw node.invalid("axis out of range") }
        let last = node.int("select_last_index", 0) == 1
        let keep = node.int("keepdims", 1) == 1
        var outShape = x.shape
        if keep { outShape[axis] = 1 } else { outShape.remove(at: axis) }
        let outer = x.shape.prefix(axis).reduce(1, *), n = x.shape[axis], inner = x.shape.dropFirst(axis + 1).reduce(1, *)
        let resultShape = outShape
        return Steps.tensors([(resultShape, .int64)], inputs: [inputs[0]]) { t in
            let v = t[0]!
            var out = [Int64](repeating: 0, count: outer * inner)
            for o in 0..<outer {
                for k in 0..<inner {
                    var best = 0
                    for i in 1..<max(n, 1) {
                        let a = v.value((o * n + i) * inner + k), b = v.value((o * n + best) * inner + k)
                        if a > b || (last && a == b) { best = i }
                    }
                    out[o * inner + k] = Int64(best)
                }
            }
            return [Tensor(shape: resultShape, ints: out)]
        }
    }
}
