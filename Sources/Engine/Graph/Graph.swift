/// A node attribute, as ONNX defines them (the subset vision models use).
public enum Attribute: Sendable, Equatable {
    case int(Int)
    case float(Float)
    case string(String)
    case ints([Int])
    case floats([Float])
    case tensor(Tensor)
}

/// One operator application. Empty input names are ONNX's "optional input not given".
public struct Node: Sendable, Equatable {
    public var op: String
    public var name: String
    public var inputs: [String]
    public var outputs: [String]
    public var attributes: [String: Attribute]

    public init(op: String, name: String, inputs: [String], outputs: [String], attributes: [String: Attribute] = [:]) {
        self.op = op
        self.name = name
        self.inputs = inputs
        self.outputs = outputs
        self.attributes = attributes
    }
}

/// A graph input or output: its name, element type, and shape with symbolic dimensions as nil.
public struct ValueInfo: Sendable, Equatable {
    public var name: String
    public var dtype: DataType
    public var shape: [Int?]
}

/// A model's computation, in topological order, with its constant weights.
public struct Graph: Sendable {
    public var nodes: [Node]
    public var inputs: [ValueInfo]
    public var outputs: [ValueInfo]
    public var initializers: [String: Tensor]
    /// The default-domain opset the model was exported with.
    public var opset: Int

    public init(nodes: [Node], inputs: [ValueInfo], outputs: [ValueInfo], initializers: [String: Tensor], opset: Int) {
        self.nodes = nodes
        self.inputs = inputs
        self.outputs = outputs
        self.initializers = initializers
        self.opset = opset
    }
}

/// Why a model cannot be loaded or run: the model, the node and what is wrong.
public struct EngineError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable { case unreadable, unsupported, invalid, badInput }
    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String {
        switch kind {
        case .unreadable: return "cannot read: \(message)"
        case .unsupported: return "unsupported: \(message)"
        case .invalid: return "invalid model: \(message)"
        case .badInput: return "bad input: \(message)"
        }
    }
}

extension Node {
    /// Names the node in errors: `node 'conv3' (Conv)`.
    public var label: String { "node '\(name.isEmpty ? outputs.first ?? "?" : name)' (\(op))" }

    func int(_ key: String, _ fallback: Int) -> Int {
        if case .int(let v)? = attributes[key] { return v }
        return fallback
    }

    func float(_ key: String, _ fallback: Float) -> Float {
        if case .float(let v)? = attributes[key] { return v }
        return fallback
    }

    func string(_ key: String, _ fallback: String) -> String {
        if case .string(let v)? = attributes[key] { return v }
        return fallback
    }

    func ints(_ key: String) -> [Int]? {
        if case .ints(let v)? = attributes[key] { return v }
        return nil
    }

    func floats(_ key: String) -> [Float]? {
        if case .floats(let v)? = attributes[key] { return v }
        return nil
    }
}
