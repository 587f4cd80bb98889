import Foundation
import ONNXProto
import SwiftProtobuf

/// Reads an ONNX file into a `Graph`: nodes, typed inputs and outputs, initializers (inline or
/// in external-data files beside the model), and the default-domain opset.
public enum ONNXImporter {
    public static func load(path: String, maxBytes: Int = 2 << 30) throws(EngineError) -> Graph {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else {
            throw EngineError(.unreadable, "no such file")
        }
        if let size = (attributes[.size] as? NSNumber)?.intValue, size > maxBytes {
            throw EngineError(.unreadable, "model of \(size) bytes exceeds the limit of \(maxBytes)")
        }
        guard let data = FileManager.default.contents(atPath: path) else { throw EngineError(.unreadable, "permission denied") }
        let model: Onnx_ModelProto
        do {
            model = try Onnx_ModelProto(serializedBytes: data)
        } catch {
            throw EngineError(.unreadable, "not an ONNX model (protobuf: \(error))")
        }
        let folder = (path as NSString).deletingLastPathComponent
        return try graph(model, folder: folder)
    }

    static func graph(_ model: Onnx_ModelProto, folder: String) throws(EngineError) -> Graph {
        var opset = 0
        for imp in model.opsetImport where imp.domain.isEmpty || imp.domain == "ai.onnx" { opset = Int(imp.version) }
        guard (7...28).contains(opset) else { throw EngineError(.unsupported, "opset \(opset) (7 to 28 are supported)") }
        let g = model.graph
        var initializers: [String: Tensor] = [:]
        for t in g.initializer { initializers[t.name] = try tensor(t, folder: folder) }
        var nodes: [Node] = []
        for (index, n) in g.node.enumerated() {
            let name = n.name.isEmpty ? "\(n.opType)_\(index)" : n.name
            guard n.domain.isEmpty || n.domain == "ai.onnx" else {
                throw EngineError(.unsupported, "node '\(name)' (\(n.opType)): operator domain '\(n.domain)'")
            }
            var attrs: [String: Attribute] = [:]
            for a in n.attribute {
                switch a.type {
                case .int: attrs[a.name] = .int(Int(a.i))
                case .float: attrs[a.name] = .float(a.f)
                case .string: attrs[a.name] = .string(String(decoding: a.s, as: UTF8.self))
                case .ints: attrs[a.name] = .ints(a.ints.map { Int($0) })
                case .floats: attrs[a.name] = .floats(a.floats)
                case .tensor: attrs[a.name] = .tensor(try tensor(a.t, folder: folder))
                default:
                    throw EngineError(.unsupported, "node '\(name)' (\(n.opType)): attribute '\(a.name)' of type \(a.type)")
                }
            }
            nodes.append(Node(op: n.opType, name: name, inputs: n.input, outputs: n.output, attributes: attrs))
        }
        func info(_ v: Onnx_ValueInfoProto) throws(EngineError) -> ValueInfo {
            let t = v.type.tensorType
            guard let dtype = DataType(rawValue: Int(t.elemType)) else {
                throw EngineError(.unsupported, "value '\(v.name)' of ONNX element type \(t.elemType)")
            }
            let shape: [Int?] = t.shape.dim.map { d in
                if case .dimValue(let n)? = d.value { return Int(n) }
                return nil
            }
            return ValueInfo(name: v.name, dtype: dtype, shape: shape)
        }
        var inputs: [ValueInfo] = []
        for v in g.input where initializers[v.name] == nil { inputs.append(try info(v)) }
        var outputs: [ValueInfo] = []
        for v in g.output {
            // Outputs need a name; their declared type may be absent, so default to float.
            outputs.append((try? info(v)) ?? ValueInfo(name: v.name, dtype: .float32, shape: []))
        }
        return Graph(nodes: nodes, inputs: inputs, outputs: outputs, initializers: initializers, opset: opset)
    }

    /// Converts a TensorProto; data comes from raw_data, the typed fields, or an external file.
    static func tensor(_ t: Onnx_TensorProto, folder: String) throws(EngineError) -> Tensor {
        let shape = t.dims.map { Int($0) }
        let count = shape.reduce(1, *)
        guard let dtype = DataType(rawValue: Int(t.dataType)) else {
            throw EngineError(.unsupported, "tensor '\(t.name)' of ONNX element type \(t.dataType)")
        }
        var raw: Data? = t.hasRawData ? t.rawData : nil
        if t.dataLocation == .external {
            var location = "", offset = 0, length: Int? = nil
            for entry in t.externalData {
                switch entry.key {
                case "location": location = entry.value
                case "offset": offset = Int(entry.value) ?? 0
                case "length": length = Int(entry.value)
                default: break
                }
            }
            guard !location.isEmpty, !location.contains(".."), !location.hasPrefix("/") else {
                throw EngineError(.invalid, "tensor '\(t.name)': external data location '\(location)' must be a file beside the model")
            }
            let file = (folder as NSString).appendingPathComponent(location)
            guard let handle = FileHandle(forReadingAtPath: file) else {
                throw EngineError(.unreadable, "tensor '\(t.name)': external data file \(location) is missing")
            }
            defer { try? handle.close() }
            let needed = length ?? count * elementSize(dtype)
            do {
                try handle.seek(toOffset: UInt64(offset))
                raw = try handle.read(upToCount: needed) ?? Data()
            } catch {
                throw EngineError(.unreadable, "tensor '\(t.name)': cannot read \(location)")
            }
        }
        if let raw {
            let size = elementSize(dtype)
            guard raw.count >= count * size else {
                throw EngineError(.invalid, "tensor '\(t.name)' has \(raw.count) bytes for \(count) elements")
            }
            return raw.withUnsafeBytes { (p: UnsafeRawBufferPointer) -> Tensor in
                switch dtype {
                case .float32: return Tensor(shape: shape, floats: (0..<count).map { p.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) })
                case .int64: return Tensor(shape: shape, ints: (0..<count).map { p.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self) })
                case .int32: return Tensor(shape: shape, ints: (0..<count).map { Int64(p.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self)) }, dtype: .int32)
                case .int8: return Tensor(shape: shape, ints: (0..<count).map { Int64(Int8(bitPattern: p[$0])) }, dtype: .int8)
                case .uint8, .bool: return Tensor(shape: shape, ints: (0..<count).map { Int64(p[$0]) }, dtype: dtype)
                }
            }
        }
        switch dtype {
        case .float32:
            guard t.floatData.count == count else { throw EngineError(.invalid, "tensor '\(t.name)' has \(t.floatData.count) of \(count) floats") }
            return Tensor(shape: shape, floats: t.floatData)
        case .int64:
            guard t.int64Data.count == count else { throw EngineError(.invalid, "tensor '\(t.name)' has \(t.int64Data.count) of \(count) values") }
            return Tensor(shape: shape, ints: t.int64Data)
        default:
            guard t.int32Data.count == count else { throw EngineError(.invalid, "tensor '\(t.name)' has \(t.int32Data.count) of \(count) values") }
            return Tensor(shape: shape, ints: t.int32Data.map(Int64.init), dtype: dtype)
        }
    }

    static func elementSize(_ dtype: DataType) -> Int {
        switch dtype {
        case .float32, .int32: return 4
        case .int64: return 8
        case .uint8, .int8, .bool: return 1
        }
    }
}
