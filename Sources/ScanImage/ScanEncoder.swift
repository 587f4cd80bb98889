import CCodecs
import CDICOM
import NPYFormat

/// Writes a scan's decoded samples, unwindowed, as PNG, TIFF or NPY.
public enum ScanEncoder {
    /// Output formats `image convert` writes.
    public enum Format: String, Sendable, CaseIterable {
        case png, tiff, npy, dicom

        /// The format named by a path's extension (.png, .tif/.tiff, .npy, .dcm).
        public init?(path: String) {
            let ext = path.split(separator: ".").last.map { $0.lowercased() } ?? ""
            switch ext {
            case "png": self = .png
            case "tif", "tiff": self = .tiff
            case "npy": self = .npy
            case "dcm": self = .dicom
            default: return nil
            }
        }

        public var fileExtension: String { self == .dicom ? "dcm" : rawValue }
    }

    /// Encodes `scan`; `output` names the destination in errors.
    public static func encode(_ scan: Scan, as format: Format, output: String) throws(ScanImageError) -> [UInt8] {
        switch format {
        case .npy: return npy(scan).encoded()
        case .png: return try png(scan, output: output)
        case .tiff: return try tiff(scan, output: output)
        case .dicom: return try dicom(scan, output: output)
        }
    }

    /// A DICOS Digital X-Ray image: unsigned 16-bit grey, one frame per channel (high energy first).
    private static func dicom(_ scan: Scan, output: String) throws(ScanImageError) -> [UInt8] {
        guard scan.pixels.format == .uint16, !scan.channels.contains(where: { [.red, .green, .blue, .alpha].contains($0) }) else {
            throw ScanImageError(input: output, cause: .cannotEncode("DICOS DX holds unsigned 16-bit grey samples, not \(scan.pixels.format.rawValue) \(scan.channels.map(\.rawValue))"))
        }
        var buffer = vigil_dicom_buffer()
        let code = scan.pixels.bytes.withUnsafeBytes { raw -> Int32 in
            let station = scan.source.station ?? "VIGIL", manufacturer = scan.source.manufacturer ?? "Vigil"
            let model = scan.source.model ?? "synthetic"
            // A scan that already has an instance UID keeps it as the root of the file's UIDs.
            let root = scan.source.sopInstanceUID
            return station.withCString { st in
                manufacturer.withCString { mf in
                    model.withCString { md in
                        withOptionalCString(root) { rt in
                            var image = vigil_dicom_dx(
                                rows: UInt32(scan.height), columns: UInt32(scan.width), frames: UInt32(scan.frames * scan.channels.count),
                                bits_stored: UInt32(scan.bitsStored), pixels: raw.bindMemory(to: UInt16.self).baseAddress,
                                pixel_spacing_row: scan.pitch?.acrossTravelMM ?? 1, pixel_spacing_column: scan.pitch?.alongTravelMM ?? 1,
                                station_name: st, manufacturer: mf, model_name: md, uid_root: rt)
                            return vigil_dicom_encode(&image, &buffer)
                        }
                    }
                }
            }
        }
        defer { vigil_dicom_buffer_free(&buffer) }
        guard code == 0 else { throw ScanImageError.fromShim(code: code, message: cString(&buffer.error), input: output) }
        return Array(UnsafeRawBufferPointer(start: buffer.data, count: buffer.length))
    }

    /// Samples in NumPy's usual image order, `[frames,] rows, columns [, samples]` as pydicom
    /// returns them; axes of length one are dropped. Dual-energy channels become the last axis.
    public static func npy(_ scan: Scan) -> NPYArray {
        let dtype = scan.pixels.format.npyType
        var shape: [Int] = []
        if scan.frames > 1 { shape.append(scan.frames) }
        shape += [scan.height, scan.width]
        if scan.channels.count > 1 { shape.append(scan.channels.count) }
        return NPYArray(dtype: dtype, shape: shape, bytes: interleaved(scan))
    }

    private static func interleaved(_ scan: Scan) -> [UInt8] {
        let samples = scan.channels.count
        if samples == 1 { return scan.pixels.bytes }
        let size = scan.pixels.format.size
        let plane = scan.pixelsPerPlane
        var out = [UInt8](repeating: 0, count: scan.pixels.bytes.count)
        scan.pixels.bytes.withUnsafeBytes { src in
            out.withUnsafeMutableBytes { dst in
                for f in 0..<scan.frames {
                    let base = f * samples * plane * size
                    for s in 0..<samples {
                        for i in 0..<plane {
                            let from = base + (s * plane + i) * size
                            let to = base + (i * samples + s) * size
                            for b in 0..<size { dst[to + b] = src[from + b] }
                        }
                    }
                }
            }
        }
        return out
    }

    private static func png(_ scan: Scan, output: String) throws(ScanImageError) -> [UInt8] {
        func refuse(_ why: String) -> ScanImageError { ScanImageError(input: output, cause: .cannotEncode(why)) }
        guard scan.frames == 1 else { throw refuse("PNG holds one frame, this scan has \(scan.frames); use .tiff or .npy") }
        let colour = scan.channels == [.red, .green, .blue] || scan.channels == [.red, .green, .blue, .alpha]
            || scan.channels == [.single, .alpha]
        guard scan.channels.count == 1 || colour else {
            throw refuse("PNG cannot hold channels \(scan.channels.map(\.rawValue)); use .tiff or .npy")
        }
        let depth: UInt32
        switch scan.pixels.format {
        case .uint8: depth = 8
        case .uint16: depth = 16
        default: throw refuse("PNG holds unsigned 8- or 16-bit samples, not \(scan.pixels.format.rawValue); use .tiff or .npy")
        }
        let pixels = interleaved(scan)
        var buffer = vigil_buffer()
        let code = pixels.withUnsafeBufferPointer {
            vigil_png_encode($0.baseAddress, UInt32(scan.width), UInt32(scan.height), UInt32(scan.channels.count), depth, &buffer)
        }
        return try take(&buffer, code: code, output: output)
    }

    private static func tiff(_ scan: Scan, output: String) throws(ScanImageError) -> [UInt8] {
        let colour = scan.channels.first == .red
        // Colour stays interleaved on one page; other channels (e.g. high and low energy) become pages.
        let samples = colour ? scan.channels.count : 1
        let pages = colour ? scan.frames : scan.frames * scan.channels.count
        let pixels = colour ? interleaved(scan) : scan.pixels.bytes
        let kind: UInt32
        switch scan.pixels.format {
        case .float32: kind = 3
        case .int8, .int16, .int32: kind = 2
        default: kind = 1
        }
        var buffer = vigil_buffer()
        let code = pixels.withUnsafeBufferPointer {
            vigil_tiff_encode($0.baseAddress, UInt32(scan.width), UInt32(scan.height), UInt32(pages), UInt32(samples),
                              UInt32(scan.pixels.format.size * 8), kind, &buffer)
        }
        return try take(&buffer, code: code, output: output)
    }

    private static func take(_ buffer: inout vigil_buffer, code: Int32, output: String) throws(ScanImageError) -> [UInt8] {
        defer { vigil_buffer_free(&buffer) }
        guard code == 0 else { throw ScanImageError.fromShim(code: code, message: cString(&buffer.error), input: output) }
        return Array(UnsafeRawBufferPointer(start: buffer.data, count: buffer.length))
    }
}

private func withOptionalCString<R>(_ s: String?, _ body: (UnsafePointer<CChar>?) -> R) -> R {
    guard let s else { return body(nil) }
    return s.withCString { body($0) }
}
