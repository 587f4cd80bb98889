import CBLAS
import Compute

/// Gemm and MatMul through single-threaded SGEMM calls split across the pool.
enum MatrixMultiply {
    static let gemm: OperatorPrepare = { node, inputs, context throws(EngineError) in
        let a = try node.required(inputs, 0), b = try node.required(inputs, 1)
        guard a.shape.count == 2, b.shape.count == 2 else { throw node.invalid("Gemm needs 2-D inputs, got \(a.shape), \(b.shape)") }
        let transA = node.int("transA", 0) == 1, transB = node.int("transB", 0) == 1
        let alpha = node.float("alpha", 1), beta = node.float("beta", 1)
        let m = transA ? a.shape[1] : a.shape[0], k = transA ? a.shape[0] : a.shape[1]
        let n = transB ? b.shape[0] : b.shape[1]
        guard (transB ? b.shape[1] : b.shape[0]) == k else { throw node.invalid("inner dimensions differ: \(a.shape), \(b.shape)") }
        // C is broadcast to the output once per run, then the GEMM accumulates onto it (beta).
        var cStrides: [Int]? = nil
        if inputs.count > 2, let c = inputs[2] {
            guard let s = Shapes.broadcast([c.shape, [m, n]]), s == [m, n] else { throw node.invalid("C \(c.shape) does not broadcast to [\(m), \(n)]") }
            cStrides = Shapes.broadcastStrides(c.shape, to: [m, n])
        }
        let hasC = cStrides != nil, broadcastC = cStrides ?? []
        let pool = context.pool
        let useBeta: Float = hasC ? beta : 0
        return PreparedOp(outputs: [([m, n], .float32)], flops: 2.0 * Double(m * n * k)) { ins, outs, _ in
            let la = ins[0]!, lb = ins[1]!, lo = outs[0], lc = hasC ? ins[2] : nil
            return { frame in
                let pa = frame.floats(la), pb = frame.floats(lb), po = frame.floats(lo)
                if let lc {
                    let pc = frame.floats(lc)
                    ElementwiseOperators.forEachBroadcast([m, n], broadcastC, broadcastC) { i, ic, _ in po[i] = pc[ic] }
                }
                // Split the rows of the output (or its columns when there is one row).
                pool.forEachRange(m > 1 ? m : n, minimumChunk: 8) { r in
                    if m > 1 {
                        let aRow = transA ? pa + r.lowerBound : pa + r.lowerBound * k
                        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                                    Int32(r.count), Int32(n), Int32(k), alpha, aRow, Int32(transA ? m : k), pb,
                                    Int32(transB ? k : n), useBeta, po + r.lowerBound * n, Int32(n))
                    } else {
                        let bCol = transB ? pb + r.lowerBound * k : pb + r.lowerBound
                        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                                    1, Int32(r.count), Int32(k), alpha, pa, Int32(transA ? m : k), bCol,
                                    Int32(transB ? k : n), useBeta, po + r.lowerBound, Int32(n))
                    }
                }
            }
        }
    }

    /// NumPy matmul: 1-D operands promoted, leading axes broadcast.
    static let matmul: OperatorPrepare = { node, inputs, context throws(EngineError) in
        let a = try node.required(inputs, 0), b = try node.required(inputs, 1)
        guard a.dtype.isFloat, b.dtype.isFloat else { throw node.unsupported("integer MatMul") }
        let aShape = a.shape.count == 1 ? [1, a.shape[0]] : a.shape
        let bShape = b.shape.count == 1 ? [b.shape[0], 1] : b.shape
        let m = aShape[aShape.count - 2], k = aShape[aShape.count - 1], n = bShape[bShape.count - 1]
        guard bShape[bShape.count - 2] == k else { throw node.invalid("inner dimensions differ: \(a.shape), \(b.shape)") }
        let aBatch = Array(aShape.dropLast(2)), bBatch = Array(bShape.dropLast(2))
        guard let batch = Shapes.broadcast([aBatch, bBatch]) else { throw node.invalid("batch dimensions \(aBatch) and \(bBatch) do not broadcast") }
        var outShape = batch + [m, n]
        if a.shape.count == 1 { outShape.remove(at: outShape.count - 2) }
        if b.shape.count == 1 { outShape.removeLast() }
        let batches = batch.reduce(1, *)
        let sa = Shapes.broadcastStrides(aBatch, to: batch), sb = Shapes.broadcastStrides(bBatch, to: batch)
        var offsets: [(Int, Int)] = []
        ElementwiseOperators.forEachBroadcast(batch, sa, sb) { _, ia, ib in offsets.append((ia * m * k, ib * k * n)) }
        if batch.isEmpty { offsets = [(0, 0)] }
        let pool = context.pool
        let pairs = offsets
        return PreparedOp(outputs: [(outShape, .float32)], flops: 2.0 * Double(batches * m * n * k)) { ins, outs, _ in
            let la = ins[0]!, lb = ins[1]!, lo = outs[0]
            return { frame in
                let pa = frame.floats(la), pb = frame.floats(lb), po = frame.floats(lo)
                let rowsTotal = batches * m
                pool.forEachRange(rowsTotal, minimumChunk: 4) { r in
                    var row = r.lowerBound
                    while row < r.upperBound {
                        let bi = row / m, i0 = row % m
                        let rows = min(m - i0, r.upperBound - row)
                        let (oa, ob) = pairs[bi]
                        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(n), Int32(k), 1,
                                    pa + oa + i0 * k, Int32(k), pb + ob, Int32(n), 0, po + bi * m * n + i0 * n, Int32(n))
                        row += rows
                    }
                }
            }
        }
    }
}
