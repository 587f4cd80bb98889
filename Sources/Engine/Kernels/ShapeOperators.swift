import Compute
import Foundation

/// Operators that move or reshape data without arithmetic, and the shape computations
/// exporters emit (folded at plan time when their inputs are known).
enum ShapeOperators {
    static let reshape: OperatorPrepare = { node, inputs, _ throws(EngineError) in
        let x = try node.required(inputs, 0)
        let spec = try node.constant(inputs, 1, "the target shape").intValues
        let allowZero = node.int("allowzero", 0) == 1
        var shape = spec.enumerated().map { i, d in d == 0 && !allowZero ? (i < x.shape.count ? x.shape[i] : 0) : d }
        if let unknown = shape.firstIndex(of: -1) {
            let known = shape.enumerated().filter { $0.offset != unknown }.map(\.element).reduce(1, *)
            guard known > 0, x.count % known == 0 else { throw node.invalid("cannot reshape \(x.shape) to \(spec)") }
            shape[unknown] = x.count / known
        }
        guard Shapes.count(shape) == x.count, shape.allSatisfy({ $0 >= 0 }) else { throw node.invalid("cannot reshape \(x.shape) to \(spec)") }
        return Steps.copy(x, to: shape)
    }

    static let flatten: OperatorPrepare = { node, inputs, _ throws(EngineError) in
        let x = try node.required(inputs, 0)
        let rank = x.shape.count, requested = node.int("axis", 1)
        let axis = requested < 0 ? requested + rank : requested
        guard (0...rank).contains(axis) else { throw node.invalid("axis \(requested) out of range for rank \(rank)") }
        return Steps.copy(x, to: [x.shape.prefix(axis).reduce(1, *), x.shape.dropFirst(axis).reduce(1, *)])
    }

    static func axesArgument(_ node: Node, _ inputs: [Operand?]) throws(EngineError) -> [Int]? {
        if let axes = node.ints("axes") { return axes }
        if inputs.count > 1, inputs[1] != nil { return try node.constant(inputs, 1, "axes").intValues }
        return nil
    }

    static let squeeze: OperatorPrepare = { node, inputs, _ throws(EngineError) in
        let x = try node.required(inputs, 0)
        let rank = x.shape.count
        var drop = Set<Int>()
        if let axes = try axesArgument(node, inputs) {
            for a in axes {
                guard let v = Shapes.axis(a, rank: rank), x.shape[v] == 1 else { throw node.invalid("cannot squeeze axis \(a) of \(x.shape)") }
                drop.insert(v)
            }
        } else {
            drop = Set(x.shape.indices.filter { x.shape[$0] == 1 })
        }
        return Steps.copy(x, to: x.shape.indices.filter { !drop.contains($0) }.map { x.shape[$0] })
    }

    static let unsqueeze: OperatorPrepare = { node, inputs, _ throws(EngineError) in
        let x = try node.required(inputs, 0)
        guard let axes = try axesArgument(node, inputs) else { throw node.invalid("axes are missing") }
        let rank = x.shape.count + axes.count
        var insert = Set<Int>()
        for a in axes {
            guard let v = Shapes.axis(a, rank: rank), insert.insert(v).inserted else { throw node.invalid("bad axes \(axes)") }
        }
        var source = x.shape.makeIterator()
        return Steps.copy(x, to: (0..<rank).map { insert.contains($0) ? 1 : source.next()! })
    }

    static let identity: OperatorPrepare = { node, inputs, _ throws(EngineError) in
        let x = try node.required(inputs, 0)
        return Steps.copy(x, to: x.shape)
    }

    static let transpose: OperatorPrepare = { node, inputs, context throws(EngineError) in
        let x = try node.required(inputs, 0)
        let perm = node.ints("perm") ?? Array((0..<x.shape.count).reversed())
        guard perm.sorted() == Array(0..<x.shape.count) else { throw node.invalid("perm \(perm) for rank \(x.shape.count)") }
        let outShape = perm.map { x.shape[$0] }
        let inStrides = Shapes.strides(x.shape)
        // Output axis a walks input axis perm[a].
        var table = [Int32](repeating: 0, count: x.count)
        var i = 0
        ElementwiseOperators.forEachBroadcast(outShape, perm.map { inStrides[$0] }, perm.map { inStrides[$0] }) { o, src, _ in
            table[o] = Int32(src)
            i += 1
        }
        return Steps.gather(x, outputShape: outShape, table: table, pool: context.pool)
    }

    static let expand: OperatorPrepare = { node, inputs, context throws(EngineError) in
        let x = try node.required(inputs, 0)
        let target = try node.constant(inputs, 1, "the shape").intValues
        guard let shape = Shapes.broadcast([x.shape, target]) else { throw node.invalid("cannot expand \(x.shape) to \(target)") }
        let s = Shapes.broadcastStrides(x.shape, to: shape)
        var table = [Int32](repeating: 0, count: Shapes.count(shape))
        ElementwiseOperators.forEachBroadcast(shape, s, s) { o, src, _ in table[o] = Int32(src) }
        return Steps.gather(x, outputShape: shape, table: table, pool: context.pool)
    }

    static let slice: OperatorPrepare = { node, inputs, context throws(EngineError) in
        let x = try node.required(inputs, 0)
        let rank = x.shape.count
        var starts: [Int], ends: [Int], axes: [Int], steps: [Int]
        if context.opset < 10 || node.ints("starts") != nil {
            starts = node.ints("starts") ?? []
            ends = node.ints("ends") ?? []
            axes = node.ints("axes") ?? Array(0..<starts.count)
            steps = Array(repeating: 1, count: starts.count)
        } else {
            starts = try node.constant(inputs, 1, "starts").intValues
            ends = try node.constant(inputs, 2, "ends").intValues
            axes = inputs.count > 3 && inputs[3] != nil ? try node.constant(inputs, 3, "axes").intValues : Array(0..<starts.count)
            steps = inputs.count > 4 && inputs[4] != nil ? try node.constant(inputs, 4, "steps").intValues : Array(repeating: 1, count: starts.count)
        }
        var map = x.shape.map { Array(0..<$0) }
        var outShape = x.shape
        for (i, a) in axes.enumerated() {
            guard let axis = Shapes.axis(a, rank: rank), steps[i] != 0 else { throw node.invalid("bad axis \(a) or step") }
            let dim = x.shape[axis], step = steps[i]
            func clampIndex(_ v: Int, _ lo: Int, _ hi: Int) -> Int { min(max(v < 0 ? v + dim : v, lo), hi) }
            let start = step > 0 ? clampIndex(starts[i], 0, dim) : clampIndex(starts[i], -1, dim - 1)
            let end = step > 0 ? clampIndex(ends[i], 0, dim) : clampIndex(ends[i], -1, dim - 1)
            map[axis] = Array(stride(from: start, to: end, by: step))
            outShape[axis] = map[axis].count
        }
        let table = Steps.axisTable(inputShape: x.shape, outputShape: outShape, map: map)
        return Steps.gather(x, outputShape: outShape, table: table, pool: context.pool)
    }

    static let pad: OperatorPrepare = { node, inputs, context throws(EngineError) in
        let x = try node.required(inputs, 0)
        let rank = x.shape.count
        let mode = node.string("mode", "constant")
        var pads = node.ints("pads") ?? []
        var value: Float = node.float("value", 0)
        if pads.isEmpty { pads = try node.constant(inputs, 1, "pads").intValues }
        let runtimeValue = inputs.count > 2 && inputs[2] != nil && inputs[2]!.constant == nil
        if inputs.count > 2, let v = inputs[2], let known = v.constant { value = Float(known.value(0)) }
        var axes = Array(0..<rank)
        if inputs.count > 3, inputs[3] != nil {
            axes = try node.constant(inputs, 3, "axes").intValues.map { $0 < 0 ? $0 + rank : $0 }
        }
        guard pads.count == 2 * axes.count else { throw node.invalid("pads \(pads) for \(axes.count) axes") }
        guard ["constant", "reflect", "edge"].contains(mode) else { throw node.unsupported("mode \(mode)") }
        var map = x.shape.map { Array(0..<$0) }
        var outShape = x.shape
        for (i, axis) in axes.enumerated() {
            let dim = x.shape[axis], before = pads[i], after = pads[i + axes.count]
            let length = dim + before + after
            guard length >= 0 else { throw node.invalid("negative size after padding") }
            map[axis] = (0..<length).map { o in
                var c = o - before
                if c >= 0 && c < dim { return c }
                switch mode {
                case "edge": return min(max(c, 0), dim - 1)
                case "reflect":
                    guard dim > 1 else { return 0 }
                    let period = 2 * (dim - 1)
                    c = ((c % period) + period) % period
                    return c < dim ? c : period - c
                default: return -1
                }
            }
            outShape[axis] = length
        }
        let table = Steps.axisTable(inputShape: x.shape, outputShape: outShape, map: map)
        if runtimeValue {
            // The fill value is a graph input: read it on each run.
            let padded = outShape
            return Steps.tensors([(padded, x.dtype)], inputs: [inputs[0], nil, inputs[2]]) { t in
                let data = t[0]!, fill = t[2]!
                if data.dtype.isFloat {
                    let f = Float(fill.value(0))
                    return [Tensor(shape: padded, floats: table.map { $0 >= 0 ? data.floats[Int($0)] : f })]
                }
                let f = Int64(fill.value(0))
                return [Tensor(shape: padded, ints: table.map { $0 >= 0 ? data.ints[Int($0)] : f }, dtype: data.dtype)]
            }
        }
        return Steps.gather(x, outputShape: outShape, table: table, fill: value, pool: context.pool)
    }

    static let gather: OperatorPrepare = { node, inputs, context throws(EngineError) in
        let x = try node.required(inputs, 0), idx = try node.required(inputs, 1)
        guard let axis = Shapes.axis(node.int("axis", 0), rank: x.shape.count) else { throw node.invalid("axis out of range") }
        let outShape = Array(x.shape.prefix(axis)) + idx.shape + Array(x.shape.dropFirst(axis + 1))
        let outer = x.shape.prefix(axis).reduce(1, *), inner = x.shape.dropFirst(axis + 1).reduce(1, *), dim = x.shape[axis]
        @Sendable func table(_ indices: [Int]) -> [Int32] {
            var t: [Int32] = []
            t.reserveCapacity(outer * indices.count * inner)
            for o in 0..<outer {
                for i in indices {
                    let j = i < 0 ? i + dim : i
                    for k in 0..<inner { t.append(Int32((o * dim + j) * inner + k)) }
                }
            }
            return t
        }
        if let known = idx.constant {
            let indices = known.intValues
            guard indices.allSatisfy({ $0 >= -dim && $0 < dim }) else { throw node.invalid("index out of range for axis of \(dim)") }
            return Steps.gather(x, outputShape: outShape, table: table(indices), pool: context.pool)
        }
        return Steps.tensors([(outShape, x.dtype)], inputs: inputs) { t in
            let data = t[0]!, indices = t[1]!.intValues.map { min(max($0, -dim), dim - 1) }
            let positions = table(indices).map(Int.init)
            return [data.dtype.isFloat ? Tensor(shape: outShape, floats: positions.map { data.floats[$0] })
                    : Tensor(shape: outShape, ints: positions.map { data.ints[$0] }, dtype: data.dtype)]
        }
    }

    /// Concat: each input copied as a block per outer index.
    static let concat: OperatorPrepare = { node, inputs, context throws(EngineError) in
        let parts = inputs.compactMap { $0 }
        guard let first = parts.first else { throw node.invalid("no inputs") }
        guard let axis = Shapes.axis(node.int("axis", 0), rank: first.shape.count) else { throw node.invalid("axis out of range") }
        var outShape = first.shape
        outShape[axis] = parts.map { $0.shape[axis] }.reduce(0, +)
        for p in parts where p.shape.count != first.shape.count || p.dtype != first.dtype
            || p.shape.enumerated().contains(where: { $0.offset != axis && $0.element != first.shape[$0.offset] }) {
            throw node.invalid("input \(p.shape) does not match \(first.shape) off axis \(axis)")
        }
        let outer = first.shape.prefix(axis).reduce(1, *), inner = first.shape.dropFirst(axis + 1).reduce(1, *)
        let blocks = parts.map { $0.shape[axis] * inner }
        let total = outShape[axis] * inner
        let concatShape = outShape
        guard first.dtype.isFloat else {
            return Steps.tensors([(outShape, first.dtype)], inputs: inputs) { t in
                var out: [Int64] = []
                let present = t.compactMap { $0 }
                for o in 0..<outer {
                    for (i, p) in present.enumerated() { out += p.ints[(o * blocks[i])..<((o + 1) * blocks[i])] }
                }
                return [Tensor(shape: concatShape, ints: out, dtype: first.dtype)]
            }
        }
        let pool = context.pool
        return PreparedOp(outputs: [(outShape, .float32)]) { ins, outs, _ in
            let sources = ins.compactMap { $0 }, dst = outs[0]
            return { frame in
                let out = frame.floats(dst)
                let pointers = sources.map { frame.floats($0) }
                pool.forEachRange(outer * pointers.count, minimumChunk: 4) { range in
                    for job in range {
                        let o = job / pointers.count, i = job % pointers.count
                        let offset = blocks[..<i].reduce(0, +)
                        (out + o * total + offset).update(from: pointers[i] + o * blocks[i], count: blocks[i])
                    }
                }
            }
        }
    }

    static let split: OperatorPrepare = { node, inputs, context throws(EngineError) in
        let x = try node.required(inputs, 0)
        guard let axis = Shapes.axis(node.int("axis", 0), rank: x.shape.count) else { throw node.invalid("axis out of range") }
        let dim = x.shape[axis]
        let sizes: [Int]
        if let s = node.ints("split") {
            sizes = s
        } else if inputs.count > 1, inputs[1] != nil {
            sizes = try node.constant(inputs, 1, "split").intValues
        } else {
            let parts = node.int("num_outputs", node.outputs.count)
            let size = (dim + parts - 1) / parts
            sizes = (0..<parts).map { min(size, max(0, dim - $0 * size)) }
        }
        guard sizes.reduce(0, +) == dim, sizes.count == node.outputs.count else { throw node.invalid("split \(sizes) of \(dim) into \(node.outputs.count) outputs") }
        let outer = x.shape.prefix(axis).reduce(1, *), inner = x.shape.dropFirst(axis + 1).reduce(1, *)
        let shapes = sizes.map { s -> [Int] in var o = x.shape; o[axis] = s; return o }
        if !x.dtype.isFloat {
            return Steps.tensors(shapes.map { ($0, x.dtype) }, inputs: inputs) { t in
                let v = t[0]!.ints
                var results: [Tensor] = []
                var offset = 0
                for (i, size) in sizes.enumerated() {
                    var out: [Int64] = []
                    for o in 0..<outer {
                        let start: Int = o * dim * inner + offset
                        out += v[start..<(start + size * inner)]
                    }
                    results.append(Tensor(shape: shapes[i], ints: out, dtype: x.dtype))
                    offset += size * inner
                }
                return results
            }
        }
        let pool = context.pool
        return PreparedOp(outputs: shapes.map { ($0, .float32) }) { ins, outs, _ in
            let src = ins[0]!
            return { frame in
                let input = frame.floats(src)
                let pointers = outs.map { frame.floats($0) }
                pool.forEachRange(outer * sizes.count, minimumChunk: 4) { range in
                    for job in range {
                        let o = job / sizes.count, i = job % sizes.count
                        let offset = sizes[..<i].reduce(0, +) * inner
                        (pointers[i] + o * sizes[i] * inner).update(from: input + o * dim * inner + offset, count: sizes[i] * inner)
                    }
                }
            }
        }
    }

    // MARK: Shape arithmetic

    static let shape: OperatorPrepare = { node, inputs, _ throws(EngineError) in
        let x = try node.required(inputs, 0)
        let rank = x.shape.count
        var start = node.int("start", 0), end = node.int("end", rank)
        start = min(max(start < 0 ? start + rank : start, 0), rank)
        end = min(max(end < 0 ? end + rank : end, 0), rank)
        let dims = start < end ? Array(x.shape[start..<end]).map(Int64.init) : []
        return PreparedOp(outputs: [([dims.count], .int64)], constantOutputs: [.vector(dims)]) { _, _, _ in { _ in } }
    }

    static let constant: OperatorPrepare = { node, _, _ throws(EngineError) in
        let t: Tensor
        switch node.attributes["value"] ?? node.attributes["value_float"] ?? node.attributes["value_floats"]
            ?? node.attributes["value_int"] ?? node.attributes["value_ints"] {
        case .tensor(let v)?: t = v
        case .float(let f)?: t = .scalar(f)
        case .floats(let f)?: t = Tensor(shape: [f.count], floats: f)
        case .int(let i)?: t = Tensor(shape: [], ints: [Int64(i)])
        case .ints(let i)?: t = .vector(i.map(Int64.init))
        default: throw node.unsupported("a Constant without a tensor, float or int value")
        }
        return PreparedOp(outputs: [(t.shape, t.dtype)], constantOutputs: [t]) { _, _, _ in { _ in } }
    }

    static let constantOfShape: OperatorPrepare = { node, inputs, _ throws(EngineError) in
        let shape = try node.constant(inputs, 0, "the shape").intValues
        var fill = Tensor(shape: [1], floats: [0])
        if case .tensor(let v)? = node.attributes["value"] { fill = v }
        let n = Shapes.count(shape)
        let t = fill.dtype.isFloat ? Tensor(shape: shape, floats: .init(repeating: fill.floats[0], count: n))
            : Tensor(shape: shape, ints: .init(repeating: fill.ints[0], count: n), dtype: fill.dtype)
        return PreparedOp(outputs: [(shape, t.dtype)], constantOutputs: [t]) { _, _, _ in { _ in } }
    }

    static let cast: OperatorPrepare = { node, inputs, _ throws(EngineError) in
        let x = try node.required(inputs, 0)
        guard let to = DataType(rawValue: node.int("to", 1)) else { throw node.unsupported("cast to ONNX type \(node.int("to", 0))") }
        return Steps.tensors([(x.shape, to)], inputs: inputs) { t in [t[0]!.cast(to: to)] }
    }

    static let range: OperatorPrepare = { node, inputs, _ throws(EngineError) in
        let start = try node.constant(inputs, 0, "start"), limit = try node.constant(inputs, 1, "limit")
        let delta = try node.constant(inputs, 2, "delta")
        let (s, l, d) = (start.value(0), limit.value(0), delta.value(0))
        guard d != 0 else { throw node.invalid("delta is 0") }
        let n = max(0, Int(((l - s) / d).rounded(.up)))
        let t = start.dtype.isFloat ? Tensor(shape: [n], floats: (0..<n).map { Float(s + Double($0) * d) })
            : Tensor(shape: [n], ints: (0..<n).map { Int64(s) + Int64($0) * Int64(d) }, dtype: start.dtype)
        return PreparedOp(outputs: [([n], t.dtype)], constantOutputs: [t]) { _, _, _ in { _ in } }
    }

    static let equal: OperatorPrepare = { node, inputs, _ throws(EngineError) in
        let a = try node.required(inputs, 0), b = try node.required(inputs, 1)
        guard let shape = Shapes.broadcast([a.shape, b.shape]) else { throw node.invalid("shapes do not broadcast") }
        let sa = Shapes.broadcastStrides(a.shape, to: shape), sb = Shapes.broadcastStrides(b.shape, to: shape)
        return Steps.tensors([(shape, .bool)], inputs: inputs) { t in
            var out = [Int64](repeating: 0, count: Shapes.count(shape))
            ElementwiseOperators.forEachBroadcast(shape, sa, sb) { i, ia, ib in out[i] = t[0]!.value(ia) == t[1]!.value(ib) ? 1 : 0 }
            return [Tensor(shape: shape, ints: out, dtype: .bool)]
        }
    }

    static let `where`: OperatorPrepare = { node, inputs, _ throws(EngineError) in
        let c = try node.required(inputs, 0), a = try node.required(inputs, 1), b = try node.required(inputs, 2)
        guard let shape = Shapes.broadcast([c.shape, a.shape, b.shape]) else { throw node.invalid("shapes do not broadcast") }
        let sc = Shapes.broadcastStrides(c.shape, to: shape)
        let sa = Shapes.broadcastStrides(a.shape, to: shape), sb = Shapes.broadcastStrides(b.shape, to: shape)
        return Steps.tensors([(shape, a.dtype)], inputs: inputs) { t in
            let cond = t[0]!, x = t[1]!, y = t[2]!
            var fromA: [Int] = [], fromB: [Int] = [], fromC: [Int] = []
            ElementwiseOperators.forEachBroadcast(shape, sa, sb) { _, i, j in fromA.append(i); fromB.append(j) }
            ElementwiseOperators.forEachBroadcast(shape, sc, sc) { _, k, _ in fromC.append(k) }
            let take = fromC.map { cond.ints[$0] != 0 }
            if x.dtype.isFloat {
                return [Tensor(shape: shape, floats: take.indices.map { take[$0] ? x.floats[fromA[$0]] : y.floats[fromB[$0]] })]
            }
            return [Tensor(shape: shape, ints: take.indices.map { take[$0] ? x.ints[fromA[$0]] : y.ints[fromB[$0]] }, dtype: x.dtype)]
        }
    }
}
