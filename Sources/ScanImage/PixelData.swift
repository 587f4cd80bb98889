/// Samples of a scan in planar order, `[frame][channel][row][column]`, host byte order.
///
/// Invariant: `bytes.count == frames * channels * height * width * format.size`.
public struct PixelData: Sendable, Equatable {
    public let format: SampleFormat
    public var bytes: [UInt8]

    public init(format: SampleFormat, bytes: [UInt8]) {
        self.format = format
        self.bytes = bytes
    }

    /// One plane (a frame's channel) converted to `Float`; exact for 8- and 16-bit samples.
    public func floatPlane(index: Int, planeSize: Int) -> [Float] {
        let start = index * planeSize
        return bytes.withUnsafeBytes { raw -> [Float] in
            switch format {
            case .uint8: return convert(raw.bindMemory(to: UInt8.self), start, planeSize) { Float($0) }
            case .int8: return convert(raw.bindMemory(to: Int8.self), start, planeSize) { Float($0) }
            case .uint16: return convert(raw.bindMemory(to: UInt16.self), start, planeSize) { Float($0) }
            case .int16: return convert(raw.bindMemory(to: Int16.self), start, planeSize) { Float($0) }
            case .uint32: return convert(raw.bindMemory(to: UInt32.self), start, planeSize) { Float($0) }
            case .int32: return convert(raw.bindMemory(to: Int32.self), start, planeSize) { Float($0) }
            case .float32: return Array(raw.bindMemory(to: Float.self)[start..<(start + planeSize)])
            }
        }
    }

    /// The sample at a flat index, as `Double` (for tests and diagnostics, not hot loops).
    public func value(at index: Int) -> Double {
        bytes.withUnsafeBytes { raw -> Double in
            switch format {
            case .uint8: return Double(raw.bindMemory(to: UInt8.self)[index])
            case .int8: return Double(raw.bindMemory(to: Int8.self)[index])
            case .uint16: return Double(raw.bindMemory(to: UInt16.self)[index])
            case .int16: return Double(raw.bindMemory(to: Int16.self)[index])
            case .uint32: return Double(raw.bindMemory(to: UInt32.self)[index])
            case .int32: return Double(raw.bindMemory(to: Int32.self)[index])
            case .float32: return Double(raw.bindMemory(to: Float.self)[index])
            }
        }
    }

    /// Reorders interleaved samples (`[frame][row][column][sample]`) into planar order.
    static func planar(fromInterleaved source: UnsafeRawBufferPointer, frames: Int, samples: Int,
                       pixelsPerPlane: Int, sampleSize: Int) -> [UInt8] {
        if samples == 1 { return Array(source) }
        var out = [UInt8](repeating: 0, count: source.count)
        out.withUnsafeMutableBytes { dest in
            for f in 0..<frames {
                let frameBase = f * samples * pixelsPerPlane * sampleSize
                for s in 0..<samples {
                    let planeBase = frameBase + s * pixelsPerPlane * sampleSize
                    for i in 0..<pixelsPerPlane {
                        let from = frameBase + (i * samples + s) * sampleSize
                        let to = planeBase + i * sampleSize
                        for b in 0..<sampleSize { dest[to + b] = source[from + b] }
                    }
                }
            }
        }
        return out
    }
}

@inline(__always)
private func convert<T>(_ buffer: UnsafeBufferPointer<T>, _ start: Int, _ count: Int, _ f: (T) -> Float) -> [Float] {
    [Float](unsafeUninitializedCapacity: count) { out, initialized in
        for i in 0..<count { out[i] = f(buffer[start + i]) }
        initialized = count
    }
}
