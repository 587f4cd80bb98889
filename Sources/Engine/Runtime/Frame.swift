import Foundation

/// Constant float data with a stable address (weights, folded values), allocated once at load.
public final class ConstantBuffer: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<Float>
    public let count: Int

    public init(_ values: [Float]) {
        count = values.count
        pointer = .allocate(capacity: values.count + 16)
        (pointer + values.count).initialize(repeating: 0, count: 16)
        values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: values.count) }
    }

    /// Zeros, 64-byte aligned (a cache line: packed weights are read a whole AVX-512 vector at a time).
    public init(count: Int) {
        self.count = count
        pointer = UnsafeMutableRawPointer.allocate(byteCount: (count + 16) * MemoryLayout<Float>.size, alignment: 64)
            .bindMemory(to: Float.self, capacity: count + 16)
        pointer.initialize(repeating: 0, count: count + 16)
    }

    deinit { pointer.deallocate() }

    var array: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }
}

/// Where a value lives while a plan runs.
enum Location: @unchecked Sendable {
    /// Float activations: an offset (in floats) into the frame's arena.
    case arena(Int)
    /// A float graph input, read where the caller's tensor holds it (never written: no step
    /// writes its inputs, and the planner places every output in the arena).
    case input(Int)
    /// Integer and boolean tensors computed at run time (small; held by the frame).
    case frame(Int)
    /// Known at plan time: a float buffer or an integer tensor.
    case constantFloats(ConstantBuffer)
    case constantInts(Tensor)
}

/// The memory one inference runs in: the arena for float activations and the few run-time
/// integer tensors. One frame serves one request at a time; concurrent requests use others.
final class Frame: @unchecked Sendable {
    let arena: UnsafeMutablePointer<Float>
    let arenaCount: Int
    var ints: [Int: Tensor] = [:]
    /// Where each float graph input is during the current run (`Location.input`).
    var inputs: [UnsafeMutablePointer<Float>] = []

    init(arenaCount: Int) {
        self.arenaCount = arenaCount
        // 16 floats of slack: a vector loop's tail may load a whole SIMD16 past its last element.
        arena = .allocate(capacity: arenaCount + 16)
        arena.initialize(repeating: 0, count: arenaCount + 16)
    }

    deinit { arena.deallocate() }

    func floats(_ location: Location) -> UnsafeMutablePointer<Float> {
        switch location {
        case .arena(let offset): return arena + offset
        case .input(let index): return inputs[index]
        case .constantFloats(let buffer): return buffer.pointer
        default: preconditionFailure("float value expected at \(location)")
        }
    }

    func tensor(_ location: Location, shape: [Int], dtype: DataType) -> Tensor {
        switch location {
        case .constantInts(let t): return t
        case .frame(let id): return ints[id]!
        case .constantFloats(let b): return Tensor(shape: shape, floats: b.array)
        case .arena, .input: return Tensor(shape: shape, floats: Array(UnsafeBufferPointer(start: floats(location), count: shape.reduce(1, *))))
        }
    }

    func store(_ tensor: Tensor, at location: Location) {
        switch location {
        case .frame(let id): ints[id] = tensor
        case .arena(let offset):
            tensor.floats.withUnsafeBufferPointer { (arena + offset).update(from: $0.baseAddress!, count: $0.count) }
        default: preconditionFailure("cannot store into a constant")
        }
    }
}
