import Dispatch
import Foundation
import ScanImage
import Synchronization

/// `vigil synth --kind cargo-pair`: the same truck scanned at two ports by scanners of different
/// profiles (pitch, energies, bits, air value), sitting at a different height, travelling at a
/// different uneven speed, with fresh noise. In some pairs something changed in between.
public struct PairSynthesizer: Sendable {
    public let first: ScanSimulator
    public let second: ScanSimulator

    /// Changes between the two scans, with how often each occurs (the rest are unchanged pairs).
    static let changes = [("added", 0.2), ("removed", 0.2), ("filled compartment", 0.15)]

    public init(first: ScanSimulator, second: ScanSimulator) {
        self.first = first
        self.second = second
    }

    public func write(count: Int, seed: UInt64, directory: String, format: ScanEncoder.Format = .tiff) throws -> SyntheticLabels {
        try SyntheticLabels.write(count: count, directory: directory) { index in
            try makePair(index: index, seed: seed, directory: directory, format: format)
        }
    }

    private func makePair(index: Int, seed: UInt64, directory: String, format: ScanEncoder.Format) throws -> [SyntheticLabels.Entry] {
        var random = SeededRandom(seed: seed &* 2_000_003 &+ UInt64(index))
        let category = random.pick(CargoScene.categories.filter { $0 != "bulk" })  // bulk hides everything
        var change: String? = nil
        var roll = random.uniform(0, 1)
        for (name, p) in PairSynthesizer.changes {
            if roll < p { change = name; break }
            roll -= p
        }
        let offset = random.uniform(-15, 15)
        let layout = random  // both scenes draw the same layout from the same generator state
        var scenes: [Scene] = []
        for (k, sim) in [first, second].enumerated() {
            var r = layout
            let pitch = sim.profile.pitch.alongTravelMM / 10
            scenes.append(CargoScene.make(width: Int((1650 / pitch).rounded()), height: sim.profile.detectorPixels, pitchCM: pitch,
                                          pitchYCM: sim.profile.pitch.acrossTravelMM / 10,
                                          random: &r, hidden: [], category: category, yOffsetCM: k == 1 ? offset : 0))
        }
        // The change, in cm: narcotics bricks or a steel block among the cargo, or a fuel tank full of bricks.
        var region: (x: Double, y: Double, w: Double, h: Double)? = nil
        var material = "cocaine_hydrochloride"
        if let change {
            if change == "filled compartment" {
                region = (300, 62, 110, 40)
                scenes[1].add("cocaine_hydrochloride", 300, 62, 110, 40, 35)
            } else {
                let x = random.uniform(450, 1300), y = random.uniform(135, 260)
                let steel = random.uniform(0, 1) < 0.3
                let (w, h) = steel ? (60.0, 40.0) : (62.0, 42.0)
                region = (x, y, w, h)
                let target = change == "added" ? 1 : 0
                if steel {
                    material = "iron"
                    scenes[target].add("iron", x, y, w, h, random.uniform(4, 10))
                } else {
                    for i in 0..<6 { scenes[target].add("cocaine_hydrochloride", x + Double(i % 2) * 31, y + Double(i / 2) * 14, 30, 13, 20) }
                }
            }
        }
        let names = ["a", "b"].map { String(format: "pair-%04d-%@.%@", index + 1, $0, format.fileExtension) }
        var mapped: [(Scan, (Int) -> Int)] = []
        for (k, sim) in [first, second].enumerated() {
            var (scan, columnOf) = try sim.simulate(scenes[k], seed: random.next())
            scan.source.station = "PORT-\(k == 0 ? "A" : "B")"
            scan.source.model = sim.profile.model
            scan.source.sopInstanceUID = "2.25.\(seed).\(index + 1).\(k + 1)"
            try ScanFile.write(try ScanEncoder.encode(scan, as: format, output: names[k]),
                               to: (directory as NSString).appendingPathComponent(names[k]))
            mapped.append((scan, columnOf))
        }
        var boxes: [PixelBox] = []
        if let region {
            for k in 0..<2 {
                let canonical = scenes[k].pixels(x: region.x, y: region.y, width: region.w, height: region.h)
                let synth = Synthesizer(simulator: k == 0 ? first : second)
                boxes.append(synth.received(canonical, scan: mapped[k].0, columnOf: mapped[k].1))
            }
        }
        return (0..<2).map { k in
            let objects = change.map { c in
                [SceneObject(label: c, kind: "paired-difference", material: material, occlusion: 0, box: boxes[k], otherBox: boxes[1 - k])]
            } ?? []
            return SyntheticLabels.Entry(file: names[k], profile: (k == 0 ? first : second).profile.id, kind: "cargo-pair",
                                         declaration: .init(category: category, declaredEmpty: category == "empty"),
                                         objects: objects, pairOf: names[1 - k])
        }
    }
}
