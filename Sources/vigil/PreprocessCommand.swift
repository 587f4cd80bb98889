import ArgumentParser
import Compute
import Foundation
import NPYFormat
import Profiles
import ScanImage

extension ImageCommand {
    /// `vigil image preprocess`: the float tensor a model would see for this scan and profile.
    struct Preprocess: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the float32 tensor a model sees (after the profile's preprocessing) as .npy.",
            discussion: "Shape [tiles, channels, height, width] when the profile tiles, else [frames, channels, height, width].")

        @Argument(help: "The scan to read.")
        var file: String

        @Argument(help: "Output .npy path.")
        var output: String

        @Option(help: "Scanner profile id (see `vigil profile list`).")
        var profile: String

        @Option(help: "Resample to this pixel pitch in mm (a model's pitch) instead of the profile's.")
        var pitch: Double?

        @Flag(help: "Write the whole image as [frames, channels, height, width], without the profile's tiles.")
        var noTile = false

        @OptionGroup var profiles: ProfileOptions
        @OptionGroup var decoding: DecodingOptions

        func validate() throws {
            if let pitch, !(pitch > 0 && pitch <= 1000) { throw ValidationError("--pitch must be in (0, 1000] mm") }
        }

        func run() throws {
            let scanner = try profiles.catalog().profile(profile)
            let clock = ContinuousClock()
            let start = clock.now
            let scan = try scanner.interpret(decoding.decode(file), source: file)
            let decoded = clock.now
            let prepared = Preprocessor(profile: scanner).prepare(scan, pitchMM: pitch, tiling: noTile ? .none : .profile)
            let (shape, values) = prepared.tensor()
            let done = clock.now
            try ScanFile.write(NPYArray(shape: shape, floats: values).encoded(), to: output)
            try printJSON(PreprocessSummary(
                source: file, profile: scanner.id, output: output, shape: shape, tiles: prepared.tiles?.count ?? 0,
                min: values.min() ?? 0, max: values.max() ?? 0, geometry: GeometrySummary(prepared.geometry),
                timingsMs: ["decode": milliseconds(decoded - start), "preprocess": milliseconds(done - decoded)]))
        }
    }
}

/// Where scanner profiles are read from.
struct ProfileOptions: ParsableArguments {
    @Option(help: "Folder with vendors/*.json (default: $VIGIL_PROFILES, ./ScannerProfiles, or the checkout's).")
    var profiles: String?

    func catalog() throws -> ProfileCatalog {
        try ProfileCatalog(directory: profiles ?? ProfileCatalog.defaultDirectory())
    }
}

/// `vigil profile`: list and validate scanner profiles.
struct ProfileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profile",
        abstract: "List and validate scanner profiles.",
        subcommands: [List.self, Check.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the installed profiles as JSON lines.")
        @OptionGroup var profiles: ProfileOptions

        func run() throws {
            for p in try profiles.catalog().profiles.values.sorted(by: { $0.id < $1.id }) {
                try printJSON(ProfileSummary(p))
            }
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Validate profile files; print one error line per bad file.")
        @Argument(help: "Profile JSON files.")
        var files: [String]

        func run() throws {
            var failed = 0
            for file in files {
                do {
                    _ = try ScannerProfile.load(path: file)
                    print("\(file): ok")
                } catch {
                    FileHandle.standardError.write(Data("vigil: \(error)\n".utf8))
                    failed += 1
                }
            }
            if failed > 0 { throw ExitCode(1) }
        }
    }
}

/// One line of `vigil profile list`.
struct ProfileSummary: Encodable {
    var id: String
    var vendor: String
    var model: String
    var modality: String
    var view: String
    var channels: [String]
    var bitsStored: Int
    var pixelPitchMM: PixelPitch

    init(_ p: ScannerProfile) {
        id = p.id
        vendor = p.vendor
        model = p.model
        modality = p.modality.rawValue
        view = p.view.rawValue
        channels = p.channels.map { "\($0.role.rawValue) \(format($0.energy.peak)) \($0.energy.unit.rawValue)" }
        bitsStored = p.bitsStored
        pixelPitchMM = p.pitch
    }
}

private func format(_ d: Double) -> String { d == d.rounded() ? String(Int(d)) : String(d) }

/// The line `vigil image preprocess` prints about what it wrote.
struct PreprocessSummary: Encodable {
    var source: String
    var profile: String
    var output: String
    var shape: [Int]
    var tiles: Int
    var min: Float
    var max: Float
    var geometry: GeometrySummary
    var timingsMs: [String: Double]
}

/// How prepared pixels map to received ones (so training code can move labels the same way).
struct GeometrySummary: Encodable {
    var flipHorizontal: Bool
    var flipVertical: Bool
    var transposed: Bool
    var scaleX: Double
    var scaleY: Double

    init(_ g: ScanGeometry) {
        flipHorizontal = g.flipHorizontal
        flipVertical = g.flipVertical
        transposed = g.transposed
        scaleX = g.scaleX
        scaleY = g.scaleY
    }
}

func milliseconds(_ d: Duration) -> Double {
    let (seconds, attoseconds) = d.components
    return (Double(seconds) * 1e3 + Double(attoseconds) / 1e15).rounded(toPlaces: 3)
}

extension Double {
    func rounded(toPlaces places: Int) -> Double {
        let scale = pow(10, Double(places))
        return (self * scale).rounded() / scale
    }
}
