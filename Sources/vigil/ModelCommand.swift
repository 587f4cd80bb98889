import ArgumentParser
import Compute
import Engine
import Foundation
import NPYFormat

/// `vigil model`: run, time and inspect ONNX models with Vigil's engine.
struct ModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Run, benchmark and inspect ONNX models.",
        subcommands: [Run.self, Bench.self, Inspect.self])

    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Run a model on .npy inputs; write DIR/<output>.npy for every graph output.")

        @Argument(help: "The ONNX model.") var model: String
        @Option(name: .customLong("input"), help: "NAME=FILE.npy, once per graph input.") var inputs: [String] = []
        @Option(help: "Folder for the outputs (created if missing).") var outputDir: String
        @Option(help: "Worker threads (default: cores, or VIGIL_THREADS).") var threads: Int?

        func run() throws {
            let session = try loadSession(model, threads: threads)
            var feeds: [String: Tensor] = [:]
            for spec in inputs {
                let (name, path) = try splitAssignment(spec, option: "--input")
                feeds[name] = try readTensor(path)
            }
            let outputs = try session.run(feeds)
            try FileManager.default.createDirectory(atPath: outputDir, withIntermediateDirectories: true)
            for info in session.outputs {
                guard let t = outputs[info.name] else { continue }
                let file = info.name.replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "\\", with: "_")
                try writeTensor(t, to: (outputDir as NSString).appendingPathComponent(file + ".npy"))
            }
        }
    }

    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Time a model on random inputs; print JSON with median_ms, p10_ms, threads.")

        @Argument(help: "The ONNX model.") var model: String
        @Option(name: .customLong("shape"), help: "NAME=1x3x320x320, for inputs with symbolic dimensions.") var shapes: [String] = []
        @Option(help: "Worker threads (default: cores, or VIGIL_THREADS).") var threads: Int?
        @Option(help: "Timed runs after two warm-up runs.") var runs: Int = 20
        @Flag(help: "Add per-operator time (ms per run) to the JSON.") var profile = false

        func run() throws {
            let session = try loadSession(model, threads: threads)
            let feeds = try randomInputs(session, shapes: shapes)
            for _ in 0..<2 { _ = try session.run(feeds) }
            var times: [Double] = []
            var perOp: [String: Double] = [:]
            let clock = ContinuousClock()
            for _ in 0..<max(1, runs) {
                let start = clock.now
                if profile { _ = try session.run(feeds, profile: &perOp) } else { _ = try session.run(feeds) }
                let d = (clock.now - start).components
                times.append(Double(d.seconds) * 1e3 + Double(d.attoseconds) / 1e15)
            }
            times.sort()
            let summary = try session.planSummary(for: feeds)
            let median = times[times.count / 2]
            var result = BenchResult(median_ms: median, p10_ms: times[times.count / 10], p90_ms: times[times.count * 9 / 10],
                                     threads: session.pool.threads, runs: times.count, gflops: summary.flops / 1e9,
                                     gflop_per_s: summary.flops / 1e6 / median, arena_mb: Double(summary.arenaBytes) / 1048576,
                                     blas_core: BLASRuntime.coreName, profile_ms: nil)
            if profile { result.profile_ms = perOp.mapValues { $0 / Double(times.count) } }
            try printJSON(result)
        }
    }

    struct Inspect: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a model's inputs, outputs, operator counts, FLOPs and arena size as JSON.")

        @Argument(help: "The ONNX model.") var model: String
        @Option(name: .customLong("shape"), help: "NAME=1x3x320x320, for inputs with symbolic dimensions.") var shapes: [String] = []

        func run() throws {
            let session = try loadSession(model, threads: nil)
            let feeds = try randomInputs(session, shapes: shapes)
            let summary = try session.planSummary(for: feeds)
            var ops: [String: Int] = [:]
            for node in try ONNXImporter.load(path: model).nodes { ops[node.op, default: 0] += 1 }
            try printJSON(ModelInfo(
                inputs: session.inputs.map { .init(name: $0.name, shape: $0.shape.map { $0 ?? -1 }, dtype: "\($0.dtype)") },
                outputs: session.outputs.map { .init(name: $0.name, shape: summary.outputShapes[$0.name] ?? [], dtype: "\($0.dtype)") },
                opset: session.graph.opset, operators: ops, nodesAfterFusion: session.graph.nodes.count, planSteps: summary.steps,
                flops: summary.flops, gflops: summary.flops / 1e9, arenaBytes: summary.arenaBytes,
                planShapes: feeds.mapValues(\.shape)))
        }
    }
}

struct BenchResult: Encodable {
    var median_ms: Double
    var p10_ms: Double
    var p90_ms: Double
    var threads: Int
    var runs: Int
    var gflops: Double
    var gflop_per_s: Double
    var arena_mb: Double
    var blas_core: String
    var profile_ms: [String: Double]?
}

struct ModelInfo: Encodable {
    struct Value: Encodable {
        var name: String
        var shape: [Int]
        var dtype: String
    }
    var inputs: [Value]
    var outputs: [Value]
    var opset: Int
    var operators: [String: Int]
    var nodesAfterFusion: Int
    var planSteps: Int
    var flops: Double
    var gflops: Double
    var arenaBytes: Int
    var planShapes: [String: [Int]]
}

/// A model error as one line: `MODEL: cause`.
struct ModelFailure: Error, CustomStringConvertible {
    var description: String
}

func loadSession(_ path: String, threads: Int?) throws -> InferenceSession {
    do {
        return try InferenceSession(path: path, pool: threads.map { WorkerPool(threads: $0) } ?? .shared)
    } catch {
        throw ModelFailure(description: "\(path): \(error)")
    }
}

func splitAssignment(_ spec: String, option: String) throws -> (String, String) {
    guard let eq = spec.lastIndex(of: "="), eq != spec.startIndex else { throw CommandFailure("\(option) \(spec): expected NAME=VALUE") }
    return (String(spec[..<eq]), String(spec[spec.index(after: eq)...]))
}

func readTensor(_ path: String) throws -> Tensor {
    guard let data = FileManager.default.contents(atPath: path) else { throw CommandFailure("\(path): cannot read: no such file") }
    let array: NPYArray
    do { array = try NPYArray(decoding: [UInt8](data)) } catch { throw CommandFailure("\(path): \(error)") }
    switch array.dtype {
    case .float32, .float64: return Tensor(shape: array.shape, floats: array.floats())
    case .bool: return Tensor(shape: array.shape, ints: array.floats().map { Int64($0) }, dtype: .bool)
    case .int64:
        let ints = array.bytes.withUnsafeBytes { Array($0.bindMemory(to: Int64.self)) }
        return Tensor(shape: array.shape, ints: ints)
    case .int32: return Tensor(shape: array.shape, ints: array.floats().map { Int64($0) }, dtype: .int32)
    case .uint8: return Tensor(shape: array.shape, ints: array.floats().map { Int64($0) }, dtype: .uint8)
    case .int8: return Tensor(shape: array.shape, ints: array.floats().map { Int64($0) }, dtype: .int8)
    default: throw CommandFailure("\(path): unsupported: dtype \(array.dtype.rawValue) as a model input")
    }
}

func writeTensor(_ t: Tensor, to path: String) throws {
    let array: NPYArray
    switch t.dtype {
    case .float32: array = NPYArray(shape: t.shape, floats: t.floats)
    case .bool: array = NPYArray(dtype: .bool, shape: t.shape, bytes: t.ints.map { $0 != 0 ? 1 : 0 })
    case .int32: array = NPYArray(dtype: .int32, shape: t.shape, bytes: t.ints.map { Int32(truncatingIfNeeded: $0) }.withUnsafeBytes { Array($0) })
    case .uint8: array = NPYArray(dtype: .uint8, shape: t.shape, bytes: t.ints.map { UInt8(truncatingIfNeeded: $0) })
    case .int8: array = NPYArray(dtype: .int8, shape: t.shape, bytes: t.ints.map { UInt8(bitPattern: Int8(truncatingIfNeeded: $0)) })
    case .int64: array = NPYArray(dtype: .int64, shape: t.shape, bytes: t.ints.withUnsafeBytes { Array($0) })
    }
    guard FileManager.default.createFile(atPath: path, contents: Data(array.encoded())) else {
        throw CommandFailure("\(path): cannot write")
    }
}

/// Uniform random inputs in [0, 1) of the declared shapes, with `--shape` for symbolic ones.
func randomInputs(_ session: InferenceSession, shapes: [String]) throws -> [String: Tensor] {
    var given: [String: [Int]] = [:]
    for spec in shapes {
        let (name, dims) = try splitAssignment(spec, option: "--shape")
        let parsed = dims.split(separator: "x").compactMap { Int($0) }
        guard parsed.count == dims.split(separator: "x").count, !parsed.isEmpty else { throw CommandFailure("--shape \(spec): expected NAME=1x3x320x320") }
        given[name] = parsed
    }
    var generator = SystemRandomNumberGenerator()
    var feeds: [String: Tensor] = [:]
    for info in session.inputs {
        guard let shape = given[info.name] ?? (info.shape.allSatisfy { $0 != nil } ? info.shape.map { $0! } : nil) else {
            throw CommandFailure("input '\(info.name)' has symbolic dimensions \(info.shape.map { $0.map(String.init) ?? "?" }); give --shape \(info.name)=...")
        }
        let n = shape.reduce(1, *)
        feeds[info.name] = info.dtype.isFloat ? Tensor(shape: shape, floats: (0..<n).map { _ in Float.random(in: 0..<1, using: &generator) })
            : Tensor(shape: shape, ints: .init(repeating: 0, count: n), dtype: info.dtype)
    }
    return feeds
}
