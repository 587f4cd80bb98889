import CCodecs
import CDICOM
import Foundation
import NPYFormat

/// Turns encoded bytes (DICOM, TIFF, PNG, JPEG, NPY or declared raw) into a `Scan`.
///
/// Every declared dimension is checked against `limits` before pixel memory is allocated.
public struct ScanDecoder: Sendable {
    public var limits: ScanLimits

    public init(limits: ScanLimits = .default) {
        self.limits = limits
    }

    /// Reads and decodes a file, refusing files larger than `limits.maxFileBytes` before reading them.
    public func decodeFile(at path: String, raw: RawLayout? = nil) throws(ScanImageError) -> Scan {
        let bytes = try ScanFile.read(path, maxBytes: limits.maxFileBytes)
        return try decode(bytes, source: path, raw: raw)
    }

    /// Decodes bytes; `source` names the input in errors.
    public func decode(_ bytes: [UInt8], source: String, raw: RawLayout? = nil) throws(ScanImageError) -> Scan {
        guard bytes.count <= limits.maxFileBytes else {
            throw ScanImageError(input: source, cause: .limitExceeded(
                "\(bytes.count) bytes exceeds the file limit of \(limits.maxFileBytes)"))
        }
        if let raw { return try decodeRaw(bytes, layout: raw, source: source) }
        switch ImageFormat.detect(bytes) {
        case .dicom: return try decodeDICOM(bytes, source: source)
        case .tiff: return try decodeRaster(bytes, format: .tiff, source: source)
        case .png: return try decodeRaster(bytes, format: .png, source: source)
        case .jpeg: return try decodeRaster(bytes, format: .jpeg, source: source)
        case .npy: return try decodeNPY(bytes, source: source)
        case .raw, nil:
            // A data set without preamble or meta header has no magic number; let dcmtk judge.
            // Without a magic number a failure says nothing more specific than "not an image".
            do {
                return try decodeDICOM(bytes, source: source)
            } catch {
                throw ScanImageError(input: source, cause: .unknownFormat)
            }
        }
    }

    private var rasterLimits: vigil_raster_limits {
        vigil_raster_limits(max_width: UInt32(clamping: limits.maxWidth), max_height: UInt32(clamping: limits.maxHeight),
                            max_frames: UInt32(clamping: limits.maxFrames), max_samples: UInt32(clamping: limits.maxChannels),
                            max_pixel_bytes: UInt64(limits.maxPixelBytes))
    }

    private func decodeDICOM(_ bytes: [UInt8], source: String) throws(ScanImageError) -> Scan {
        var image = vigil_dicom_image()
        let code = bytes.withUnsafeBufferPointer {
            vigil_dicom_decode($0.baseAddress, $0.count, UInt32(clamping: limits.maxWidth),
                               UInt32(clamping: limits.maxHeight), UInt32(clamping: limits.maxFrames),
                               UInt64(limits.maxPixelBytes), &image)
        }
        defer { vigil_dicom_free(&image) }
        guard code == 0 else {
            throw ScanImageError.fromShim(code: code, message: cString(&image.error), input: source)
        }
        let samples = Int(image.samples_per_pixel)
        guard samples <= limits.maxChannels else {
            throw ScanImageError(input: source, cause: .limitExceeded("\(samples) samples per pixel exceed the limit of \(limits.maxChannels)"))
        }
        let signed = image.pixel_representation == 1
        let format: SampleFormat
        switch image.bits_allocated {
        case 8: format = signed ? .int8 : .uint8
        case 16: format = signed ? .int16 : .uint16
        default: format = signed ? .int32 : .uint32
        }
        let pixels = Array(UnsafeRawBufferPointer(start: image.pixels, count: image.pixel_bytes))
        var meta = SourceMetadata(format: "dicom")
        meta.transferSyntax = cString(&image.transfer_syntax)
        meta.sopClassUID = nonEmpty(cString(&image.sop_class_uid))
        meta.sopInstanceUID = nonEmpty(cString(&image.sop_instance_uid))
        meta.declaredModality = nonEmpty(cString(&image.modality))
        meta.station = nonEmpty(cString(&image.station_name))
        meta.manufacturer = nonEmpty(cString(&image.manufacturer))
        meta.model = nonEmpty(cString(&image.model_name))
        meta.acquisitionTime = nonEmpty(cString(&image.acquisition_datetime))
        meta.rescaleSlope = image.rescale_slope
        meta.rescaleIntercept = image.rescale_intercept
        let isCT = meta.declaredModality == "CT" || ScanDecoder.ctStorageClasses.contains(meta.sopClassUID ?? "")
        var pitch: PixelPitch?
        if image.pixel_spacing_row > 0, image.pixel_spacing_column > 0 {
            // Rows are stacked across travel; columns follow the object along it.
            pitch = PixelPitch(alongTravelMM: image.pixel_spacing_column, acrossTravelMM: image.pixel_spacing_row)
        }
        let photometric = cString(&image.photometric)
        return Scan(width: Int(image.columns), height: Int(image.rows), frames: Int(image.frames),
                    channels: samples == 3 ? [.red, .green, .blue] : [.single], bitsStored: Int(image.bits_stored),
                    pixels: PixelData(format: format, bytes: pixels), modality: isCT ? .ct : .dr,
                    view: isCT ? .volume : .unknown, pitch: pitch, photometric: photometric, source: meta)
    }

    private func decodeRaster(_ bytes: [UInt8], format: ImageFormat, source: String) throws(ScanImageError) -> Scan {
        var raster = vigil_raster()
        var limits = rasterLimits
        let code = bytes.withUnsafeBufferPointer { buffer -> Int32 in
            switch format {
            case .png: return vigil_png_decode(buffer.baseAddress, buffer.count, &limits, &raster)
            case .jpeg: return vigil_jpeg_decode(buffer.baseAddress, buffer.count, &limits, &raster)
            default: return vigil_tiff_decode(buffer.baseAddress, buffer.count, &limits, &raster)
            }
        }
        defer { vigil_raster_free(&raster) }
        guard code == 0 else {
            throw ScanImageError.fromShim(code: code, message: cString(&raster.error), input: source)
        }
        guard let sampleFormat = SampleFormat(bits: Int(raster.bits_allocated), kind: raster.sample_format) else {
            throw ScanImageError(input: source, cause: .unsupported("\(raster.bits_allocated)-bit samples of kind \(raster.sample_format)"))
        }
        let samples = Int(raster.samples)
        let frames = Int(raster.frames)
        let plane = Int(raster.width) * Int(raster.height)
        let source = UnsafeRawBufferPointer(start: raster.pixels, count: raster.pixel_bytes)
        let planar = raster.planar != 0
            ? Array(source)
            : PixelData.planar(fromInterleaved: source, frames: frames, samples: samples,
                               pixelsPerPlane: plane, sampleSize: sampleFormat.size)
        var meta = SourceMetadata(format: format.rawValue)
        meta.compression = nonEmpty(cString(&raster.compression))
        var pitch: PixelPitch?
        if raster.resolution_unit == 2 || raster.resolution_unit == 3, raster.x_resolution > 0, raster.y_resolution > 0 {
            let unitMM = raster.resolution_unit == 2 ? 25.4 : 10.0
            pitch = PixelPitch(alongTravelMM: unitMM / raster.x_resolution, acrossTravelMM: unitMM / raster.y_resolution)
        }
        return Scan(width: Int(raster.width), height: Int(raster.height), frames: frames,
                    channels: ScanDecoder.roles(samples: samples), bitsStored: Int(raster.bits_stored),
                    pixels: PixelData(format: sampleFormat, bytes: planar), pitch: pitch,
                    photometric: cString(&raster.photometric), source: meta)
    }

    /// CT Image, Enhanced CT, Legacy Converted Enhanced CT, and DICOS CT Image storage.
    static let ctStorageClasses: Set<String> = [
        "1.2.840.10008.5.1.4.1.1.2", "1.2.840.10008.5.1.4.1.1.2.1", "1.2.840.10008.5.1.4.1.1.2.2",
        "1.2.840.10008.5.1.4.1.1.501.1",
    ]

    static func roles(samples: Int) -> [ChannelRole] {
        switch samples {
        case 1: return [.single]
        case 2: return [.single, .alpha]
        case 3: return [.red, .green, .blue]
        case 4: return [.red, .green, .blue, .alpha]
        default: return Array(repeating: .single, count: samples)
        }
    }

    private func decodeNPY(_ bytes: [UInt8], source: String) throws(ScanImageError) -> Scan {
        let array: NPYArray
        do {
            array = try NPYArray(decoding: bytes, maxBytes: limits.maxPixelBytes)
        } catch {
            let cause: ScanImageError.Cause
            switch error {
            case .truncated: cause = .truncated(error.description)
            case .unsupported: cause = .unsupported(error.description)
            case .tooLarge: cause = .limitExceeded(error.description)
            default: cause = .corrupt(error.description)
            }
            throw ScanImageError(input: source, cause: cause)
        }
        guard let format = SampleFormat(npy: array.dtype) else {
            throw ScanImageError(input: source, cause: .unsupported("dtype \(array.dtype.rawValue) as an image"))
        }
        // The same axis convention `image convert` writes: [frames,] rows, columns [, samples].
        let s = array.shape
        let (frames, height, width, samples): (Int, Int, Int, Int)
        switch s.count {
        case 2: (frames, height, width, samples) = (1, s[0], s[1], 1)
        case 3 where s[2] == 3 || s[2] == 4: (frames, height, width, samples) = (1, s[0], s[1], s[2])
        case 3: (frames, height, width, samples) = (s[0], s[1], s[2], 1)
        case 4: (frames, height, width, samples) = (s[0], s[1], s[2], s[3])
        default: throw ScanImageError(input: source, cause: .unsupported("array of \(s.count) dimensions as an image"))
        }
        try checkGeometry(width: width, height: height, frames: frames, channels: samples, format: format, source: source)
        let planar = array.bytes.withUnsafeBytes {
            PixelData.planar(fromInterleaved: $0, frames: frames, samples: samples, pixelsPerPlane: width * height,
                             sampleSize: format.size)
        }
        return Scan(width: width, height: height, frames: frames, channels: ScanDecoder.roles(samples: samples),
                    bitsStored: format.size * 8, pixels: PixelData(format: format, bytes: planar),
                    photometric: samples >= 3 ? "RGB" : "MONOCHROME2", source: SourceMetadata(format: "npy"))
    }

    private func decodeRaw(_ bytes: [UInt8], layout: RawLayout, source: String) throws(ScanImageError) -> Scan {
        try checkGeometry(width: layout.width, height: layout.height, frames: layout.frames, channels: layout.channels,
                          format: layout.format, source: source)
        let count = layout.width * layout.height * layout.frames * layout.channels * layout.format.size
        guard layout.headerBytes >= 0, bytes.count >= layout.headerBytes + count else {
            throw ScanImageError(input: source, cause: .truncated(
                "raw layout needs \(layout.headerBytes + count) bytes, got \(bytes.count)"))
        }
        var pixels = Array(bytes[layout.headerBytes..<(layout.headerBytes + count)])
        if layout.byteOrder == .big, layout.format.size > 1 {
            let size = layout.format.size
            for i in stride(from: 0, to: pixels.count, by: size) { pixels[i..<(i + size)].reverse() }
        }
        let roles: [ChannelRole] = layout.channels == 2 ? [.high, .low] : Array(repeating: .single, count: layout.channels)
        return Scan(width: layout.width, height: layout.height, frames: layout.frames, channels: roles,
                    bitsStored: layout.bitsStored ?? layout.format.size * 8,
                    pixels: PixelData(format: layout.format, bytes: pixels), source: SourceMetadata(format: "raw"))
    }

    private func checkGeometry(width: Int, height: Int, frames: Int, channels: Int, format: SampleFormat,
                               source: String) throws(ScanImageError) {
        func fail(_ why: String) -> ScanImageError { ScanImageError(input: source, cause: .limitExceeded(why)) }
        guard width > 0, height > 0, frames > 0, channels > 0 else {
            throw ScanImageError(input: source, cause: .corrupt("empty image (\(width)x\(height), \(frames) frames, \(channels) channels)"))
        }
        if width > limits.maxWidth { throw fail("width \(width) exceeds the limit of \(limits.maxWidth)") }
        if height > limits.maxHeight { throw fail("height \(height) exceeds the limit of \(limits.maxHeight)") }
        if frames > limits.maxFrames { throw fail("\(frames) frames exceed the limit of \(limits.maxFrames)") }
        if channels > limits.maxChannels { throw fail("\(channels) channels exceed the limit of \(limits.maxChannels)") }
        let total = [width, height, frames, channels, format.size].reduce(1) { $0.multipliedReportingOverflow(by: $1).partialValue }
        if total > limits.maxPixelBytes { throw fail("\(total) pixel bytes exceed the limit of \(limits.maxPixelBytes)") }
    }
}

/// Reads a C string from a fixed-size char tuple field.
func cString<T>(_ field: inout T) -> String {
    withUnsafeBytes(of: &field) { raw in
        let bytes = raw.prefix { $0 != 0 }
        return String(decoding: bytes, as: UTF8.self)
    }
}

private func nonEmpty(_ s: String) -> String? { s.isEmpty ? nil : s }
