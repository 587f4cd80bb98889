/// Element types the engine computes with. Integer and boolean tensors are held as `Int64`
/// (they are shapes, indices and masks, small and mostly folded at load); floats as `Float`.
public enum DataType: Int, Sendable, CaseIterable {
    case float32 = 1, uint8 = 2, int8 = 3, int32 = 6, int64 = 7, bool = 9

    public var isFloat: Bool { self == .float32 }
}

/// A dense tensor in row-major order.
///
/// Invariant: exactly one of `floats` / `ints` is used, chosen by `dtype`, and its count equals
/// the product of `shape`.
public struct Tensor: Sendable, Equatable {
    public var dtype: DataType
    public var shape: [Int]
    public var floats: [Float]
    public var ints: [Int64]

    public init(shape: [Int], floats: [Float]) {
        precondition(floats.count == shape.reduce(1, *), "float tensor of \(floats.count) elements for shape \(shape)")
        dtype = .float32
        self.shape = shape
        self.floats = floats
        ints = []
    }

    public init(shape: [Int], ints: [Int64], dtype: DataType = .int64) {
        precondition(ints.count == shape.reduce(1, *), "integer tensor of \(ints.count) elements for shape \(shape)")
        precondition(!dtype.isFloat)
        self.dtype = dtype
        self.shape = shape
        floats = []
        self.ints = ints
    }

    public static func zeros(_ dtype: DataType, _ shape: [Int]) -> Tensor {
        let n = shape.reduce(1, *)
        return dtype.isFloat ? Tensor(shape: shape, floats: .init(repeating: 0, count: n))
            : Tensor(shape: shape, ints: .init(repeating: 0, count: n), dtype: dtype)
    }

    public static func scalar(_ v: Float) -> Tensor { Tensor(shape: [], floats: [v]) }
    public static func vector(_ v: [Int64]) -> Tensor { Tensor(shape: [v.count], ints: v) }

    public var count: Int { shape.reduce(1, *) }

    /// Element `i` as Double, whatever the storage.
    public func value(_ i: Int) -> Double { dtype.isFloat ? Double(floats[i]) : Double(ints[i]) }

    /// The values as integers (for shape-like inputs such as Reshape's shape or Slice's starts).
    public var intValues: [Int] { dtype.isFloat ? floats.map { Int($0) } : ints.map { Int($0) } }

    /// The same values converted to another type, with ONNX Cast semantics for the supported types.
    public func cast(to target: DataType) -> Tensor {
        if target == dtype { return self }
        if target.isFloat { return Tensor(shape: shape, floats: ints.map { Float($0) }) }
        let source: [Int64] = dtype.isFloat ? floats.map { $0.isNaN ? 0 : Int64(exactly: $0.rounded(.towardZero)) ?? ($0 < 0 ? Int64.min : Int64.max) } : ints
        let converted: [Int64]
        switch target {
        case .bool: converted = dtype.isFloat ? floats.map { $0 != 0 ? 1 : 0 } : source.map { $0 != 0 ? 1 : 0 }
        case .uint8: converted = source.map { Int64(UInt8(truncatingIfNeeded: $0)) }
        case .int8: converted = source.map { Int64(Int8(truncatingIfNeeded: $0)) }
        case .int32: converted = source.map { Int64(Int32(truncatingIfNeeded: $0)) }
        default: converted = source
        }
        return Tensor(shape: shape, ints: converted, dtype: target)
    }
}
