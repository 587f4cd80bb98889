import Dispatch
import Foundation
import Profiles
import ScanImage
import Synchronization

/// `vigil synth --kind cargo-pair`: the same truck scanned at two ports by scanners of different
/// profiles (pitch, energies, bits, air value), sitting at a different height, travelling at a
/// different uneven speed, with fresh noise. In some pairs something changed in between.
public struct PairSynthesizer: Sendable {
    public let first: ScanSimulator
    public let second: ScanSimulator

    /// Changes between the two scans, with how often each occurs (the rest are unchanged pairs).
    /// "moved" comes last so that adding it left the other pairs of a seed as they were.
    static let changes = [("added", 0.2), ("removed", 0.2), ("filled compartment", 0.15), ("moved", 0.1)]

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
                                          random: &r, hidden: [], category: category, yOffsetCM: k == 1 ? offset : 0,
                                          exactEdges: true))
        }
        // The change, in cm, of a size and areal density drawn over the range where detection goes
        // from hopeless to certain (so RESULTS can say which change is found at 95 %): a block of
        // narcotics or of steel among the cargo, or a fuel tank partly filled with narcotics.
        var region: (x: Double, y: Double, w: Double, h: Double)? = nil
        // A moved block: `region` is where it was in A, `destination` where it is in B.
        var destination: (x: Double, y: Double, w: Double, h: Double)? = nil
        var material = "cocaine_hydrochloride"
        var massThickness = 0.0
        if let change {
            if change == "filled compartment" {
                region = (300, 62, 110, 40)
                massThickness = random.uniform(2, 35)
                scenes[1].add(material, 300, 62, 110, 40, massThickness / CargoScene.densities[material]!)
            } else {
                // Log-uniform sizes, 5 to 80 cm long and 5 to 50 cm high.
                func logUniform(_ lo: Double, _ hi: Double) -> Double { Foundation.exp(random.uniform(Foundation.log(lo), Foundation.log(hi))) }
                let w = logUniform(5, 80), h = logUniform(5, 50)
                let x = random.uniform(450, 1300 - w), y = random.uniform(135, 290 - h)
                if random.uniform(0, 1) < 0.3 { material = "iron" }
                // Log-uniform, 0.5 to 60 g/cm² (iron: 0.6 mm to 7.6 cm; narcotics: 0.5 to 60 cm).
                massThickness = logUniform(0.5, 60)
                region = (x, y, w, h)
                if change == "moved" {
                    // Elsewhere along the load, clear of where it was.
                    var x2 = x
                    while abs(x2 - x) < w + 20 { x2 = random.uniform(450, 1300 - w) }
                    let y2 = random.uniform(135, 290 - h)
                    destination = (x2, y2, w, h)
                    scenes[0].add(material, x, y, w, h, massThickness / CargoScene.densities[material]!)
                    scenes[1].add(material, x2, y2, w, h, massThickness / CargoScene.densities[material]!)
                } else {
                    scenes[change == "added" ? 1 : 0].add(material, x, y, w, h, massThickness / CargoScene.densities[material]!)
                }
            }
        }
        let names = ["a", "b"].map { String(format: "pair-%04d-%@.%@", index + 1, $0, format.fileExtension) }
        var mapped: [(Scan, Travel)] = []
        for (k, sim) in [first, second].enumerated() {
            var (scan, travel) = try sim.simulate(scenes[k], seed: random.next())
            scan.source.station = "PORT-\(k == 0 ? "A" : "B")"
            scan.source.model = sim.profile.model
            scan.source.sopInstanceUID = "2.25.\(seed).\(index + 1).\(k + 1)"
            try ScanFile.write(try ScanEncoder.encode(scan, as: format, output: names[k]),
                               to: (directory as NSString).appendingPathComponent(names[k]))
            mapped.append((scan, travel))
        }
        // Each changed place, with its label: a moved block is two, where it left and where it arrived.
        var places: [(label: String, region: (x: Double, y: Double, w: Double, h: Double))] = []
        if let change, let region {
            if let destination { places = [("moved-from", region), ("moved-to", destination)] } else { places = [(change, region)] }
        }
        // boxes[p][k]: place p in scan k's received pixels.
        let boxes: [[PixelBox]] = places.map { place in
            (0..<2).map { k in
                let canonical = scenes[k].pixels(x: place.region.x, y: place.region.y, width: place.region.w, height: place.region.h)
                return Synthesizer(simulator: k == 0 ? first : second).received(canonical, scan: mapped[k].0, columnOf: mapped[k].1)
            }
        }
        return (0..<2).map { k in
            let objects = places.indices.map { p in
                SceneObject(label: places[p].label, kind: "paired-difference", material: material, occlusion: 0, box: boxes[p][k],
                            otherBox: boxes[p][1 - k], massThickness: (massThickness * 100).rounded() / 100,
                            sizeCM: [places[p].region.w, places[p].region.h].map { ($0 * 10).rounded() / 10 })
            }
            return SyntheticLabels.Entry(file: names[k], profile: (k == 0 ? first : second).profile.id, kind: "cargo-pair",
                                         declaration: .init(category: category, declaredEmpty: category == "empty"),
                                         objects: objects, pairOf: names[1 - k],
                                         truth: truth(scene: scenes[k], scan: mapped[k].0, travel: mapped[k].1,
                                                      profile: (k == 0 ? first : second).profile))
        }
    }

    /// The scan's true geometry on the vehicle: along travel from the simulated speed, across from
    /// the pitch and the height the vehicle sat at.
    private func truth(scene: Scene, scan: Scan, travel: Travel, profile: ScannerProfile) -> PairTruth {
        let step = 4
        let along = stride(from: 0, to: scan.width, by: step).map { column in
            ((travel.sceneColumn(ofReceived: column) + 0.5) * scene.pitchCM * 100).rounded() / 100
        }
        // Canonical row r is centred (H − r − ½)·pitch above the scene's ground, which is the vehicle's raised by yOffset.
        let h = Double(scene.height), p = scene.pitchYCM
        let (row0, perRow) = profile.flipVertical ? (0.5 * p, p) : ((h - 0.5) * p, -p)
        return PairTruth(step: step, alongCM: along, heightAtRow0CM: ((row0 - scene.yOffsetCM) * 100).rounded() / 100, heightPerRowCM: perRow)
    }
}
