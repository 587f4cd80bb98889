import ArgumentParser
import Foundation
import Profiles
import ScanImage
import Simulator

/// `vigil synth`: synthetic scans with ground truth, from the X-ray simulator.
struct SynthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth",
        abstract: "Write synthetic scans (Beer–Lambert with NIST attenuation data) and labels.json ground truth.")

    @Option(help: "Kind of scene: cargo, vehicle, parcel, parcel-ct (CT volumes), or cargo-pair (two ports, two scanners).") var kind: String
    @Option(help: "Number of scans.") var count: Int
    @Option(help: "Seed; the same seed gives the same files.") var seed: UInt64
    @Option(help: "Output folder.") var out: String
    @Option(help: "Scanner profile to simulate (default: cargo-de-linac, vehicle-top or parcel-de-160kv by kind).") var profile: String?
    @Option(help: "Second scanner of a cargo-pair (default: cargo-de-mobile).") var otherProfile: String = "cargo-de-mobile"
    @Option(help: "File format the station sends: tiff (16-bit, a page per channel) or dicom (DICOS DX, a frame per channel).")
    var format: String = "tiff"
    @Flag(help: "The harder set: fuller containers with threats inside the goods and loose steel; parcels with three times the clutter.")
    var hard = false
    @OptionGroup var profiles: ProfileOptions

    func run() throws {
        if kind == "cargo-pair" { return try runPairs() }
        if kind == "parcel-ct" { return try runVolumes() }
        guard let kind = Synthesizer.Kind(rawValue: kind) else {
            throw CommandFailure("synth: kind '\(self.kind)' is not one of cargo, vehicle, parcel, cargo-pair")
        }
        guard count > 0 else { throw CommandFailure("synth: --count must be at least 1") }
        guard format == "tiff" || format == "dicom", let fileFormat = ScanEncoder.Format(rawValue: format) else {
            throw CommandFailure("synth: --format \(format) is not one of tiff, dicom")
        }
        let catalog = try profiles.catalog()
        let id = profile ?? kind.defaultProfile
        let scanner = try catalog.profile(id)
        guard scanner.modality == .dr, scanner.view == kind.view else {
            throw CommandFailure("synth: profile \(id) is not a \(kind.view.rawValue)-view radiograph scanner, as \(kind.rawValue) scenes need")
        }
        let table = try MaterialTable(directory: (catalog.directory as NSString).appendingPathComponent("attenuation"))
        let synthesizer = Synthesizer(simulator: try ScanSimulator(profile: scanner, table: table))
        let labels = try synthesizer.write(kind, count: count, seed: seed, directory: out, format: fileFormat, hard: hard)
        let threats = labels.scans.reduce(0) { $0 + $1.objects.filter { $0.kind == "threat" }.count }
        print("wrote \(labels.scans.count) \(kind.rawValue) scans with \(threats) hidden threats to \(out)")
    }

    private func runVolumes() throws {
        guard count > 0 else { throw CommandFailure("synth: --count must be at least 1") }
        guard format == "tiff" else { throw CommandFailure("synth: parcel-ct volumes are written as multi-page TIFF only") }
        let catalog = try profiles.catalog()
        let scanner = try catalog.profile(profile ?? "parcel-ct")
        guard scanner.modality == .ct else { throw CommandFailure("synth: profile \(scanner.id) is not a CT scanner, as parcel-ct needs") }
        let table = try MaterialTable(directory: (catalog.directory as NSString).appendingPathComponent("attenuation"))
        let labels = try VolumeSynthesizer(profile: scanner, table: table).write(count: count, seed: seed, directory: out, hard: hard)
        let threats = labels.scans.reduce(0) { $0 + $1.objects.filter { $0.kind == "threat" }.count }
        print("wrote \(labels.scans.count) parcel CT volumes with \(threats) hidden threats to \(out)")
    }

    private func runPairs() throws {
        guard count > 0 else { throw CommandFailure("synth: --count must be at least 1") }
        guard let fileFormat = ScanEncoder.Format(rawValue: format), format == "tiff" || format == "dicom" else {
            throw CommandFailure("synth: --format \(format) is not one of tiff, dicom")
        }
        let catalog = try profiles.catalog()
        let table = try MaterialTable(directory: (catalog.directory as NSString).appendingPathComponent("attenuation"))
        var simulators: [ScanSimulator] = []
        for id in [profile ?? "cargo-de-linac", otherProfile] {
            let scanner = try catalog.profile(id)
            guard scanner.modality == .dr, scanner.view == .side else {
                throw CommandFailure("synth: profile \(id) is not a side-view radiograph scanner, as cargo-pair needs")
            }
            simulators.append(try ScanSimulator(profile: scanner, table: table))
        }
        let labels = try PairSynthesizer(first: simulators[0], second: simulators[1])
            .write(count: count, seed: seed, directory: out, format: fileFormat)
        let changed = labels.scans.filter { !$0.objects.isEmpty }.count / 2
        print("wrote \(count) pairs (\(changed) with a change) to \(out)")
    }
}
