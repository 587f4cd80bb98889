import Compute
import Foundation

/// A graph prepared for one set of input shapes: constants folded, every value placed in one
/// arena by liveness, every step bound to its buffers. Built once, run many times.
final class Plan: @unchecked Sendable {
    struct Binding {
        var name: String
        var location: Location
        var shape: [Int]
        var dtype: DataType
    }

    let steps: [Step]
    /// The operator of each step, for profiles.
    let stepOps: [String]
    let inputs: [Binding]
    let outputs: [Binding]
    /// Floats of the arena: activations plus the shared scratch area.
    let arenaCount: Int
    /// Floats of the arena that hold activations (the rest is scratch).
    let activationCount: Int
    let flops: Double
    private var idleFrames: [Frame] = []
    private let lock = NSLock()

    private init(steps: [Step], stepOps: [String], inputs: [Binding], outputs: [Binding], arenaCount: Int,
                 activationCount: Int, flops: Double) {
        self.activationCount = activationCount
        self.steps = steps
        self.stepOps = stepOps
        self.inputs = inputs
        self.outputs = outputs
        self.arenaCount = arenaCount
        self.flops = flops
    }

    /// A frame for one run; frames are kept and reused, one per concurrent request.
    func acquireFrame() -> Frame {
        lock.lock()
        defer { lock.unlock() }
        return idleFrames.popLast() ?? Frame(arenaCount: arenaCount)
    }

    func release(_ frame: Frame) {
        frame.ints.removeAll(keepingCapacity: true)
        lock.lock()
        idleFrames.append(frame)
        lock.unlock()
    }

    /// Plans `graph` for concrete input shapes. Integer and boolean inputs (shapes, indices, axes,
    /// masks: small, and in deployed models almost always fixed) are planned by value, like
    /// constants, so the shape computations that read them fold away.
    static func build(graph: Graph, inputShapes: [String: [Int]], integerInputs: [String: Tensor],
                      context: PlanContext) throws(EngineError) -> Plan {
        var values: [String: Operand] = [:]
        var defined: [String: Int] = [:]  // value → index of the step that defines it (-1 for inputs)
        for (name, tensor) in graph.initializers {
            values[name] = Operand(shape: tensor.shape, dtype: tensor.dtype, constant: tensor)
        }
        for input in graph.inputs where graph.initializers[input.name] == nil {
            guard let shape = inputShapes[input.name] else { throw EngineError(.badInput, "no value for input '\(input.name)'") }
            guard shape.count == input.shape.count else {
                throw EngineError(.badInput, "input '\(input.name)' has shape \(shape), the model expects rank \(input.shape.count)")
            }
            for (given, declared) in zip(shape, input.shape) where declared != nil && declared != given {
                throw EngineError(.badInput, "input '\(input.name)' has shape \(shape), the model expects \(input.shape.map { $0.map(String.init) ?? "?" })")
            }
            if let known = integerInputs[input.name] {
                values[input.name] = Operand(shape: shape, dtype: input.dtype, constant: known.cast(to: input.dtype))
                continue
            }
            values[input.name] = Operand(shape: shape, dtype: input.dtype, constant: nil)
            defined[input.name] = -1
        }

        struct Pending {
            var node: Node
            var prepared: PreparedOp
        }
        var pending: [Pending] = []
        var flops = 0.0
        for node in graph.nodes {
            var operands: [Operand?] = []
            for name in node.inputs {
                if name.isEmpty { operands.append(nil); continue }
                guard let operand = values[name] else { throw EngineError(.invalid, "\(node.label): input '\(name)' is never defined") }
                operands.append(operand)
            }
            guard let prepare = OperatorRegistry.operators[node.op] else {
                throw node.unsupported("operator \(node.op) is not supported")
            }
            let prepared = try prepare(node, operands, context)
            guard prepared.outputs.count >= node.outputs.filter({ !$0.isEmpty }).count else {
                throw node.invalid("expects \(prepared.outputs.count) outputs, the node names \(node.outputs.count)")
            }
            if let constants = prepared.constantOutputs {
                for (name, t) in zip(node.outputs, constants) where !name.isEmpty {
                    values[name] = Operand(shape: t.shape, dtype: t.dtype, constant: t)
                }
                continue
            }
            if operands.allSatisfy({ $0 == nil || $0!.constant != nil }) {
                let folded = fold(prepared, operands: operands)
                for (name, t) in zip(node.outputs, folded) where !name.isEmpty {
                    values[name] = Operand(shape: t.shape, dtype: t.dtype, constant: t)
                }
                continue
            }
            for (name, out) in zip(node.outputs, prepared.outputs) where !name.isEmpty {
                values[name] = Operand(shape: out.shape, dtype: out.dtype, constant: nil)
                defined[name] = pending.count
            }
            flops += prepared.flops
            pending.append(Pending(node: node, prepared: prepared))
        }

        // Liveness: the last step that reads each dynamic value; graph outputs live to the end.
        var lastUse: [String: Int] = [:]
        for (index, p) in pending.enumerated() {
            for name in p.node.inputs where defined[name] != nil { lastUse[name] = index }
        }
        for output in graph.outputs where defined[output.name] != nil { lastUse[output.name] = Int.max }

        // Place float values in one arena: largest first, at the lowest offset that does not
        // overlap a value alive at the same time. Integer values stay in the frame.
        var locations: [String: Location] = [:]
        var placed: [(start: Int, end: Int, first: Int, last: Int)] = []
        var arenaEnd = 0
        var intSlot = 0
        let dynamic = defined.keys.sorted {
            let a = values[$0]!.count, b = values[$1]!.count
            return a != b ? a > b : $0 < $1
        }
        // Float graph inputs are read in place from the caller's tensors: no copy per run.
        var floatInputs = 0
        for info in graph.inputs where defined[info.name] == -1 && values[info.name]?.dtype.isFloat == true && locations[info.name] == nil {
            locations[info.name] = .input(floatInputs)
            floatInputs += 1
        }
        for name in dynamic where locations[name] == nil {
            let operand = values[name]!
            guard operand.dtype.isFloat else {
                locations[name] = .frame(intSlot)
                intSlot += 1
                continue
            }
            let first = defined[name]!, last = lastUse[name] ?? first
            let size = (operand.count + 15) / 16 * 16  // 64-byte aligned starts
            var offset = 0
            for other in placed.sorted(by: { $0.start < $1.start }) where other.first <= last && first <= other.last {
                if offset + size <= other.start { break }
                offset = max(offset, other.end)
            }
            placed.append((offset, offset + size, first, last))
            arenaEnd = max(arenaEnd, offset + size)
            locations[name] = .arena(offset)
        }
        let scratchOffset = arenaEnd
        let scratch = pending.map(\.prepared.scratch).max() ?? 0

        func location(_ name: String) -> Location? {
            if name.isEmpty { return nil }
            if let l = locations[name] { return l }
            guard let t = values[name]?.constant else { return nil }
            return t.dtype.isFloat ? .constantFloats(ConstantBuffer(t.floats)) : .constantInts(t)
        }
        var constantLocations: [String: Location] = [:]
        func bound(_ name: String) -> Location? {
            if let l = constantLocations[name] { return l }
            let l = location(name)
            if case .constantFloats? = l { constantLocations[name] = l }
            return l
        }
        let steps: [Step] = pending.map { p in
            p.prepared.makeStep(p.node.inputs.map { bound($0) }, p.node.outputs.map { bound($0) ?? .frame(-1) }, scratchOffset)
        }
        func binding(_ info: ValueInfo) throws(EngineError) -> Binding {
            guard let operand = values[info.name], let loc = bound(info.name) else {
                throw EngineError(.invalid, "graph output '\(info.name)' is never computed")
            }
            return Binding(name: info.name, location: loc, shape: operand.shape, dtype: operand.dtype)
        }
        var inputs: [Binding] = []
        for info in graph.inputs where defined[info.name] == -1 { inputs.append(try binding(info)) }
        var outputs: [Binding] = []
        for info in graph.outputs { outputs.append(try binding(info)) }
        return Plan(steps: steps, stepOps: pending.map(\.node.op), inputs: inputs, outputs: outputs,
                    arenaCount: arenaEnd + scratch, activationCount: arenaEnd, flops: flops)
    }

    /// Runs a step whose inputs are all constants, on a scratch frame, and returns its outputs.
    private static func fold(_ prepared: PreparedOp, operands: [Operand?]) -> [Tensor] {
        var offset = 0
        var outputs: [Location] = []
        for (i, out) in prepared.outputs.enumerated() {
            if out.dtype.isFloat {
                outputs.append(.arena(offset))
                offset += out.shape.reduce(1, *)
            } else {
                outputs.append(.frame(i))
            }
        }
        let frame = Frame(arenaCount: offset + prepared.scratch)
        let inputs: [Location?] = operands.map { operand in
            guard let t = operand?.constant else { return nil }
            return t.dtype.isFloat ? .constantFloats(ConstantBuffer(t.floats)) : .constantInts(t)
        }
        prepared.makeStep(inputs, outputs, offset)(frame)
        return zip(prepared.outputs, outputs).map { out, loc in frame.tensor(loc, shape: out.shape, dtype: out.dtype) }
    }
}
