import ArgumentParser
import Foundation
import Profiles
import Simulator

/// `vigil synth`: synthetic scans with ground truth, from the X-ray simulator.
struct SynthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth",
        abstract: "Write synthetic scans (Beer–Lambert with NIST attenuation data) and labels.json ground truth.")

    @Option(help: "Kind of scene: cargo (vehicle and parcel are not available yet).") var kind: String
    @Option(help: "Number of scans.") var count: Int
    @Option(help: "Seed; the same seed gives the same files.") var seed: UInt64
    @Option(help: "Output folder.") var out: String
    @Option(help: "Scanner profile to simulate (default: cargo-de-linac).") var profile: String = "cargo-de-linac"
    @OptionGroup var profiles: ProfileOptions

    func run() throws {
        guard kind == "cargo" else {
            throw CommandFailure("synth: kind '\(kind)' is not available yet (cargo only)")
        }
        guard count > 0 else { throw CommandFailure("synth: --count must be at least 1") }
        let catalog = try profiles.catalog()
        let scanner = try catalog.profile(profile)
        guard scanner.modality == .dr, scanner.view == .side else {
            throw CommandFailure("synth: profile \(profile) is not a side-view radiograph scanner")
        }
        let table = try MaterialTable(directory: (catalog.directory as NSString).appendingPathComponent("attenuation"))
        let synthesizer = Synthesizer(simulator: try ScanSimulator(profile: scanner, table: table))
        let labels = try synthesizer.writeCargo(count: count, seed: seed, directory: out)
        let threats = labels.scans.reduce(0) { $0 + $1.objects.filter { $0.kind == "threat" }.count }
        print("wrote \(labels.scans.count) scans with \(threats) hidden threats to \(out)")
    }
}
