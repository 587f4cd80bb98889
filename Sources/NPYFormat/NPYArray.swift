import Foundation

/// A NumPy `.npy` array (format 1.0/2.0/3.0): element type, shape and little-endian bytes.
///
/// Invariant: `bytes.count == shape.product * dtype.size`; big-endian files are swapped on read.
public struct NPYArray: Sendable, Equatable {
    /// Element types Vigil reads and writes.
    public enum DType: String, Sendable, CaseIterable {
        case uint8 = "|u1", int8 = "|i1"
        case uint16 = "<u2", int16 = "<i2"
        case uint32 = "<u4", int32 = "<i4"
        case int64 = "<i8", uint64 = "<u8"
        case float32 = "<f4", float64 = "<f8"
        case bool = "|b1"

        public var size: Int {
            switch self {
            case .uint8, .int8, .bool: return 1
            case .uint16, .int16: return 2
            case .uint32, .int32, .float32: return 4
            case .int64, .uint64, .float64: return 8
            }
        }
    }

    public var dtype: DType
    public var shape: [Int]
    public var bytes: [UInt8]

    public init(dtype: DType, shape: [Int], bytes: [UInt8]) {
        precondition(bytes.count == shape.reduce(1, *) * dtype.size, "NPY byte count does not match shape")
        self.dtype = dtype
        self.shape = shape
        self.bytes = bytes
    }

    public init(shape: [Int], floats: [Float]) {
        precondition(floats.count == shape.reduce(1, *), "NPY element count does not match shape")
        self.dtype = .float32
        self.shape = shape
        self.bytes = floats.withUnsafeBytes { Array($0) }
    }

    /// The elements as `Float`, converting from the stored type.
    public func floats() -> [Float] {
        let count = shape.reduce(1, *)
        return bytes.withUnsafeBytes { raw -> [Float] in
            switch dtype {
            case .float32: return Array(raw.bindMemory(to: Float.self).prefix(count))
            case .float64: return raw.bindMemory(to: Double.self).prefix(count).map { Float($0) }
            case .uint8, .bool: return raw.bindMemory(to: UInt8.self).map { Float($0) }
            case .int8: return raw.bindMemory(to: Int8.self).map { Float($0) }
            case .uint16: return raw.bindMemory(to: UInt16.self).map { Float($0) }
            case .int16: return raw.bindMemory(to: Int16.self).map { Float($0) }
            case .uint32: return raw.bindMemory(to: UInt32.self).map { Float($0) }
            case .int32: return raw.bindMemory(to: Int32.self).map { Float($0) }
            case .int64: return raw.bindMemory(to: Int64.self).map { Float($0) }
            case .uint64: return raw.bindMemory(to: UInt64.self).map { Float($0) }
            }
        }
    }

    /// The file bytes: magic, version 1.0 header padded to 64 bytes, data.
    public func encoded() -> [UInt8] {
        let dims = shape.map(String.init).joined(separator: ", ")
        let shapeText = shape.count == 1 ? "(\(dims),)" : "(\(dims))"
        var header = "{'descr': '\(dtype.rawValue)', 'fortran_order': False, 'shape': \(shapeText), }"
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var out: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
        let length = UInt16(header.utf8.count)
        out += [UInt8(length & 0xFF), UInt8(length >> 8)]
        out += Array(header.utf8)
        out += bytes
        return out
    }

    /// Parses a `.npy` file, refusing more than `maxBytes` of data before allocating it.
    public init(decoding data: [UInt8], maxBytes: Int = 1 << 31) throws(NPYError) {
        guard data.count >= 10, data[0] == 0x93, Array(data[1..<6]) == Array("NUMPY".utf8) else {
            throw .notNPY
        }
        let major = data[6]
        let headerLength: Int
        let headerStart: Int
        switch major {
        case 1:
            headerLength = Int(data[8]) | Int(data[9]) << 8
            headerStart = 10
        case 2, 3:
            guard data.count >= 12 else { throw .truncated }
            headerLength = Int(data[8]) | Int(data[9]) << 8 | Int(data[10]) << 16 | Int(data[11]) << 24
            headerStart = 12
        default:
            throw .malformedHeader("version \(major) is not supported")
        }
        guard headerLength <= 65536, data.count >= headerStart + headerLength else { throw .truncated }
        guard let header = String(bytes: data[headerStart..<(headerStart + headerLength)], encoding: .utf8) else {
            throw .malformedHeader("header is not text")
        }
        let descr = try NPYArray.value(of: "descr", in: header)
        let fortran = try NPYArray.value(of: "fortran_order", in: header)
        let shapeText = try NPYArray.value(of: "shape", in: header)
        guard fortran == "False" || fortran == "True" else { throw .malformedHeader("fortran_order \(fortran)") }
        let quoted = descr.trimmingCharacters(in: CharacterSet(charactersIn: "'\""))
        var swap = false
        var dtype = DType(rawValue: quoted)
        if dtype == nil, quoted.hasPrefix(">") {
            dtype = DType(rawValue: "<" + quoted.dropFirst())
            swap = true
        }
        if dtype == nil, quoted.hasPrefix("="), let d = DType(rawValue: "<" + quoted.dropFirst()) { dtype = d }
        if dtype == nil, quoted.hasPrefix("<") || quoted.hasPrefix(">"), let d = DType(rawValue: "|" + quoted.dropFirst()) { dtype = d }
        guard let dtype else { throw .unsupported("dtype \(quoted)") }
        let inner = shapeText.trimmingCharacters(in: CharacterSet(charactersIn: "() "))
        var shape: [Int] = []
        for part in inner.split(separator: ",") {
            let trimmed = part.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            guard let n = Int(trimmed), n >= 0 else { throw .malformedHeader("shape \(shapeText)") }
            shape.append(n)
        }
        var count = 1
        for n in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: n)
            guard !overflow, product.multipliedReportingOverflow(by: dtype.size).partialValue <= maxBytes else {
                throw .tooLarge(shape: shape, limit: maxBytes)
            }
            count = product
        }
        let byteCount = count * dtype.size
        let dataStart = headerStart + headerLength
        guard data.count - dataStart >= byteCount else { throw .truncated }
        var bytes = Array(data[dataStart..<(dataStart + byteCount)])
        if swap && dtype.size > 1 {
            for i in stride(from: 0, to: bytes.count, by: dtype.size) {
                bytes[i..<(i + dtype.size)].reverse()
            }
        }
        if fortran == "True" && shape.count > 1 {
            bytes = NPYArray.columnMajorToRowMajor(bytes, shape: shape, elementSize: dtype.size)
        }
        self.init(dtype: dtype, shape: shape, bytes: bytes)
    }

    /// Reorders a Fortran-order (column-major) array into C order.
    static func columnMajorToRowMajor(_ bytes: [UInt8], shape: [Int], elementSize: Int) -> [UInt8] {
        var fortranStrides = [Int](repeating: 1, count: shape.count)
        for k in 1..<shape.count { fortranStrides[k] = fortranStrides[k - 1] * shape[k - 1] }
        var out = [UInt8](repeating: 0, count: bytes.count)
        var index = [Int](repeating: 0, count: shape.count)
        let count = shape.reduce(1, *)
        for c in 0..<count {
            var f = 0
            for k in 0..<shape.count { f += index[k] * fortranStrides[k] }
            for b in 0..<elementSize { out[c * elementSize + b] = bytes[f * elementSize + b] }
            var k = shape.count - 1  // advance the C-order index, last axis fastest
            while k >= 0 {
                index[k] += 1
                if index[k] < shape[k] { break }
                index[k] = 0
                k -= 1
            }
        }
        return out
    }

    private static func value(of key: String, in header: String) throws(NPYError) -> String {
        guard let keyRange = header.range(of: "'\(key)'") ?? header.range(of: "\"\(key)\"") else {
            throw .malformedHeader("no '\(key)'")
        }
        var rest = header[keyRange.upperBound...].drop { $0 == " " || $0 == ":" }
        if rest.first == "(" {
            guard let close = rest.firstIndex(of: ")") else { throw .malformedHeader("unclosed shape") }
            return String(rest[...close])
        }
        rest = rest.prefix { $0 != "," && $0 != "}" }
        return rest.trimmingCharacters(in: .whitespaces)
    }
}

/// Why a `.npy` file could not be read.
public enum NPYError: Error, Equatable, CustomStringConvertible {
    case notNPY
    case truncated
    case malformedHeader(String)
    case unsupported(String)
    case tooLarge(shape: [Int], limit: Int)

    public var description: String {
        switch self {
        case .notNPY: return "not a NumPy .npy file (bad magic)"
        case .truncated: return "the .npy file ends early (truncated)"
        case .malformedHeader(let why): return "malformed .npy header: \(why)"
        case .unsupported(let what): return "\(what) are not supported in .npy input"
        case .tooLarge(let shape, let limit): return "array of shape \(shape) exceeds the limit of \(limit) bytes"
        }
    }
}
