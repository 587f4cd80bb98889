import Foundation

/// An error in a configuration file: which file, which field, and what is wrong with it.
public struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var field: String
    public var message: String

    public init(file: String, field: String, message: String) {
        self.file = file
        self.field = field
        self.message = message
    }

    public var description: String {
        field.isEmpty ? "\(file): \(message)" : "\(file): \(field): \(message)"
    }
}

/// A parsed JSON value; booleans and numbers stay distinct.
package enum JSONValue: Decodable, Sendable {
    case null, bool(Bool), number(Double), string(String), array([JSONValue]), object([String: JSONValue])

    package init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let d = try? c.decode(Double.self) { self = .number(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }
}

/// Reads one JSON object field by field and refuses keys nobody asked for.
///
/// Invariant: `finish()` throws when any key of the object was never read, so a typo in a
/// configuration file is reported instead of silently ignored.
package struct StrictObject {
    package let file: String
    package let path: String
    private let values: [String: JSONValue]
    private var consumed: Set<String> = []

    package init(_ value: JSONValue, file: String, path: String) throws(ConfigurationError) {
        guard case .object(let dict) = value else {
            throw ConfigurationError(file: file, field: path, message: "expected an object")
        }
        self.file = file
        self.path = path
        self.values = dict
    }

    package static func parse(_ data: Data, file: String) throws(ConfigurationError) -> StrictObject {
        let value: JSONValue
        do {
            value = try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            throw ConfigurationError(file: file, field: "", message: "not valid JSON")
        }
        return try StrictObject(value, file: file, path: "")
    }

    package func fieldPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    package func error(_ key: String, _ message: String) -> ConfigurationError {
        ConfigurationError(file: file, field: fieldPath(key), message: message)
    }

    package func has(_ key: String) -> Bool { values[key] != nil }

    private mutating func raw(_ key: String, optional: Bool) throws(ConfigurationError) -> JSONValue? {
        consumed.insert(key)
        guard let value = values[key] else {
            if optional { return nil }
            throw error(key, "missing")
        }
        if case .null = value {
            if optional { return nil }
            throw error(key, "missing")
        }
        return value
    }

    package mutating func string(_ key: String) throws(ConfigurationError) -> String {
        guard let s = try optionalString(key) else { throw error(key, "missing") }
        return s
    }

    package mutating func optionalString(_ key: String) throws(ConfigurationError) -> String? {
        guard let value = try raw(key, optional: true) else { return nil }
        guard case .string(let s) = value else { throw error(key, "expected a string") }
        return s
    }

    package mutating func bool(_ key: String) throws(ConfigurationError) -> Bool {
        guard case .bool(let b) = try raw(key, optional: false) else { throw error(key, "expected true or false") }
        return b
    }

    package mutating func double(_ key: String, in range: ClosedRange<Double>? = nil) throws(ConfigurationError) -> Double {
        guard let d = try optionalDouble(key, in: range) else { throw error(key, "missing") }
        return d
    }

    package mutating func optionalDouble(_ key: String, in range: ClosedRange<Double>? = nil) throws(ConfigurationError) -> Double? {
        guard let value = try raw(key, optional: true) else { return nil }
        guard case .number(let d) = value, d.isFinite else { throw error(key, "expected a number") }
        if let range, !range.contains(d) {
            throw error(key, "\(format(d)) is outside \(format(range.lowerBound))…\(format(range.upperBound))")
        }
        return d
    }

    package mutating func int(_ key: String, in range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
        guard case .number(let d) = try raw(key, optional: false), d == d.rounded(), abs(d) < 1e15 else {
            throw error(key, "expected a whole number")
        }
        let i = Int(d)
        guard range.contains(i) else { throw error(key, "\(i) is outside \(range.lowerBound)…\(range.upperBound)") }
        return i
    }

    package mutating func object(_ key: String) throws(ConfigurationError) -> StrictObject {
        try StrictObject(try raw(key, optional: false)!, file: file, path: fieldPath(key))
    }

    package mutating func objects(_ key: String) throws(ConfigurationError) -> [StrictObject] {
        guard case .array(let array) = try raw(key, optional: false) else { throw error(key, "expected an array") }
        var out: [StrictObject] = []
        for (i, element) in array.enumerated() {
            out.append(try StrictObject(element, file: file, path: "\(fieldPath(key))[\(i)]"))
        }
        return out
    }

    package mutating func strings(_ key: String) throws(ConfigurationError) -> [String] {
        guard case .array(let array) = try raw(key, optional: false) else { throw error(key, "expected an array") }
        var out: [String] = []
        for (i, element) in array.enumerated() {
            guard case .string(let s) = element else {
                throw ConfigurationError(file: file, field: "\(fieldPath(key))[\(i)]", message: "expected a string")
            }
            out.append(s)
        }
        return out
    }

    /// Reads a string that must be one of an enumeration's raw values.
    package mutating func choice<T: RawRepresentable & CaseIterable>(_ key: String, _: T.Type) throws(ConfigurationError) -> T
    where T.RawValue == String {
        let s = try string(key)
        guard let v = T(rawValue: s) else {
            throw error(key, "'\(s)' is not one of \(T.allCases.map { $0.rawValue }.joined(separator: ", "))")
        }
        return v
    }

    /// Throws for the first key that was never read.
    package func finish() throws(ConfigurationError) {
        if let unknown = values.keys.sorted().first(where: { !consumed.contains($0) }) {
            throw ConfigurationError(file: file, field: fieldPath(unknown), message: "unknown key")
        }
    }
}

func format(_ d: Double) -> String {
    d == d.rounded() && abs(d) < 1e15 ? String(Int(d)) : String(d)
}
