import ArgumentParser
import Foundation
import NPYFormat
import ScanImage

/// `vigil image`: look at and convert scan files without running a model.
struct ImageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "image",
        abstract: "Inspect, convert and preprocess scan files.",
        subcommands: [Info.self, Convert.self, Preprocess.self])

    struct Info: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a scan's geometry and encoding as JSON.")

        @Argument(help: "A DICOM/DICOS, TIFF, PNG, JPEG or NPY file (raw with --raw).")
        var file: String

        @OptionGroup var decoding: DecodingOptions

        func run() throws {
            let scan = try decoding.decode(file)
            try printJSON(ImageInfo(scan))
        }
    }

    struct Convert: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a scan's decoded pixels, unwindowed, as PNG, TIFF or NPY (chosen by OUT's extension).")

        @Argument(help: "The scan to read.")
        var file: String

        @Argument(help: "Output path ending in .png, .tif/.tiff or .npy.")
        var output: String

        @OptionGroup var decoding: DecodingOptions

        func run() throws {
            guard let format = ScanEncoder.Format(path: output) else {
                throw ScanImageError(input: output, cause: .cannotEncode("unknown output format (use .png, .tiff or .npy)"))
            }
            let scan = try decoding.decode(file)
            let bytes = try ScanEncoder.encode(scan, as: format, output: output)
            try ScanFile.write(bytes, to: output)
        }
    }
}

/// Options shared by every command that decodes a scan file.
struct DecodingOptions: ParsableArguments {
    @Option(help: "Raw pixel layout WIDTHxHEIGHT[xCHANNELS[xFRAMES]]:FORMAT[le|be], e.g. 2048x1024x2:uint16le.")
    var raw: String?

    @Option(help: "Largest width or height accepted, in pixels.")
    var maxDimension: Int = ScanLimits.default.maxWidth

    @Option(help: "Largest decoded image accepted, in MiB.")
    var maxImageMiB: Int = ScanLimits.default.maxPixelBytes >> 20

    var limits: ScanLimits {
        var limits = ScanLimits.default
        limits.maxWidth = maxDimension
        limits.maxHeight = maxDimension
        limits.maxPixelBytes = maxImageMiB << 20
        limits.maxFileBytes = max(limits.maxFileBytes, limits.maxPixelBytes)
        return limits
    }

    func decode(_ file: String) throws -> Scan {
        var layout: RawLayout?
        if let raw {
            guard let parsed = RawLayout(parsing: raw) else {
                throw CommandFailure("--raw \(raw): expected WIDTHxHEIGHT[xCHANNELS[xFRAMES]]:FORMAT, e.g. 2048x1024x2:uint16le")
            }
            layout = parsed
        }
        return try ScanDecoder(limits: limits).decodeFile(at: file, raw: layout)
    }
}

/// The JSON `vigil image info` prints (DESIGN.md contract, plus a few extra keys).
struct ImageInfo: Encodable {
    var width: Int
    var height: Int
    var frames: Int
    var channels: Int
    var channelRoles: [String]
    var bitsStored: Int
    var sampleFormat: String
    var modality: String?
    var photometric: String
    var transferSyntax: String?
    var format: String
    var compression: String?
    var sopClassUID: String?
    var sopInstanceUID: String?
    var station: String?
    var pixelPitchMM: PixelPitch?

    // Absent values are written as null so every key of the contract is always present.
    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(width, forKey: .width)
        try c.encode(height, forKey: .height)
        try c.encode(frames, forKey: .frames)
        try c.encode(channels, forKey: .channels)
        try c.encode(channelRoles, forKey: .channelRoles)
        try c.encode(bitsStored, forKey: .bitsStored)
        try c.encode(sampleFormat, forKey: .sampleFormat)
        try c.encode(modality, forKey: .modality)
        try c.encode(photometric, forKey: .photometric)
        try c.encode(transferSyntax, forKey: .transferSyntax)
        try c.encode(format, forKey: .format)
        try c.encode(compression, forKey: .compression)
        try c.encode(sopClassUID, forKey: .sopClassUID)
        try c.encode(sopInstanceUID, forKey: .sopInstanceUID)
        try c.encode(station, forKey: .station)
        try c.encode(pixelPitchMM, forKey: .pixelPitchMM)
    }

    private enum CodingKeys: String, CodingKey {
        case width, height, frames, channels, channelRoles, bitsStored, sampleFormat, modality, photometric
        case transferSyntax, format, compression, sopClassUID, sopInstanceUID, station, pixelPitchMM
    }

    init(_ scan: Scan) {
        width = scan.width
        height = scan.height
        frames = scan.frames
        channels = scan.channels.count
        channelRoles = scan.channels.map(\.rawValue)
        bitsStored = scan.bitsStored
        sampleFormat = scan.pixels.format.rawValue
        modality = scan.source.declaredModality
        photometric = scan.photometric
        transferSyntax = scan.source.transferSyntax
        format = scan.source.format
        compression = scan.source.compression
        sopClassUID = scan.source.sopClassUID
        sopInstanceUID = scan.source.sopInstanceUID
        station = scan.source.station
        pixelPitchMM = scan.pitch
    }
}
