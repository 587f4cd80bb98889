import Compute
import Foundation

/// Shape helpers shared by operators.
enum Shapes {
    static func count(_ shape: [Int]) -> Int { shape.reduce(1, *) }

    /// Row-major strides.
    static func strides(_ shape: [Int]) -> [Int] {
        var s = [Int](repeating: 1, count: shape.count)
        var acc = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) {
            s[i] = acc
            acc *= shape[i]
        }
        return s
    }

    /// NumPy-style broadcast of several shapes; nil when they do not broadcast.
    static func broadcast(_ shapes: [[Int]]) -> [Int]? {
        let rank = shapes.map(\.count).max() ?? 0
        var out = [Int](repeating: 1, count: rank)
        for shape in shapes {
            let padded = [Int](repeating: 1, count: rank - shape.count) + shape
            for i in 0..<rank where padded[i] != 1 {
                if out[i] == 1 { out[i] = padded[i] } else if out[i] != padded[i] { return nil }
            }
            if padded.contains(0) { for i in 0..<rank where padded[i] == 0 { out[i] = 0 } }
        }
        return out
    }

    /// Strides to read `shape` broadcast to `target` (0 along broadcast axes).
    static func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] {
        let padded = [Int](repeating: 1, count: target.count - shape.count) + shape
        let s = strides(padded)
        return (0..<target.count).map { padded[$0] == 1 && target[$0] != 1 ? 0 : s[$0] }
    }

    /// A possibly negative axis made positive, or nil when out of range.
    static func axis(_ a: Int, rank: Int) -> Int? {
        let v = a < 0 ? a + rank : a
        return (0..<max(rank, 1)).contains(v) ? v : nil
    }
}

/// Builders for the common kinds of steps, so each operator states only what is particular to it.
enum Steps {
    /// A step computed on whole tensors (integer and shape arithmetic, rare float ops): inputs are
    /// read as `Tensor`, outputs stored. Fine for small data; hot float ops use pointer kernels.
    static func tensors(_ outputs: [(shape: [Int], dtype: DataType)], inputs operands: [Operand?],
                        _ compute: @escaping @Sendable ([Tensor?]) -> [Tensor]) -> PreparedOp {
        let shapes = operands.map { $0?.shape ?? [] }
        let dtypes = operands.map { $0?.dtype ?? .float32 }
        return PreparedOp(outputs: outputs) { inputs, outs, _ in
            { frame in
                var values: [Tensor?] = []
                // Only the operands the operator asked for are read (not, say, constant weights).
                for i in 0..<min(inputs.count, shapes.count) {
                    values.append(inputs[i].map { frame.tensor($0, shape: shapes[i], dtype: dtypes[i]) })
                }
                for (t, loc) in zip(compute(values), outs) { frame.store(t, at: loc) }
            }
        }
    }

    /// Copies input 0 to output 0 under a new shape (Reshape, Flatten, Squeeze, Unsqueeze, Identity).
    static func copy(_ input: Operand, to shape: [Int]) -> PreparedOp {
        let n = input.count
        let dtype = input.dtype
        return PreparedOp(outputs: [(shape, dtype)]) { inputs, outs, _ in
            let src = inputs[0]!, dst = outs[0]
            if dtype.isFloat {
                return { frame in
                    let d = frame.floats(dst), s = frame.floats(src)
                    if d != s { d.update(from: s, count: n) }
                }
            }
            return { frame in
                let t = frame.tensor(src, shape: [n], dtype: dtype)
                frame.store(Tensor(shape: shape, ints: t.ints, dtype: dtype), at: dst)
            }
        }
    }

    /// Output element i = input element table[i], or `fill` where table[i] < 0. The table is
    /// computed once per plan; covers Transpose, Slice, Expand, Gather with known indices, Pad,
    /// nearest Resize, DepthToSpace-like moves.
    static func gather(_ input: Operand, outputShape: [Int], table: [Int32], fill: Float = 0, pool: WorkerPool) -> PreparedOp {
        let dtype = input.dtype
        let indices = table
        return PreparedOp(outputs: [(outputShape, dtype)]) { inputs, outs, _ in
            let src = inputs[0]!, dst = outs[0]
            if dtype.isFloat {
                let shared = IndexTable(indices)
                return { frame in
                    let s = frame.floats(src), d = frame.floats(dst)
                    let idx = shared.pointer
                    pool.forEachRange(shared.count, minimumChunk: 1 << 15) { range in
                        for i in range { let j = Int(idx[i]); d[i] = j >= 0 ? s[j] : fill }
                    }
                }
            }
            return { frame in
                let t = frame.tensor(src, shape: input.shape, dtype: dtype)
                let values = indices.map { $0 >= 0 ? t.ints[Int($0)] : Int64(fill) }
                frame.store(Tensor(shape: outputShape, ints: values, dtype: dtype), at: dst)
            }
        }
    }

    /// The table for reading `shape` through per-axis index functions: output coordinate c along
    /// axis a reads input coordinate map[a][c] (or padding when negative).
    static func axisTable(inputShape: [Int], outputShape: [Int], map: [[Int]]) -> [Int32] {
        let inStrides = strides(inputShape)
        var table = [Int32](repeating: 0, count: Shapes.count(outputShape))
        if table.isEmpty { return table }
        var coord = [Int](repeating: 0, count: outputShape.count)
        for i in 0..<table.count {
            var offset = 0
            var outside = false
            for a in 0..<coord.count {
                let c = map[a][coord[a]]
                if c < 0 { outside = true; break }
                offset += c * inStrides[a]
            }
            table[i] = outside ? -1 : Int32(offset)
            var a = coord.count - 1
            while a >= 0 {
                coord[a] += 1
                if coord[a] < outputShape[a] { break }
                coord[a] = 0
                a -= 1
            }
        }
        return table
    }

    private static func strides(_ shape: [Int]) -> [Int] { Shapes.strides(shape) }
}

/// A read-only index table with a stable address, shared by the runs of a plan.
final class IndexTable: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Int32>
    let count: Int

    init(_ values: [Int32]) {
        count = values.count
        pointer = .allocate(capacity: max(1, count))
        values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: count) }
    }

    deinit { pointer.deallocate() }
}
