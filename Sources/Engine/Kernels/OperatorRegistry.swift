/// Every operator the engine runs, by ONNX op type (default domain).
enum OperatorRegistry {
    static let operators: [String: OperatorPrepare] = {
        var ops: [String: OperatorPrepare] = [
            "Conv": Convolution.prepare,
            "ConvTranspose": ConvTranspose.prepare,
            "BatchNormalization": Pooling.batchNorm,
            "MaxPool": Pooling.prepare(max: true),
            "AveragePool": Pooling.prepare(max: false),
            "GlobalAveragePool": Pooling.globalAverage,
            "Gemm": MatrixMultiply.gemm,
            "MatMul": MatrixMultiply.matmul,
            "Flatten": ShapeOperators.flatten,
            "Reshape": ShapeOperators.reshape,
            "Transpose": ShapeOperators.transpose,
            "Concat": ShapeOperators.concat,
            "Split": ShapeOperators.split,
            "Slice": ShapeOperators.slice,
            "Squeeze": ShapeOperators.squeeze,
            "Unsqueeze": ShapeOperators.unsqueeze,
            "Pad": ShapeOperators.pad,
            "Resize": Resize.prepare,
            "Upsample": Resize.prepare,
            "Softmax": Reduction.softmax,
            "ReduceMean": Reduction.reduce(mean: true),
            "ReduceMax": Reduction.reduce(mean: false),
            "ArgMax": Reduction.argmax,
            "Shape": ShapeOperators.shape,
            "Gather": ShapeOperators.gather,
            "Constant": ShapeOperators.constant,
            "ConstantOfShape": ShapeOperators.constantOfShape,
            "Cast": ShapeOperators.cast,
            "Range": ShapeOperators.range,
            "Expand": ShapeOperators.expand,
            "Identity": ShapeOperators.identity,
            "Equal": ShapeOperators.equal,
            "Where": ShapeOperators.where,
            "Dropout": ShapeOperators.identity,
        ]
        ops.merge(ElementwiseOperators.activations) { a, _ in a }
        ops.merge(ElementwiseOperators.binaries) { a, _ in a }
        return ops
    }()
}
