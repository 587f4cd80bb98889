import CBLAS
import Compute
import Foundation

/// A loaded model, ready to run on the shared pool: graph rewritten once at load, one plan per
/// input shape (built on first use and cached), frames reused across runs.
///
/// Safe to call from many threads at once: each run takes its own frame, and results do not
/// depend on how many runs are in flight.
public final class InferenceSession: @unchecked Sendable {
    public let graph: Graph
    public let pool: WorkerPool
    private var plans: [[Int]: Plan] = [:]
    private let lock = NSLock()

    /// Loads, checks and optimises a model. Every node's operator must be supported; anything
    /// else fails here, naming the node, never at inference time.
    public convenience init(path: String, pool: WorkerPool = .shared) throws(EngineError) {
        try self.init(graph: ONNXImporter.load(path: path), pool: pool)
    }

    public init(graph: Graph, pool: WorkerPool = .shared) throws(EngineError) {
        BLASRuntime.configure()
        for node in graph.nodes where OperatorRegistry.operators[node.op] == nil {
            throw node.unsupported("operator \(node.op) is not supported")
        }
        self.graph = GraphPasses.optimise(graph)
        self.pool = pool
        // Plan once with the declared shapes when they are all fixed, so attribute and shape
        // errors surface at load too.
        let fixed = self.graph.inputs.allSatisfy { $0.dtype.isFloat && $0.shape.allSatisfy { $0 != nil } }
        if fixed {
            _ = try plan(for: Dictionary(uniqueKeysWithValues: self.graph.inputs.map { ($0.name, $0.shape.map { $0! }) }))
        } else {
            try Self.checkNodes(self.graph)
        }
    }

    /// Validates attributes that do not depend on shapes, for models with symbolic dimensions.
    static func checkNodes(_ graph: Graph) throws(EngineError) {
        for node in graph.nodes {
            if node.op == "Resize" || node.op == "Upsample" {
                let mode = node.string("mode", "nearest")
                if mode != "nearest" && mode != "linear" { throw node.unsupported("mode \(mode)") }
            }
        }
    }

    public var inputs: [ValueInfo] { graph.inputs }
    public var outputs: [ValueInfo] { graph.outputs }

    /// The plan for these input shapes (and integer input values), built on first use.
    func plan(for shapes: [String: [Int]], integerInputs: [String: Tensor] = [:]) throws(EngineError) -> Plan {
        var key: [Int] = []
        for info in graph.inputs {
            key += (shapes[info.name] ?? []) + [-1]
            if let t = integerInputs[info.name] { key += t.ints.map { Int($0) } + [-2] }
        }
        lock.lock()
        if let p = plans[key] {
            lock.unlock()
            return p
        }
        lock.unlock()
        let p = try Plan.build(graph: graph, inputShapes: shapes, integerInputs: integerInputs,
                               context: PlanContext(pool: pool, opset: graph.opset))
        lock.lock()
        defer { lock.unlock() }
        if let existing = plans[key] { return existing }
        plans[key] = p
        return p
    }

    /// Runs the model. Inputs are checked against the model's types and shapes.
    public func run(_ inputs: [String: Tensor]) throws(EngineError) -> [String: Tensor] {
        try run(inputs, profile: nil)
    }

    /// Runs the model, adding each step's time to `profile[op]` when given.
    public func run(_ inputs: [String: Tensor], profile: UnsafeMutablePointer<[String: Double]>?) throws(EngineError) -> [String: Tensor] {
        for info in graph.inputs {
            guard let t = inputs[info.name] else { throw EngineError(.badInput, "no value for input '\(info.name)'") }
            guard t.dtype.isFloat == info.dtype.isFloat else {
                throw EngineError(.badInput, "input '\(info.name)' is \(t.dtype), the model expects \(info.dtype)")
            }
        }
        let integers = inputs.filter { !$0.value.dtype.isFloat }
        let plan = try plan(for: inputs.mapValues(\.shape), integerInputs: integers)
        let frame = plan.acquireFrame()
        defer { plan.release(frame) }
        var floatInputs: [(index: Int, tensor: Tensor)] = []
        for binding in plan.inputs {
            var t = inputs[binding.name]!
            if case .input(let index) = binding.location { floatInputs.append((index, t)); continue }
            if !t.dtype.isFloat { t = t.cast(to: binding.dtype) }
            frame.store(t, at: binding.location)
        }
        let ordered = floatInputs.sorted { $0.index < $1.index }.map(\.tensor)
        return withPointers(to: ordered[...], frame) { () -> [String: Tensor] in runSteps(plan, frame, profile) }
    }

    /// Runs `body` with `frame.inputs` pointing at the tensors' floats, kept alive and in place.
    private func withPointers<R>(to tensors: ArraySlice<Tensor>, _ frame: Frame, _ body: () -> R) -> R {
        guard let first = tensors.first else { return body() }
        return first.floats.withUnsafeBufferPointer { buffer in
            frame.inputs.append(UnsafeMutablePointer(mutating: buffer.baseAddress ?? UnsafePointer(frame.arena)))
            defer { frame.inputs.removeLast() }
            return withPointers(to: tensors.dropFirst(), frame, body)
        }
    }

    private func runSteps(_ plan: Plan, _ frame: Frame, _ profile: UnsafeMutablePointer<[String: Double]>?) -> [String: Tensor] {
        if let profile {
            let clock = ContinuousClock()
            for (step, op) in zip(plan.steps, plan.stepOps) {
                let start = clock.now
                step(frame)
                let d = (clock.now - start).components
                profile.pointee[op, default: 0] += Double(d.seconds) * 1e3 + Double(d.attoseconds) / 1e15
            }
        } else {
            for step in plan.steps { step(frame) }
        }
        var result: [String: Tensor] = [:]
        for b in plan.outputs { result[b.name] = frame.tensor(b.location, shape: b.shape, dtype: b.dtype) }
        return result
    }

    /// Facts about the plan for these shapes: FLOPs, arena bytes, steps.
    public func planSummary(for inputs: [String: Tensor]) throws(EngineError) -> (flops: Double, arenaBytes: Int, steps: Int, outputShapes: [String: [Int]]) {
        let p = try plan(for: inputs.mapValues(\.shape), integerInputs: inputs.filter { !$0.value.dtype.isFloat })
        return (p.flops, p.arenaCount * 4, p.steps.count, Dictionary(uniqueKeysWithValues: p.outputs.map { ($0.name, $0.shape) }))
    }
}

/// OpenBLAS as the engine uses it: single-threaded calls, with parallelism in the pool.
public enum BLASRuntime {
    private static let once: Void = { openblas_set_num_threads(1) }()

    /// Sets OpenBLAS to one thread (the pool splits the work); idempotent.
    public static func configure() { _ = once }

    /// The kernel family OpenBLAS chose when it loaded (e.g. SkylakeX, Haswell, Prescott).
    public static var coreName: String {
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name)
    }
}
