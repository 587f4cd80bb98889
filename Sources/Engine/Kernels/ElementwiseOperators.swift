import Compute
import Foundation

/// Unary and binary element-wise operators, with NumPy broadcasting.
enum ElementwiseOperators {
    /// Float activations and math: output[i] = f(input[i]), SIMD where a vector form exists.
    static func unary(_ activation: @escaping @Sendable (Node, [Operand?]) throws(EngineError) -> Activation) -> OperatorPrepare {
        { node, inputs, context throws(EngineError) in
            let x = try node.required(inputs, 0)
            guard x.dtype.isFloat else { throw node.unsupported("\(node.op) on \(x.dtype) tensors") }
            let f = try activation(node, inputs)
            return elementwise(x, context.pool, minimumChunk: 1 << 15) { s, d, r in
                if d != s { (d + r.lowerBound).update(from: s + r.lowerBound, count: r.count) }
                f.apply(d + r.lowerBound, r.count)
            }
        }
    }

    /// A float step that writes output[r] from input[r] for disjoint ranges r split across the pool.
    static func elementwise(_ x: Operand, _ pool: WorkerPool, minimumChunk: Int,
                            _ body: @escaping @Sendable (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, Range<Int>) -> Void) -> PreparedOp {
        let n = x.count
        return PreparedOp(outputs: [(x.shape, .float32)]) { ins, outs, _ in
            let src = ins[0]!, dst = outs[0]
            return { frame in
                let s = frame.floats(src), d = frame.floats(dst)
                pool.forEachRange(n, minimumChunk: minimumChunk) { r in body(s, d, r) }
            }
        }
    }

    /// Float math without a fused-activation form (Sqrt, Exp, Log, Neg, Abs...).
    static func math(_ f: @escaping @Sendable (Float) -> Float, vector: (@Sendable (SIMD16<Float>) -> SIMD16<Float>)? = nil) -> OperatorPrepare {
        { node, inputs, context throws(EngineError) in
            let x = try node.required(inputs, 0)
            guard x.dtype.isFloat else {
                // Integer Neg/Abs for shape arithmetic.
                return Steps.tensors([(x.shape, x.dtype)], inputs: inputs) { t in
                    [Tensor(shape: x.shape, ints: t[0]!.ints.map { Int64(f(Float($0))) }, dtype: x.dtype)]
                }
            }
            return elementwise(x, context.pool, minimumChunk: 1 << 14) { s, d, r in
                if let vector {
                    if d != s { (d + r.lowerBound).update(from: s + r.lowerBound, count: r.count) }
                    mapInPlace(d + r.lowerBound, r.count, vector)
                } else {
                    for i in r { d[i] = f(s[i]) }
                }
            }
        }
    }

    static let activations: [String: OperatorPrepare] = [
        "Relu": unary { _, _ in .relu },
        "LeakyRelu": unary { node, _ in .leakyRelu(node.float("alpha", 0.01)) },
        "Sigmoid": unary { _, _ in .sigmoid },
        "HardSigmoid": unary { node, _ in .hardSigmoid(alpha: node.float("alpha", 0.2), beta: node.float("beta", 0.5)) },
        "HardSwish": unary { _, _ in .hardSwish },
        "Tanh": unary { _, _ in .tanh },
        "Clip": clip,
        "Sqrt": math({ $0.squareRoot() }, vector: { $0.squareRoot() }),
        "Exp": math({ Foundation.exp($0) }, vector: { VectorMath.exp($0) }),
        "Log": math({ Foundation.log($0) }),
        // log(1 + e^x) without overflow for large x and without losing e^x for very negative x.
        "Softplus": math({ $0 > 0 ? $0 + Foundation.log1p(Foundation.exp(-$0)) : Foundation.log1p(Foundation.exp($0)) },
                         vector: softplus),
        "Neg": math({ -$0 }, vector: { -$0 }),
        "Abs": math({ abs($0) }, vector: { $0.replacing(with: -$0, where: $0 .< 0) }),
        "Reciprocal": math({ 1 / $0 }, vector: { 1 / $0 }),
        "Floor": math({ $0.rounded(.down) }, vector: { $0.rounded(.down) }),
        "Ceil": math({ $0.rounded(.up) }, vector: { $0.rounded(.up) }),
    ]

    /// log(1 + e^x) as max(x, 0) + log1p(e^-|x|), with log1p(y) = log(u) · y / (u - 1), u = 1 + y
    /// (exact where u rounds to 1): within a few ulp of libm's log1p, 16 lanes at a time.
    @Sendable static func softplus(_ x: SIMD16<Float>) -> SIMD16<Float> {
        let y = VectorMath.exp(-x.replacing(with: -x, where: x .< 0))
        let u = 1 + y
        let small = y.replacing(with: VectorMath.log(u) * (y / (u - 1)), where: u .!= 1)
        return x.replacing(with: 0, where: x .< 0) + small
    }

    /// Clip with bounds known at plan time runs as a fused-style activation; run-time bounds
    /// (graph inputs) are read on each run.
    static let clip: OperatorPrepare = { node, inputs, context throws(EngineError) in
        let dynamicBounds = inputs.dropFirst().contains { $0 != nil && $0!.constant == nil }
        guard dynamicBounds else { return try unary { node, inputs throws(EngineError) in try clipBounds(node, inputs) }(node, inputs, context) }
        let x = try node.required(inputs, 0)
        return Steps.tensors([(x.shape, x.dtype)], inputs: inputs) { t in
            let lo = t.count > 1 && t[1] != nil ? t[1]!.value(0) : -Double.greatestFiniteMagnitude
            let hi = t.count > 2 && t[2] != nil ? t[2]!.value(0) : Double.greatestFiniteMagnitude
            let v = t[0]!
            if v.dtype.isFloat { return [Tensor(shape: v.shape, floats: v.floats.map { min(max($0, Float(lo)), Float(hi)) })] }
            return [Tensor(shape: v.shape, ints: v.ints.map { Int64(min(max(Double($0), lo), hi)) }, dtype: v.dtype)]
        }
    }

    /// Clip's bounds: attributes before opset 11, optional constant inputs from 11 on.
    static func clipBounds(_ node: Node, _ inputs: [Operand?]) throws(EngineError) -> Activation {
        var lo = -Float.greatestFiniteMagnitude, hi = Float.greatestFiniteMagnitude
        if let v = node.attributes["min"], case .float(let f) = v { lo = f }
        if let v = node.attributes["max"], case .float(let f) = v { hi = f }
        if inputs.count > 1, let m = inputs[1] {
            guard let t = m.constant else { throw node.unsupported("Clip with a run-time min") }
            lo = Float(t.value(0))
        }
        if inputs.count > 2, let m = inputs[2] {
            guard let t = m.constant else { throw node.unsupported("Clip with a run-time max") }
            hi = Float(t.value(0))
        }
        return .clip(lo, hi)
    }

    enum BinaryKind: Sendable { case add, sub, mul, div, pow, max, min }

    /// Binary arithmetic with broadcasting; floats through strided pointer loops, integers on tensors.
    static func binary(_ kind: BinaryKind) -> OperatorPrepare {
        { node, inputs, context throws(EngineError) in
            let a = try node.required(inputs, 0), b = try node.required(inputs, 1)
            guard let shape = Shapes.broadcast([a.shape, b.shape]) else {
                throw node.invalid("shapes \(a.shape) and \(b.shape) do not broadcast")
            }
            if kind == .pow, a.dtype != b.dtype {
                // Pow's exponent may have another type than its base; the result has the base's.
                let sa = Shapes.broadcastStrides(a.shape, to: shape), sb = Shapes.broadcastStrides(b.shape, to: shape)
                return Steps.tensors([(shape, a.dtype)], inputs: inputs) { t in
                    var out = [Double](repeating: 0, count: Shapes.count(shape))
                    forEachBroadcast(shape, sa, sb) { i, ia, ib in out[i] = Foundation.pow(t[0]!.value(ia), t[1]!.value(ib)) }
                    return [a.dtype.isFloat ? Tensor(shape: shape, floats: out.map { Float($0) })
                            : Tensor(shape: shape, ints: out.map { Int64(exactly: $0.rounded(.towardZero)) ?? 0 }, dtype: a.dtype)]
                }
            }
            if !a.dtype.isFloat || !b.dtype.isFloat {
                guard a.dtype == b.dtype else { throw node.invalid("mixed types \(a.dtype) and \(b.dtype)") }
                let sa = Shapes.broadcastStrides(a.shape, to: shape), sb = Shapes.broadcastStrides(b.shape, to: shape)
                return Steps.tensors([(shape, a.dtype)], inputs: inputs) { t in
                    let x = t[0]!.ints, y = t[1]!.ints
                    var out = [Int64](repeating: 0, count: Shapes.count(shape))
                    forEachBroadcast(shape, sa, sb) { i, ia, ib in out[i] = integer(kind, x[ia], y[ib]) }
                    return [Tensor(shape: shape, ints: out, dtype: a.dtype)]
                }
            }
            let n = Shapes.count(shape)
            let (loop, sa, sb) = coalesced(shape, Shapes.broadcastStrides(a.shape, to: shape), Shapes.broadcastStrides(b.shape, to: shape))
            let pool = context.pool
            return PreparedOp(outputs: [(shape, .float32)]) { ins, outs, _ in
                let la = ins[0]!, lb = ins[1]!, lo = outs[0]
                return { frame in
                    let pa = frame.floats(la), pb = frame.floats(lb), po = frame.floats(lo)
                    floatBroadcast(kind, loop, pa, sa, pb, sb, po, n, pool)
                }
            }
        }
    }

    static func integer(_ kind: BinaryKind, _ x: Int64, _ y: Int64) -> Int64 {
        switch kind {
        case .add: return x &+ y
        case .sub: return x &- y
        case .mul: return x &* y
        case .div: return y == 0 ? 0 : x / y
        case .pow: return Int64(Foundation.pow(Double(x), Double(y)))
        case .max: return Swift.max(x, y)
        case .min: return Swift.min(x, y)
        }
    }

    @inline(__always)
    static func scalar(_ kind: BinaryKind, _ x: Float, _ y: Float) -> Float {
        switch kind {
        case .add: return x + y
        case .sub: return x - y
        case .mul: return x * y
        case .div: return x / y
        case .pow: return Foundation.pow(x, y)
        case .max: return Swift.max(x, y)
        case .min: return Swift.min(x, y)
        }
    }

    /// Visits every output index with the matching input offsets (row-major order).
    static func forEachBroadcast(_ shape: [Int], _ sa: [Int], _ sb: [Int], _ body: (Int, Int, Int) -> Void) {
        let n = Shapes.count(shape)
        if n == 0 { return }
        var coord = [Int](repeating: 0, count: shape.count)
        var ia = 0, ib = 0
        for i in 0..<n {
            body(i, ia, ib)
            var d = shape.count - 1
            while d >= 0 {
                coord[d] += 1
                ia += sa[d]
                ib += sb[d]
                if coord[d] < shape[d] { break }
                ia -= sa[d] * shape[d]
                ib -= sb[d] * shape[d]
                coord[d] = 0
                d -= 1
            }
        }
    }

    /// The same loop over fewer axes: neighbouring axes merge where both inputs walk them as one
    /// (both contiguous across the pair, or both broadcast along it). Two same-shape tensors become
    /// one long row, a per-channel bias a row per channel.
    static func coalesced(_ shape: [Int], _ sa: [Int], _ sb: [Int]) -> (shape: [Int], sa: [Int], sb: [Int]) {
        var shape = shape, sa = sa, sb = sb
        var d = shape.count - 2
        while d >= 0 {
            let aJoins = sa[d] == sa[d + 1] * shape[d + 1], bJoins = sb[d] == sb[d + 1] * shape[d + 1]
            if shape[d] == 1 || (aJoins && bJoins) {
                // Axis d folds into d + 1: the merged axis keeps d + 1's strides.
                shape[d + 1] *= shape[d]
                shape.remove(at: d); sa.remove(at: d); sb.remove(at: d)
            }
            d -= 1
        }
        return (shape, sa, sb)
    }

    /// Float broadcast: the innermost axis runs as a contiguous (stride 1) or splat (stride 0)
    /// vector loop; outer rows are split across the pool, and a single long row is split too.
    static func floatBroadcast(_ kind: BinaryKind, _ shape: [Int], _ a: UnsafeMutablePointer<Float>, _ sa: [Int],
                               _ b: UnsafeMutablePointer<Float>, _ sb: [Int], _ out: UnsafeMutablePointer<Float>,
                               _ n: Int, _ pool: WorkerPool) {
        guard n > 0 else { return }
        let inner = shape.last ?? 1
        let ia = sa.last ?? 0, ib = sb.last ?? 0
        if shape.count <= 1 && (ia == 1 || ib == 1) {
            pool.forEachRange(n / 16, minimumChunk: 2048) { range in
                let lo = range.lowerBound * 16, hi = range.upperBound == n / 16 ? n : range.upperBound * 16
                let pa = a + lo * ia, pb = b + lo * ib, po = out + lo
                switch (ia, ib) {
                case (1, 1): vectorLoop(kind, po, hi - lo) { pa.load16($0) } _: { pb.load16($0) }
                case (1, 0): let y = SIMD16(repeating: b[0]); vectorLoop(kind, po, hi - lo) { pa.load16($0) } _: { _ in y }
                default: let x = SIMD16(repeating: a[0]); vectorLoop(kind, po, hi - lo) { _ in x } _: { pb.load16($0) }
                }
            }
            if n < 16 { for i in 0..<n { out[i] = scalar(kind, a[i * ia], b[i * ib]) } }
            return
        }
        let rows = n / max(inner, 1)
        let outer = Array(shape.dropLast())
        let outerA = Array(sa.dropLast()), outerB = Array(sb.dropLast())
        let outerStrides = Shapes.strides(outer)
        pool.forEachRange(rows, minimumChunk: max(1, 8192 / max(inner, 1))) { range in
            for row in range {
                var offA = 0, offB = 0, rem = row
                for d in 0..<outer.count {
                    let c = rem / outerStrides[d]
                    rem -= c * outerStrides[d]
                    offA += c * outerA[d]
                    offB += c * outerB[d]
                }
                let pa = a + offA, pb = b + offB, po = out + row * inner
                switch (ia, ib) {
                case (1, 1): vectorLoop(kind, po, inner) { pa.load16($0) } _: { pb.load16($0) }
                case (1, 0): let y = SIMD16(repeating: pb[0]); vectorLoop(kind, po, inner) { pa.load16($0) } _: { _ in y }
                case (0, 1): let x = SIMD16(repeating: pa[0]); vectorLoop(kind, po, inner) { _ in x } _: { pb.load16($0) }
                default:
                    for i in 0..<inner { po[i] = scalar(kind, pa[i * ia], pb[i * ib]) }
                }
            }
        }
    }

    @inline(__always)
    static func vectorLoop(_ kind: BinaryKind, _ out: UnsafeMutablePointer<Float>, _ count: Int,
                           _ x: (Int) -> SIMD16<Float>, _ y: (Int) -> SIMD16<Float>) {
        var i = 0
        while i + 16 <= count {
            let v: SIMD16<Float>
            let p = x(i), q = y(i)
            switch kind {
            case .add: v = p + q
            case .sub: v = p - q
            case .mul: v = p * q
            case .div: v = p / q
            case .max: v = p.replacing(with: q, where: q .> p)
            case .min: v = p.replacing(with: q, where: q .< p)
            case .pow: v = SIMD16((0..<16).map { Foundation.pow(p[$0], q[$0]) })
            }
            UnsafeMutableRawPointer(out + i).storeBytes(of: v, as: SIMD16<Float>.self)
            i += 16
        }
        if i < count {
            // The tail goes through the same arithmetic one lane at a time.
            let p = x(i), q = y(i)
            for k in 0..<(count - i) { out[i + k] = scalar(kind, p[k], q[k]) }
        }
    }

    static let binaries: [String: OperatorPrepare] = [
        "Add": binary(.add), "Sub": binary(.sub), "Mul": binary(.mul), "Div": binary(.div), "Pow": binary(.pow),
        "Max": binary(.max), "Min": binary(.min),
    ]
}

extension UnsafeMutablePointer where Pointee == Float {
    /// Loads 16 floats at `offset`; past the end of a row the caller ignores the extra lanes, so
    /// reads stay within the buffer only when the caller checks `count` (see `vectorLoop`).
    @inline(__always)
    func load16(_ offset: Int) -> SIMD16<Float> {
        UnsafeRawPointer(self + offset).loadUnaligned(as: SIMD16<Float>.self)
    }
}
