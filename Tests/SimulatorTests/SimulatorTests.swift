import Foundation
import Profiles
import ScanImage
import XCTest

@testable import Simulator

/// The simulator's physics against the NIST tables, and its determinism.
final class SimulatorTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("ScannerProfiles")

    func table() throws -> MaterialTable {
        try MaterialTable(directory: Self.root.appendingPathComponent("attenuation").path)
    }

    func profile(_ id: String) throws -> ScannerProfile {
        try ProfileCatalog(directory: Self.root.path).profile(id)
    }

    /// A small profile so the debug build simulates whole scenes quickly.
    func smallProfile() throws -> ScannerProfile {
        var p = try profile("cargo-de-linac")
        p.pitch = PixelPitch(alongTravelMM: 40, acrossTravelMM: 40)
        p.detectorPixels = 128
        return p
    }

    func slab(_ material: String, arealDensity: Double) -> Scene {
        var s = Scene(width: 8, height: 4, pitchCM: 1)
        s.box(material, density: 1, x: 0, y: 0, width: 8, height: 4, depthCM: arealDensity)
        return s
    }

    func testMonoenergeticSlabFollowsTheTableWithinOnePercent() throws {
        let t = try table()
        let mev1 = try XCTUnwrap(t.energies.firstIndex(of: 1.0))
        var sim = try ScanSimulator(profile: profile("cargo-de-linac"), table: t)
        sim = ScanSimulator(copying: sim, spectra: [Spectrum(weights: t.energies.indices.map { $0 == mev1 ? 1 : 0 })])
        for (material, rhoT) in [("iron", 20.0), ("water", 30.0), ("lead", 5.0), ("aluminium", 10.0)] {
            let transmission = try sim.transmission(slab(material, arealDensity: rhoT), channel: 0)[0]
            let measured = -log(Double(transmission)) / rhoT
            let expected = try t.coefficients(material)[mev1]
            XCTAssertEqual(measured, expected, accuracy: expected * 0.01, material)
        }
    }

    func testPolychromaticBeamHardens() throws {
        let sim = try ScanSimulator(profile: profile("cargo-de-linac"), table: table())
        // Effective attenuation per g/cm² falls as the steel gets thicker: soft photons go first.
        let thin = -log(Double(try sim.transmission(slab("iron", arealDensity: 10), channel: 0)[0])) / 10
        let thick = -log(Double(try sim.transmission(slab("iron", arealDensity: 150), channel: 0)[0])) / 150
        XCTAssertLessThan(thick, thin)
    }

    /// R = ln T(low) / ln T(high) for slabs of equal high-energy attenuation.
    func ratios(_ profileID: String, _ materials: [String]) throws -> [Double] {
        let sim = try ScanSimulator(profile: profile(profileID), table: table())
        return try materials.map { m in
            // Find the areal density giving ln T(high) = 1.5 by bisection.
            var lo = 0.01, hi = 2000.0
            for _ in 0..<60 {
                let mid = (lo + hi) / 2
                let a = -log(Double(try sim.transmission(slab(m, arealDensity: mid), channel: 0)[0]))
                if a < 1.5 { lo = mid } else { hi = mid }
            }
            let high = -log(Double(try sim.transmission(slab(m, arealDensity: lo), channel: 0)[0]))
            let low = -log(Double(try sim.transmission(slab(m, arealDensity: lo), channel: 1)[0]))
            return low / high
        }
    }

    func testMegavoltDualEnergyRatioFallsWithAtomicNumber() throws {
        // Above a few MeV pair production grows with Z, so heavy elements attenuate the high-energy
        // beam relatively more: the low/high ratio orders organic > aluminium > steel > lead.
        let r = try ratios("cargo-de-linac", ["polyethylene", "aluminium", "iron", "lead"])
        XCTAssertEqual(r, r.sorted(by: >), "\(r)")
        XCTAssertGreaterThan(r[0] - r[3], 0.05, "\(r)")
    }

    func testKilovoltDualEnergyRatioRisesWithAtomicNumber() throws {
        // Photoelectric absorption (∝ Z³/E³) dominates at 160 kV: the ratio orders organic < aluminium < steel.
        let r = try ratios("parcel-de-160kv", ["polyethylene", "aluminium", "iron"])
        XCTAssertEqual(r, r.sorted(), "\(r)")
    }

    func testSameSeedSameBytesAndLabels() throws {
        let dirA = NSTemporaryDirectory() + "synth-a-\(UUID())", dirB = NSTemporaryDirectory() + "synth-b-\(UUID())"
        defer { try? FileManager.default.removeItem(atPath: dirA); try? FileManager.default.removeItem(atPath: dirB) }
        let synth = Synthesizer(simulator: try ScanSimulator(profile: smallProfile(), table: table()))
        let a = try synth.writeCargo(count: 3, seed: 42, directory: dirA)
        _ = try synth.writeCargo(count: 3, seed: 42, directory: dirB)
        for entry in a.scans {
            let x = FileManager.default.contents(atPath: dirA + "/" + entry.file)
            XCTAssertNotNil(x)
            XCTAssertEqual(x, FileManager.default.contents(atPath: dirB + "/" + entry.file), entry.file)
        }
        XCTAssertEqual(FileManager.default.contents(atPath: dirA + "/labels.json"),
                       FileManager.default.contents(atPath: dirB + "/labels.json"))
        let other = NSTemporaryDirectory() + "synth-c-\(UUID())"
        defer { try? FileManager.default.removeItem(atPath: other) }
        _ = try synth.writeCargo(count: 1, seed: 43, directory: other)
        XCTAssertNotEqual(FileManager.default.contents(atPath: other + "/cargo-0001.tiff"),
                          FileManager.default.contents(atPath: dirA + "/cargo-0001.tiff"))
    }

    func testScansDecodeAsTheProfileAndHiddenSteelShowsInItsBox() throws {
        let p = try smallProfile()
        let sim = try ScanSimulator(profile: p, table: table())
        var random = SeededRandom(seed: 5)
        let scene = CargoScene.make(width: 412, height: 128, pitchCM: 4, random: &random, hidden: ["rifle"], category: "empty")
        let (scan, columnOf) = try sim.simulate(scene, seed: 9)
        let interpreted = try p.interpret(scan, source: "sim")
        XCTAssertEqual(interpreted.channels, [.high, .low])
        let box = Synthesizer(simulator: sim).received(scene.objects[0].box, scan: scan, columnOf: columnOf)
        XCTAssertTrue(box.x >= 0 && box.y >= 0 && box.x + box.width <= scan.width && box.y + box.height <= scan.height, "\(box)")
        // Mean raw value inside the box is lower (more attenuation) than just above it.
        func mean(_ rows: Range<Int>) -> Double {
            var total = 0.0, n = 0
            for y in rows { for x in box.x..<(box.x + box.width) { total += scan.sample(x: x, y: y, channel: 0); n += 1 } }
            return total / Double(n)
        }
        let inside = mean(box.y..<(box.y + box.height))
        let beside = mean((box.y + box.height + 2)..<(box.y + box.height + 4))
        XCTAssertLessThan(inside, beside * 0.97, "inside \(inside), beside \(beside)")
    }

    func testLoadBoxCoversTheGoodsAndHardScenesHideThreatsInThem() {
        for category in ["palletised boxes", "bulk", "machinery", "drums of liquid", "textiles"] {
            for hard in [false, true] {
                var random = SeededRandom(seed: 21)
                let scene = CargoScene.make(width: 4125, height: 1280, pitchCM: 0.4, random: &random, hidden: ["pistol", "car"],
                                            category: category, hard: hard)
                guard let load = scene.load else { return XCTFail("\(category): no load") }
                XCTAssertEqual(load.label, category)
                XCTAssertGreaterThan(load.box.width, 1000, "\(category) hard \(hard)")  // at least 40 % of a 12 m container
                if hard {
                    XCTAssertGreaterThan(load.box.width, Int(0.85 * 1159 / 0.4) - 10, "\(category): hard loads fill 85 %")
                    for o in scene.objects {
                        XCTAssertTrue(o.box.x >= load.box.x && o.box.x + o.box.width <= load.box.x + load.box.width + 2,
                                      "\(category): \(o.label) at \(o.box) outside the goods \(load.box)")
                    }
                }
            }
        }
        var random = SeededRandom(seed: 21)
        XCTAssertNil(CargoScene.make(width: 4125, height: 1280, pitchCM: 0.4, random: &random, hidden: [], category: "empty").load)
    }

    func testEveryKindWritesScansItsProfileReadsWithBoxesInside() throws {
        for kind in Synthesizer.Kind.allCases {
            var p = try profile(kind.defaultProfile)
            // Coarser pixels keep the debug build quick; the geometry is the same.
            p.pitch = PixelPitch(alongTravelMM: p.pitch.alongTravelMM * 4, acrossTravelMM: p.pitch.acrossTravelMM * 4)
            p.detectorPixels /= 4
            let dir = NSTemporaryDirectory() + "synth-\(kind.rawValue)-\(UUID())"
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let labels = try Synthesizer(simulator: ScanSimulator(profile: p, table: table())).write(kind, count: 4, seed: 11, directory: dir)
            XCTAssertEqual(labels.scans.count, 4)
            for entry in labels.scans {
                XCTAssertEqual(entry.kind, kind.rawValue)
                let scan = try p.interpret(ScanDecoder().decodeFile(at: dir + "/" + entry.file), source: entry.file)
                XCTAssertEqual(scan.channels, p.channels.map(\.role))
                for o in entry.objects {
                    XCTAssertTrue(o.box.x >= 0 && o.box.y >= 0 && o.box.x + o.box.width <= scan.width
                                  && o.box.y + o.box.height <= scan.height, "\(kind) \(entry.file) \(o)")
                }
            }
        }
    }

    func testPairsShareTheTruckAndMarkTheChangeInBothScans() throws {
        func coarse(_ id: String) throws -> ScannerProfile {
            var p = try profile(id)
            p.pitch = PixelPitch(alongTravelMM: p.pitch.alongTravelMM * 6, acrossTravelMM: p.pitch.acrossTravelMM * 6)
            p.detectorPixels /= 6
            return p
        }
        let (a, b) = (try coarse("cargo-de-linac"), try coarse("cargo-de-mobile"))
        let dir = NSTemporaryDirectory() + "pairs-\(UUID())"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let labels = try PairSynthesizer(first: ScanSimulator(profile: a, table: table()), second: ScanSimulator(profile: b, table: table()))
            .write(count: 8, seed: 21, directory: dir)
        XCTAssertEqual(labels.scans.count, 16)
        var changed = 0
        for pair in stride(from: 0, to: 16, by: 2) {
            let (first, second) = (labels.scans[pair], labels.scans[pair + 1])
            XCTAssertEqual(first.pairOf, second.file)
            XCTAssertEqual(second.pairOf, first.file)
            XCTAssertEqual(first.objects.count, second.objects.count)
            guard let o = first.objects.first else { continue }
            changed += 1
            XCTAssertEqual(o.kind, "paired-difference")
            XCTAssertEqual(o.otherBox, second.objects[0].box)
            XCTAssertEqual(second.objects[0].otherBox, o.box)
            for (entry, profile) in [(first, a), (second, b)] {
                let scan = try profile.interpret(ScanDecoder().decodeFile(at: dir + "/" + entry.file), source: entry.file)
                let box = entry.objects[0].box
                XCTAssertTrue(box.x >= 0 && box.y >= 0 && box.x + box.width <= scan.width && box.y + box.height <= scan.height,
                              "\(entry.file) \(box)")
            }
        }
        XCTAssertGreaterThan(changed, 0, "eight pairs should include a change")
        XCTAssertLessThan(changed, 8, "and an unchanged pair")
    }
}
