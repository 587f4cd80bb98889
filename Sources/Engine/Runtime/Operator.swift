import Compute

/// A value as the planner sees it: its shape and type, and its data when known at plan time.
struct Operand {
    var shape: [Int]
    var dtype: DataType
    var constant: Tensor?

    var count: Int { shape.reduce(1, *) }
}

/// What the planner needs from an operator for one set of input shapes.
struct PreparedOp {
    /// Output shapes and types.
    var outputs: [(shape: [Int], dtype: DataType)]
    /// Floats of scratch memory the step uses while it runs (e.g. im2col columns).
    var scratch: Int = 0
    /// Floating-point operations per run of Conv, ConvTranspose, Gemm and MatMul (a multiply-add
    /// counts as two; element-wise work is not counted, as is usual for model FLOPs).
    var flops: Double = 0
    /// Outputs known from input shapes alone (Shape, Size): no step runs.
    var constantOutputs: [Tensor]? = nil
    /// Builds the step once the planner has placed every input, output and the scratch area.
    var makeStep: (_ inputs: [Location?], _ outputs: [Location], _ scratch: Int) -> Step
}

/// One unit of work of a plan, run against a frame.
typealias Step = @Sendable (Frame) -> Void

/// Everything an operator may use while preparing: the pool and the opset.
struct PlanContext {
    var pool: WorkerPool
    var opset: Int
}

/// An operator implementation: checks attributes and inputs, computes output shapes, builds a step.
typealias OperatorPrepare = @Sendable (_ node: Node, _ inputs: [Operand?], _ context: PlanContext) throws(EngineError) -> PreparedOp

extension Node {
    /// The operand at `index`, or a load-time error naming the node.
    func required(_ inputs: [Operand?], _ index: Int) throws(EngineError) -> Operand {
        guard index < inputs.count, let operand = inputs[index] else {
            throw EngineError(.invalid, "\(label): input \(index) is missing")
        }
        return operand
    }

    /// The plan-time value of input `index`, which this operator needs to know its output shape.
    func constant(_ inputs: [Operand?], _ index: Int, _ what: String) throws(EngineError) -> Tensor {
        guard let t = try required(inputs, index).constant else {
            throw EngineError(.unsupported, "\(label): \(what) (input \(index)) must be known when the model is planned")
        }
        return t
    }

    func unsupported(_ what: String) -> EngineError { EngineError(.unsupported, "\(label): \(what)") }
    func invalid(_ what: String) -> EngineError { EngineError(.invalid, "\(label): \(what)") }
}
