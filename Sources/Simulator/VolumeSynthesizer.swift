import Compute
import Dispatch
import Foundation
import Synchronization
import Profiles
import ScanImage

/// Parcel CT volumes (`vigil synth --kind parcel-ct`): the parcel scenes of the radiograph
/// simulator built in 3-D, written as the reconstructed slices a conveyor CT sends.
///
/// Each item of a `ParcelScene` keeps its footprint and thickness and gets a height in the
/// parcel; voxels hold CT numbers (HU) from each material's attenuation averaged over the
/// profile's tube spectrum (NIST SRD 126 data), plus reconstruction noise inside objects. Slices are
/// perpendicular to the belt: frame = position along travel, x = across the belt, y = height.
public struct VolumeSynthesizer: Sendable {
    public let profile: ScannerProfile
    public let table: MaterialTable
    /// Spectrum-weighted mass attenuation of each material, cm²/g (times a density: 1/cm).
    let mu: [String: Double]
    let pool: WorkerPool

    /// Rows of a slice (tunnel height) and the belt's row.
    public static let rows = 400
    static let beltRow = 380
    /// Reconstruction noise, HU (one standard deviation).
    static let noiseHU = 12.0

    public init(profile: ScannerProfile, table: MaterialTable, pool: WorkerPool = .shared) throws(SimulatorError) {
        guard profile.modality == .ct, let channel = profile.channels.first else {
            throw SimulatorError("profile \(profile.id) is not a CT scanner")
        }
        self.profile = profile
        self.table = table
        self.pool = pool
        let spectrum = try Spectrum.channel(peak: channel.energy.peak, unitIsMeV: channel.energy.unit == .MeV, rearLayer: false, table: table)
        var mu: [String: Double] = [:]
        for material in table.massAttenuation.keys {
            let c = try table.coefficients(material)
            let massMu = zip(spectrum.weights, c).reduce(0) { $0 + $1.0 * $1.1 } / spectrum.weights.reduce(0, +)
            mu[material] = massMu  // cm²/g; times density gives 1/cm
        }
        self.mu = mu
    }

    /// Writes `count` volumes (multi-page signed 16-bit TIFF, one page per slice) and labels.json.
    public func write(count: Int, seed: UInt64, directory: String, hard: Bool = false) throws -> SyntheticLabels {
        // One volume per core in flight (each up to ~1 GB while it is built and encoded).
        try SyntheticLabels.write(count: count, directory: directory) { index in
            [try make(index: index, seed: seed, directory: directory, hard: hard)]
        }
    }

    func make(index: Int, seed: UInt64, directory: String, hard: Bool) throws -> SyntheticLabels.Entry {
        var random = SeededRandom(seed: seed &* 1_000_003 &+ UInt64(index) &+ 77)
        let pitchCM = profile.pitch.alongTravelMM / 10
        let across = profile.detectorPixels
        var hidden: [String] = []
        if random.uniform(0, 1) < 0.5 {
            for _ in 0..<(1 + Int(random.next() % 2)) { hidden.append(random.pick(ParcelScene.threats)) }
        }
        // The radiograph scene at the CT's pitch: x along travel, y across the belt.
        let scene = ParcelScene.make(width: Int(100 / pitchCM), height: across, pitchCM: pitchCM, random: &random, hidden: hidden, hard: hard)
        let shell = scene.primitives[0]
        let parcelHeight = random.uniform(15, 30)
        // Each item (group) gets one height in the parcel; the shell is the bottom and top sheets.
        var base: [Int: Double] = [:]
        let thickness = Dictionary(scene.primitives.map { ($0.group, $0.depth) }, uniquingKeysWith: max)
        for g in thickness.keys.sorted() where g != 0 {
            base[g] = random.uniform(0.3, max(0.31, parcelHeight - 0.3 - min(thickness[g]!, parcelHeight - 0.6)))
        }
        // Slices from 2 cm before the parcel to 2 cm after it.
        let first = max(0, Int(((shell.x - 2) / pitchCM).rounded())), last = Int(((shell.x + shell.width + 2) / pitchCM).rounded())
        let slices = last - first
        let rows = VolumeSynthesizer.rows
        struct Voxels { var material: String; var density: Double; var s0, s1, c0, c1, r0, r1: Int }
        func voxels(_ p: Scene.Primitive, bottom z0: Double, thickness t: Double) -> Voxels {
            // Across the belt: the scene's row numbering (y up in cm, rows down), as Scene.box.
            let c0 = max(0, across - Int(((p.y + p.height) / pitchCM).rounded())), c1 = min(across, across - Int((p.y / pitchCM).rounded()))
            let r0 = max(0, VolumeSynthesizer.beltRow - Int(((z0 + t) / pitchCM).rounded()))
            let r1 = min(rows, VolumeSynthesizer.beltRow - Int((z0 / pitchCM).rounded()))
            return Voxels(material: p.material, density: p.density, s0: Int((p.x / pitchCM).rounded()) - first,
                          s1: Int(((p.x + p.width) / pitchCM).rounded()) - first, c0: c0, c1: c1, r0: r0, r1: r1)
        }
        var parts: [Voxels] = [voxels(shell, bottom: 0, thickness: 0.3), voxels(shell, bottom: parcelHeight - 0.3, thickness: 0.3)]
        for p in scene.primitives.dropFirst() { parts.append(voxels(p, bottom: base[p.group]!, thickness: p.depth)) }
        let noiseSeed = random.next()
        var hu = [Int16](repeating: 0, count: slices * rows * across)
        let water = mu["water"]!
        let mus = parts.map { mu[$0.material]! * $0.density }
        hu.withUnsafeMutableBufferPointer { out in
            let out = UnsafeSendableBuffer(out)
            pool.forEachRange(slices, minimumChunk: 8) { range in
                var plane = [Double](repeating: 0, count: rows * across)
                for s in range {
                    for i in plane.indices { plane[i] = 0 }
                    for (k, p) in parts.enumerated() where p.s0 <= s && s < p.s1 {
                        for r in p.r0..<max(p.r0, p.r1) { for c in p.c0..<max(p.c0, p.c1) { plane[r * across + c] += mus[k] } }
                    }
                    var rng = SeededRandom(seed: noiseSeed &+ UInt64(s))
                    let dst = out.base + s * rows * across
                    for i in plane.indices {
                        // Air is stored as -1000 flat, as scanners that threshold air do; it also keeps
                        // the files small (noise does not compress).
                        guard plane[i] > 0 else { dst[i] = -1000; continue }
                        let v = 1000 * (plane[i] - water) / water + VolumeSynthesizer.noiseHU * rng.gaussian()
                        dst[i] = Int16(max(-1024, min(30_000, v.rounded())))
                    }
                }
            }
        }
        var scan = Scan(width: across, height: rows, frames: slices, channels: [.single], bitsStored: 16,
                        pixels: PixelData(format: .int16, bytes: hu.withUnsafeBytes { Array($0) }),
                        modality: .ct, view: .volume, travelAxis: .x, pitch: profile.pitch, photometric: "MONOCHROME2",
                        source: SourceMetadata(format: "tiff"))
        scan.source.station = "SYNTH-\(profile.id.uppercased())"
        scan.source.model = profile.model
        let name = String(format: "parcel-ct-%04d.tiff", index + 1)
        try ScanFile.write(try ScanEncoder.encode(scan, as: .tiff, output: name), to: (directory as NSString).appendingPathComponent(name))
        // Labels: slice pixels (x across, y height) and the slice range, from the same parts.
        let objects = zip(scene.objects, scene.objectGroups).map { object, group -> SceneObject in
            var o = object
            let mine = scene.primitives.indices.filter { scene.primitives[$0].group == group }
            let v = mine.map { parts[$0 + 1] }  // parts[0...1] are the shell's two sheets
            o.box = PixelBox(x: v.map(\.c0).min()!, y: v.map(\.r0).min()!, width: v.map(\.c1).max()! - v.map(\.c0).min()!,
                             height: v.map(\.r1).max()! - v.map(\.r0).min()!)
            o.slices = [v.map(\.s0).min()!, v.map(\.s1).max()! - 1]
            return o
        }
        return .init(file: name, profile: profile.id, kind: "parcel-ct",
                     declaration: .init(category: "personal effects", declaredEmpty: false), objects: objects)
    }
}
