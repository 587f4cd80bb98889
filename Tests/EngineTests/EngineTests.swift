import Compute
import Foundation
import XCTest

@testable import Engine

/// Behaviour of the engine that users rely on, on small graphs built in code. Numerical parity
/// with onnxruntime on real ONNX files is in Tests/python/test_engine_parity.py.
final class EngineTests: XCTestCase {
    /// conv(3x3, 4 filters) -> BatchNormalization -> SiLU (Sigmoid, Mul) -> MaxPool -> Softmax over channels.
    func smallNet(batch: Int? = 1, height: Int? = 8, width: Int? = 6) -> Graph {
        var rng = Lcg(seed: 7)
        let w = Tensor(shape: [4, 2, 3, 3], floats: (0..<72).map { _ in rng.next() - 0.5 })
        let ones = Tensor(shape: [4], floats: [1.5, 0.5, 1, 2])
        let zeros = Tensor(shape: [4], floats: [0.1, -0.2, 0.3, 0])
        let mean = Tensor(shape: [4], floats: [0.01, 0.02, -0.03, 0.04])
        let variance = Tensor(shape: [4], floats: [1, 0.5, 2, 0.25])
        let nodes = [
            Node(op: "Conv", name: "conv", inputs: ["x", "w"], outputs: ["c"], attributes: ["pads": .ints([1, 1, 1, 1])]),
            Node(op: "BatchNormalization", name: "bn", inputs: ["c", "s", "b", "m", "v"], outputs: ["n"]),
            Node(op: "Sigmoid", name: "sig", inputs: ["n"], outputs: ["g"]),
            Node(op: "Mul", name: "silu", inputs: ["n", "g"], outputs: ["a"]),
            Node(op: "MaxPool", name: "pool", inputs: ["a"], outputs: ["p"], attributes: ["kernel_shape": .ints([2, 2]), "strides": .ints([2, 2])]),
            Node(op: "Softmax", name: "soft", inputs: ["p"], outputs: ["y"], attributes: ["axis": .int(1)]),
        ]
        return Graph(nodes: nodes, inputs: [ValueInfo(name: "x", dtype: .float32, shape: [batch, 2, height, width])],
                     outputs: [ValueInfo(name: "y", dtype: .float32, shape: [])],
                     initializers: ["w": w, "s": ones, "b": zeros, "m": mean, "v": variance], opset: 17)
    }

    func input(_ shape: [Int], seed: UInt64 = 1) -> Tensor {
        var rng = Lcg(seed: seed)
        return Tensor(shape: shape, floats: (0..<shape.reduce(1, *)).map { _ in rng.next() * 4 - 2 })
    }

    func testFusionFoldsBatchNormAndSiLUIntoTheConvolution() throws {
        let session = try InferenceSession(graph: smallNet())
        XCTAssertEqual(session.graph.nodes.map(\.op), ["Conv", "MaxPool", "Softmax"])
        XCTAssertEqual(session.graph.nodes[0].attributes[FusedActivation.key], .string("SiLU"))
    }

    func testFusedGraphComputesWhatTheUnfusedOperatorsDo() throws {
        let x = input([1, 2, 8, 6])
        let fused = try InferenceSession(graph: smallNet()).run(["x": x])["y"]!
        // Reference: the same graph without the passes, one operator at a time.
        let plain = smallNet()
        let plan = try Plan.build(graph: plain, inputShapes: ["x": x.shape], integerInputs: [:],
                                  context: PlanContext(pool: WorkerPool(threads: 1), opset: 17))
        let frame = plan.acquireFrame()
        // Float graph inputs are read where the caller holds them (Location.input).
        let reference = x.floats.withUnsafeBufferPointer { buffer in
            frame.inputs = [UnsafeMutablePointer(mutating: buffer.baseAddress!)]
            for step in plan.steps { step(frame) }
            return frame.tensor(plan.outputs[0].location, shape: plan.outputs[0].shape, dtype: .float32)
        }
        XCTAssertEqual(fused.shape, [1, 4, 4, 3])
        for (a, b) in zip(fused.floats, reference.floats) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        // Softmax over channels sums to one at every pixel.
        for p in 0..<12 { XCTAssertEqual((0..<4).map { fused.floats[$0 * 12 + p] }.reduce(0, +), 1, accuracy: 1e-5) }
    }

    func testConcurrentRunsEqualSerialRunsBitForBit() throws {
        let session = try InferenceSession(graph: smallNet(batch: nil), pool: WorkerPool(threads: 2))
        let inputs = (0..<8).map { input([1 + $0 % 3, 2, 8, 6], seed: UInt64($0 + 10)) }
        let serial = try inputs.map { try session.run(["x": $0])["y"]!.floats }
        let results = ResultBox(count: inputs.count)
        DispatchQueue.concurrentPerform(iterations: inputs.count * 4) { i in
            let r = try? session.run(["x": inputs[i % inputs.count]])["y"]!.floats
            results.set(i % inputs.count, r)
        }
        for i in inputs.indices { XCTAssertEqual(results.get(i), serial[i], "input \(i)") }
    }

    func testUnsupportedOperatorFailsAtLoadNamingTheNode() {
        var g = smallNet()
        g.nodes.append(Node(op: "LSTM", name: "rnn7", inputs: ["y"], outputs: ["z"]))
        XCTAssertThrowsError(try InferenceSession(graph: g)) { error in
            XCTAssertEqual("\(error)", "unsupported: node 'rnn7' (LSTM): operator LSTM is not supported")
        }
    }

    func testUnsupportedAttributeFailsAtLoadNamingNodeAndAttribute() {
        var g = smallNet()
        g.nodes[4].attributes["storage_order"] = .int(1)
        XCTAssertThrowsError(try InferenceSession(graph: g)) { error in
            XCTAssertEqual("\(error)", "unsupported: node 'pool' (MaxPool): storage_order 1")
        }
    }

    func testWrongInputShapeIsABadInputError() throws {
        let session = try InferenceSession(graph: smallNet())
        XCTAssertThrowsError(try session.run(["x": input([1, 3, 8, 6])])) { error in
            XCTAssertEqual((error as? EngineError)?.kind, .badInput)
        }
    }

    func testPlansAreCachedPerShapeAndFramesReused() throws {
        let session = try InferenceSession(graph: smallNet(batch: nil), pool: WorkerPool(threads: 1))
        let a = try session.plan(for: ["x": [2, 2, 8, 6]])
        XCTAssertTrue(a === (try session.plan(for: ["x": [2, 2, 8, 6]])))
        XCTAssertFalse(a === (try session.plan(for: ["x": [3, 2, 8, 6]])))
        let frame = a.acquireFrame()
        a.release(frame)
        XCTAssertTrue(frame === a.acquireFrame(), "a released frame is reused, not reallocated")
    }

    func testArenaIsSmallerThanTheSumOfActivations() throws {
        let session = try InferenceSession(graph: smallNet(batch: nil, height: nil, width: nil))
        let plan = try session.plan(for: ["x": [1, 2, 64, 64]])
        // input 2x64x64, conv 4x64x64, pool 4x32x32, softmax 4x32x32: liveness lets later
        // values reuse the input's and the conv's memory, so the arena holds fewer floats than all four.
        let all = 2 * 64 * 64 + 4 * 64 * 64 + 2 * 4 * 32 * 32
        XCTAssertLessThanOrEqual(plan.activationCount, 2 * 64 * 64 + 4 * 64 * 64 + 64)
        XCTAssertLessThan(plan.activationCount, all)
    }

    func testConstantShapeSubgraphsFoldAtPlanTime() throws {
        // y = Reshape(x, Concat(Gather(Shape(x), 0), [-1])): exporters' flatten idiom.
        let nodes = [
            Node(op: "Shape", name: "shape", inputs: ["x"], outputs: ["s"]),
            Node(op: "Gather", name: "gather", inputs: ["s", "zero"], outputs: ["n"], attributes: ["axis": .int(0)]),
            Node(op: "Unsqueeze", name: "unsq", inputs: ["n", "axes"], outputs: ["n1"]),
            Node(op: "Concat", name: "cat", inputs: ["n1", "minus"], outputs: ["spec"], attributes: ["axis": .int(0)]),
            Node(op: "Reshape", name: "reshape", inputs: ["x", "spec"], outputs: ["y"]),
        ]
        let g = Graph(nodes: nodes, inputs: [ValueInfo(name: "x", dtype: .float32, shape: [nil, 3, 4])],
                      outputs: [ValueInfo(name: "y", dtype: .float32, shape: [])],
                      initializers: ["zero": Tensor(shape: [], ints: [0]), "axes": .vector([0]), "minus": .vector([-1])], opset: 17)
        let session = try InferenceSession(graph: g)
        let plan = try session.plan(for: ["x": [5, 3, 4]])
        XCTAssertEqual(plan.stepOps, ["Reshape"], "only the data movement runs")
        XCTAssertEqual(try session.run(["x": input([5, 3, 4])])["y"]!.shape, [5, 12])
    }
}

/// Results written from concurrent runs.
final class ResultBox: @unchecked Sendable {
    private var values: [[Float]?]
    private let lock = NSLock()
    init(count: Int) { values = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ v: [Float]?) {
        lock.lock()
        defer { lock.unlock() }
        if let existing = values[i], existing != v { values[i] = [] } else { values[i] = v }
    }
    func get(_ i: Int) -> [Float]? {
        lock.lock()
        defer { lock.unlock() }
        return values[i]
    }
}

/// A tiny deterministic generator for test data.
struct Lcg {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> Float {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Float(state >> 40) / Float(1 << 24)
    }
}
