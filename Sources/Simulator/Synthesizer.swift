import Dispatch
import Foundation
import Synchronization
import Profiles
import ScanImage

/// Ground truth written beside synthetic scans (`labels.json`, DESIGN.md).
public struct SyntheticLabels: Codable, Sendable {
    public struct Declaration: Codable, Sendable {
        public var category: String
        public var declaredEmpty: Bool
    }

    public struct Entry: Codable, Sendable {
        public var file: String
        public var profile: String
        public var kind: String
        public var declaration: Declaration
        public var objects: [SceneObject]
        /// The other scan of a pair (cargo-pair only).
        public var pairOf: String? = nil
        /// Where the goods are in a loaded container (label = true goods category); absent when empty.
        public var load: SceneObject? = nil
        /// cargo-pair only: where this scan's pixels truly are on the vehicle.
        public var truth: PairTruth? = nil
    }

    public var scans: [Entry]

    /// Makes the entries of `count` independent scenes in parallel (each has its own seed, so the
    /// result does not depend on scheduling) and writes `labels.json` into `directory`.
    static func write(count: Int, directory: String, _ make: @Sendable (Int) throws -> [Entry]) throws -> SyntheticLabels {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let results = Mutex<[Int: Result<[Entry], Error>]>([:])
        DispatchQueue.concurrentPerform(iterations: count) { index in
            let result = Result { try make(index) }
            results.withLock { $0[index] = result }
        }
        let entries = try results.withLock { r in try (0..<count).flatMap { try r[$0]!.get() } }
        let labels = SyntheticLabels(scans: entries)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(labels).write(to: URL(fileURLWithPath: (directory as NSString).appendingPathComponent("labels.json")))
        return labels
    }
}

/// Where a cargo-pair scan's received pixels truly are on the vehicle, as the simulator drew them:
/// the yardstick for registration. Positions are pixel centres.
public struct PairTruth: Codable, Sendable, Equatable {
    /// Received column `k * step` images the vehicle at `alongCM[k]` cm from the scene's front.
    public var step: Int
    public var alongCM: [Double]
    /// Received row y is at `heightAtRow0CM + heightPerRowCM * y` cm above the vehicle's ground line.
    public var heightAtRow0CM: Double
    public var heightPerRowCM: Double
}

/// `vigil synth`: deterministic synthetic scans per seed, written as the station would send them.
public struct Synthesizer: Sendable {
    public let simulator: ScanSimulator

    public init(simulator: ScanSimulator) { self.simulator = simulator }

    /// Kinds of scene, with the profile view each needs.
    public enum Kind: String, Sendable, CaseIterable {
        case cargo, vehicle, parcel

        public var view: ScanView { self == .cargo ? .side : .top }
        public var defaultProfile: String {
            switch self {
            case .cargo: return "cargo-de-linac"
            case .vehicle: return "vehicle-top"
            case .parcel: return "parcel-de-160kv"
            }
        }
        /// Scene length along travel, in cm.
        var lengthCM: Double {
            switch self {
            case .cargo: return 1650
            case .vehicle: return 650
            case .parcel: return 100
            }
        }
    }

    /// Writes `count` cargo scans (16-bit TIFF, one page per channel) and `labels.json` into `directory`.
    public func writeCargo(count: Int, seed: UInt64, directory: String) throws -> SyntheticLabels {
        try write(.cargo, count: count, seed: seed, directory: directory)
    }

    /// Writes `count` scans of `kind` (16-bit TIFF, one page per channel) and `labels.json` into `directory`.
    /// `hard` makes the harder held-out set: fuller containers with threats inside the goods and
    /// loose steel, parcels with three times the clutter.
    public func write(_ kind: Kind, count: Int, seed: UInt64, directory: String,
                      format: ScanEncoder.Format = .tiff, hard: Bool = false) throws -> SyntheticLabels {
        let profile = simulator.profile
        let pitchCM = profile.pitch.alongTravelMM / 10, pitchYCM = profile.pitch.acrossTravelMM / 10
        let width = Int((kind.lengthCM / pitchCM).rounded()), height = profile.detectorPixels
        // Scans are independent (each has its own seed), so they are made in parallel; the
        // pool's own loops then run inline, which is the cheaper split for many scans.
        return try SyntheticLabels.write(count: count, directory: directory) { index in
            [try make(kind, index: index, seed: seed, width: width, height: height, pitchCM: pitchCM, pitchYCM: pitchYCM, directory: directory,
                      format: format, hard: hard)]
        }
    }

    private func make(_ kind: Kind, index: Int, seed: UInt64, width: Int, height: Int, pitchCM: Double, pitchYCM: Double,
                      directory: String, format: ScanEncoder.Format, hard: Bool) throws -> SyntheticLabels.Entry {
        let profile = simulator.profile
        var random = SeededRandom(seed: seed &* 1_000_003 &+ UInt64(index))
        let threats: [String] = kind == .cargo ? CargoScene.threats : kind == .vehicle ? VehicleScene.threats : ParcelScene.threats
        let category = kind == .cargo ? random.pick(CargoScene.categories) : kind == .vehicle ? "passenger car" : "personal effects"
        var hidden: [String] = []
        if random.uniform(0, 1) < 0.5 {
            for _ in 0..<(1 + Int(random.next() % 2)) { hidden.append(random.pick(threats)) }
        }
        // One in eight containers declared empty is not.
        let declaredEmpty = kind == .cargo && (category == "empty" || random.uniform(0, 1) < 0.125)
        var scene: Scene
        switch kind {
        case .cargo: scene = CargoScene.make(width: width, height: height, pitchCM: pitchCM, pitchYCM: pitchYCM, random: &random, hidden: hidden, category: category, hard: hard)
        case .vehicle: scene = VehicleScene.make(width: width, height: height, pitchCM: pitchCM, pitchYCM: pitchYCM, random: &random, hidden: hidden)
        case .parcel: scene = ParcelScene.make(width: width, height: height, pitchCM: pitchCM, pitchYCM: pitchYCM, random: &random, hidden: hidden, hard: hard)
        }
        var declared = declaredEmpty ? "empty" : category
        if let load = scene.load {
            if declaredEmpty {
                scene.label(SceneObject(label: "load", kind: "not-empty", material: load.material, occlusion: 0, box: load.box))
            } else if random.uniform(0, 1) < 0.1 {
                // One in ten loaded containers carries other goods than declared.
                declared = random.pick(CargoScene.categories.filter { $0 != "empty" && $0 != category })
                scene.label(SceneObject(label: category, kind: "declaration-mismatch", material: load.material, occlusion: 0,
                                        box: load.box))
            }
        }
        var (scan, columnOf) = try simulator.simulate(scene, seed: random.next())
        scan.source.station = "SYNTH-\(profile.id.uppercased())"
        // UIDs derived from the seed (the 2.25 arc takes a decimal integer), so files repeat exactly.
        scan.source.sopInstanceUID = "2.25.\(seed).\(index + 1)"
        scan.source.model = profile.model
        let name = String(format: "%@-%04d.%@", kind.rawValue, index + 1, format.fileExtension)
        let bytes = try ScanEncoder.encode(scan, as: format, output: name)
        try ScanFile.write(bytes, to: (directory as NSString).appendingPathComponent(name))
        let objects = scene.objects.map { object in
            var o = object
            o.box = received(object.box, scan: scan, columnOf: columnOf)
            return o
        }
        let load = scene.load.map { l in
            var l = l
            l.box = received(l.box, scan: scan, columnOf: columnOf)
            return l
        }
        return .init(file: name, profile: profile.id, kind: kind.rawValue,
                     declaration: .init(category: declared, declaredEmpty: declaredEmpty),
                     objects: objects, load: load)
    }

    /// A canonical box in the pixels of the file as written (travel stretch, then flips).
    func received(_ box: PixelBox, scan: Scan, columnOf: Travel) -> PixelBox {
        let a = columnOf(max(0, box.x)), b = columnOf(max(0, box.x + box.width - 1))
        var y = box.y
        if simulator.profile.flipVertical { y = scan.height - box.y - box.height }
        return PixelBox(x: min(a, b), y: y, width: abs(b - a) + 1, height: box.height)
    }
}
