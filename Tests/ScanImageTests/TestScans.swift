@testable import ScanImage

/// Small synthetic scans whose every sample is known.
enum TestScans {
    /// Sample (x, y) of plane p is `(x * 7 + y * 131 + p * 1009) mod range`, shifted negative for signed formats.
    static func gradient(width: Int, height: Int, format: SampleFormat, channels: Int = 1, frames: Int = 1) -> Scan {
        let count = width * height * channels * frames
        var bytes = [UInt8](repeating: 0, count: count * format.size)
        bytes.withUnsafeMutableBytes { raw in
            for i in 0..<count {
                let plane = i / (width * height), x = i % width, y = (i / width) % height
                let v = x * 7 + y * 131 + plane * 1009
                switch format {
                case .uint8: raw.storeBytes(of: UInt8(v % 256), toByteOffset: i, as: UInt8.self)
                case .int8: raw.storeBytes(of: Int8(v % 256 - 128), toByteOffset: i, as: Int8.self)
                case .uint16: raw.storeBytes(of: UInt16(v * 37 % 65536), toByteOffset: i * 2, as: UInt16.self)
                case .int16: raw.storeBytes(of: Int16(v * 37 % 65536 - 32768), toByteOffset: i * 2, as: Int16.self)
                case .uint32: raw.storeBytes(of: UInt32(v * 100_003), toByteOffset: i * 4, as: UInt32.self)
                case .int32: raw.storeBytes(of: Int32(v * 100_003) - 1_000_000, toByteOffset: i * 4, as: Int32.self)
                case .float32: raw.storeBytes(of: Float(v) * 0.25 - 100, toByteOffset: i * 4, as: Float.self)
                }
            }
        }
        return Scan(width: width, height: height, frames: frames,
                    channels: Array(repeating: .single, count: channels), bitsStored: format.size * 8,
                    pixels: PixelData(format: format, bytes: bytes), source: SourceMetadata(format: "test"))
    }
}
