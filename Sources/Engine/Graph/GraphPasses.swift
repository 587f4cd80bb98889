/// Load-time rewrites that do not depend on input shapes: BatchNormalization folded into the
/// preceding Conv's weights and bias, activations fused into the producing Conv, dead nodes removed.
enum GraphPasses {
    static func optimise(_ graph: Graph) -> Graph {
        var g = graph
        hoistConstants(&g)
        foldBatchNorm(&g)
        fuseActivations(&g)
        removeDeadNodes(&g)
        return g
    }

    /// How many nodes read each value (graph outputs count as a reader).
    static func readers(_ g: Graph) -> [String: Int] {
        var count: [String: Int] = [:]
        for n in g.nodes { for i in n.inputs where !i.isEmpty { count[i, default: 0] += 1 } }
        for o in g.outputs { count[o.name, default: 0] += 1 }
        return count
    }

    static func foldBatchNorm(_ g: inout Graph) {
        let uses = readers(g)
        var producer: [String: Int] = [:]
        for (i, n) in g.nodes.enumerated() { for o in n.outputs { producer[o] = i } }
        var removed = Set<Int>()
        for (bnIndex, bn) in g.nodes.enumerated() where bn.op == "BatchNormalization" && bn.int("training_mode", 0) == 0 {
            guard bn.outputs.count == 1 || bn.outputs.dropFirst().allSatisfy(\.isEmpty),
                  let convIndex = producer[bn.inputs[0]], g.nodes[convIndex].op == "Conv", uses[bn.inputs[0]] == 1,
                  bn.inputs.count == 5, let scale = g.initializers[bn.inputs[1]], let shift = g.initializers[bn.inputs[2]],
                  let mean = g.initializers[bn.inputs[3]], let variance = g.initializers[bn.inputs[4]] else { continue }
            var conv = g.nodes[convIndex]
            guard conv.inputs.count >= 2, let weights = g.initializers[conv.inputs[1]], weights.dtype.isFloat,
                  conv.attributes[FusedActivation.key] == nil else { continue }
            let (a, b) = BatchNormFolding.affine(scale: scale.floats, bias: shift.floats, mean: mean.floats,
                                                 variance: variance.floats, epsilon: bn.float("epsilon", 1e-5))
            let filters = weights.shape[0], per = weights.count / max(filters, 1)
            guard a.count == filters else { continue }
            var w = weights.floats
            for m in 0..<filters { for j in 0..<per { w[m * per + j] *= a[m] } }
            var bias = [Float](repeating: 0, count: filters)
            if conv.inputs.count > 2, !conv.inputs[2].isEmpty, let old = g.initializers[conv.inputs[2]] { bias = old.floats }
            for m in 0..<filters { bias[m] = bias[m] * a[m] + b[m] }
            // New names: the original weights may be shared with another node.
            let wName = conv.name + ".folded_weight", bName = conv.name + ".folded_bias"
            g.initializers[wName] = Tensor(shape: weights.shape, floats: w)
            g.initializers[bName] = Tensor(shape: [filters], floats: bias)
            conv.inputs = [conv.inputs[0], wName, bName]
            conv.outputs = [bn.outputs[0]]
            g.nodes[convIndex] = conv
            removed.insert(bnIndex)
        }
        g.nodes = g.nodes.enumerated().filter { !removed.contains($0.offset) }.map(\.element)
    }

    static func fuseActivations(_ g: inout Graph) {
        var changed = true
        while changed {
            changed = false
            let uses = readers(g)
            var consumers: [String: [Int]] = [:]
            for (i, n) in g.nodes.enumerated() { for input in n.inputs { consumers[input, default: []].append(i) } }
            for (ci, conv) in g.nodes.enumerated() where conv.op == "Conv" && conv.attributes[FusedActivation.key] == nil {
                let y = conv.outputs[0]
                guard let readers = consumers[y] else { continue }
                // SiLU as exported: Sigmoid(y) and Mul(y, sigmoid).
                if uses[y] == 2, readers.count == 2 {
                    let nodes = readers.map { g.nodes[$0] }
                    if let s = nodes.firstIndex(where: { $0.op == "Sigmoid" }), let m = nodes.firstIndex(where: { $0.op == "Mul" }) {
                        let sig = nodes[s], mul = nodes[m]
                        if uses[sig.outputs[0]] == 1, Set(mul.inputs) == Set([y, sig.outputs[0]]) {
                            var fused = conv
                            FusedActivation.attach("SiLU", [], to: &fused)
                            fused.outputs = mul.outputs
                            g.nodes[ci] = fused
                            g.nodes = g.nodes.enumerated().filter { $0.offset != readers[s] && $0.offset != readers[m] }.map(\.element)
                            changed = true
                            break
                        }
                    }
                }
                guard uses[y] == 1, readers.count == 1 else { continue }
                let act = g.nodes[readers[0]]
                var params: [Float] = []
                switch act.op {
                case "Relu", "Sigmoid", "HardSwish", "Tanh": break
                case "LeakyRelu": params = [act.float("alpha", 0.01)]
                case "HardSigmoid": params = [act.float("alpha", 0.2), act.float("beta", 0.5)]
                case "Clip":
                    guard let bounds = clipBounds(act, g) else { continue }
                    params = bounds
                default: continue
                }
                var fused = conv
                FusedActivation.attach(act.op, params, to: &fused)
                fused.outputs = act.outputs
                g.nodes[ci] = fused
                g.nodes.remove(at: readers[0])
                changed = true
                break
            }
        }
    }

    /// Clip bounds when known at load (attributes or constant inputs).
    static func clipBounds(_ n: Node, _ g: Graph) -> [Float]? {
        var lo = n.float("min", -Float.greatestFiniteMagnitude), hi = n.float("max", Float.greatestFiniteMagnitude)
        if n.inputs.count > 1, !n.inputs[1].isEmpty {
            guard let t = g.initializers[n.inputs[1]] else { return nil }
            lo = Float(t.value(0))
        }
        if n.inputs.count > 2, !n.inputs[2].isEmpty {
            guard let t = g.initializers[n.inputs[2]] else { return nil }
            hi = Float(t.value(0))
        }
        return [lo, hi]
    }

    static func removeDeadNodes(_ g: inout Graph) {
        var needed = Set(g.outputs.map(\.name))
        var keep = [Bool](repeating: false, count: g.nodes.count)
        for i in stride(from: g.nodes.count - 1, through: 0, by: -1) where g.nodes[i].outputs.contains(where: needed.contains) {
            keep[i] = true
            for input in g.nodes[i].inputs { needed.insert(input) }
        }
        g.nodes = g.nodes.enumerated().filter { keep[$0.offset] }.map(\.element)
    }

    /// Turns Constant nodes into initializers so the passes above can see their values.
    static func hoistConstants(_ g: inout Graph) {
        var kept: [Node] = []
        for n in g.nodes {
            if n.op == "Constant", n.outputs.count == 1, case .tensor(let t)? = n.attributes["value"] {
                g.initializers[n.outputs[0]] = t
            } else {
                kept.append(n)
            }
        }
        g.nodes = kept
    }
}
