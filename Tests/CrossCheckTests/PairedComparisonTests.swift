import Foundation
import Profiles
import ScanImage
import Simulator
import XCTest

@testable import CrossCheck

/// Paired scans as a customs officer relies on them: nothing reported when nothing changed, a
/// change found where it is in both scans, scans from two scanners registered to their true
/// geometry, and scans that cannot be compared refused with the reason.
final class PairedComparisonTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("ScannerProfiles")

    /// Both cargo scanners at a quarter of their resolution (so a debug build simulates whole trucks
    /// quickly), keeping what differs between them: pitch ratios, bits, air values, flips, energies.
    static let pairs: (directory: String, labels: SyntheticLabels, profiles: [String: ScannerProfile]) = {
        let catalog = try! ProfileCatalog(directory: root.path)
        let table = try! MaterialTable(directory: root.appendingPathComponent("attenuation").path)
        var linac = try! catalog.profile("cargo-de-linac"), mobile = try! catalog.profile("cargo-de-mobile")
        linac.pitch = PixelPitch(alongTravelMM: 16, acrossTravelMM: 16)
        linac.detectorPixels = 320
        mobile.pitch = PixelPitch(alongTravelMM: 24, acrossTravelMM: 20)
        mobile.detectorPixels = 240
        let directory = NSTemporaryDirectory() + "crosscheck-\(UUID())"
        let synthesizer = PairSynthesizer(first: try! ScanSimulator(profile: linac, table: table),
                                          second: try! ScanSimulator(profile: mobile, table: table))
        let labels = try! synthesizer.write(count: 60, seed: 31, directory: directory)
        return (directory, labels, [linac.id: linac, mobile.id: mobile])
    }()

    override class func tearDown() {
        try? FileManager.default.removeItem(atPath: pairs.directory)
    }

    func load(_ entry: SyntheticLabels.Entry) throws -> (Scan, ScannerProfile) {
        let profile = try XCTUnwrap(Self.pairs.profiles[entry.profile])
        let scan = try ScanDecoder().decodeFile(at: Self.pairs.directory + "/" + entry.file)
        return (try profile.interpret(scan, source: entry.file), profile)
    }

    /// The first pair whose A scan's labels satisfy `matches`, with both entries.
    func pair(_ matches: ([SceneObject]) -> Bool) throws -> (SyntheticLabels.Entry, SyntheticLabels.Entry) {
        let scans = Self.pairs.labels.scans
        let a = try XCTUnwrap(scans.first { $0.file.hasSuffix("-a.tiff") && matches($0.objects) }, "no such pair in the generated set")
        return (a, try XCTUnwrap(scans.first { $0.file == a.pairOf }))
    }

    func testTheSameScanComparedWithItselfHasNoDifference() throws {
        let (a, _) = try pair { _ in true }
        let (scan, profile) = try load(a)
        let result = try PairedComparison.compare(scan, profileA: profile, scan, profileB: profile)
        XCTAssertEqual(result.differences, [])
        XCTAssertEqual(result.registration.dy, 0, accuracy: 0.05)
        XCTAssertEqual(result.registration.scaleY, 1, accuracy: 0.001)
        XCTAssertLessThan(result.registration.shift.map(abs).max()!, 0.05)
    }

    func testAnAddedBlockIsFoundWhereItIsInBothScans() throws {
        let (a, b) = try pair { $0.contains { $0.label == "added" && $0.massThickness! >= 8 && $0.sizeCM!.min()! >= 20 } }
        let truth = a.objects[0]
        let (scanA, profileA) = try load(a), (scanB, profileB) = try load(b)
        let result = try PairedComparison.compare(scanA, profileA: profileA, scanB, profileB: profileB)
        XCTAssertEqual(result.differences.count, 1, "\(result.differences)")
        let found = try XCTUnwrap(result.differences.first)
        XCTAssertTrue(found.added)
        XCTAssertTrue(overlaps(found.boxA, truth.box), "\(found.boxA) against \(truth.box)")
        XCTAssertTrue(overlaps(found.boxB, try XCTUnwrap(truth.otherBox)), "\(found.boxB) against \(truth.otherBox!)")
    }

    func testAFilledCompartmentIsFoundInAPairThatHasOne() throws {
        let (a, b) = try pair { $0.contains { $0.label == "filled compartment" && $0.massThickness! >= 10 } }
        let (scanA, profileA) = try load(a), (scanB, profileB) = try load(b)
        let result = try PairedComparison.compare(scanA, profileA: profileA, scanB, profileB: profileB)
        // One box for the compartment, not its walls in pieces.
        XCTAssertEqual(result.differences.filter { $0.added && overlaps($0.boxA, a.objects[0].box) }.count, 1, "\(result.differences)")
    }

    func testScansFromTwoScannersRegisterToTheirTrueGeometry() throws {
        let (a, b) = try pair { $0.isEmpty }
        let (scanA, profileA) = try load(a), (scanB, profileB) = try load(b)
        XCTAssertNotEqual(profileA.id, profileB.id)
        let result = try PairedComparison.compare(scanA, profileA: profileA, scanB, profileB: profileB)
        XCTAssertEqual(result.differences, [])
        let ta = try XCTUnwrap(a.truth), tb = try XCTUnwrap(b.truth)
        // Along travel: where A's column is on the vehicle, and which column of B saw that place.
        var errors: [Double] = []
        for x in stride(from: 0, to: scanA.width - ta.step, by: 8) {
            let cm = interpolate(ta.alongCM, at: Double(x) / Double(ta.step))
            guard cm > 40, cm < 1600, let trueColumn = invert(tb.alongCM, cm).map({ $0 * Double(tb.step) }) else { continue }
            errors.append(abs(result.pointInB(x: Double(x), y: Double(scanA.height / 2)).x - trueColumn))
        }
        XCTAssertGreaterThan(errors.count, 50)
        XCTAssertLessThan(errors.reduce(0, +) / Double(errors.count), 0.5, "mean error along travel, pixels of B")
        // Across: heights above the ground line.
        for y in stride(from: 0, to: scanA.height, by: 20) {
            let height = ta.heightAtRow0CM + ta.heightPerRowCM * Double(y)
            guard height > 20, height < 380 else { continue }
            let trueRow = (height - tb.heightAtRow0CM) / tb.heightPerRowCM
            XCTAssertEqual(result.pointInB(x: Double(scanA.width / 2), y: Double(y)).y, trueRow, accuracy: 0.5)
        }
    }

    func testScansThatCannotBeComparedAreRefusedWithTheReason() throws {
        let (a, _) = try pair { _ in true }
        let (scan, profile) = try load(a)
        let image = AttenuationImage(scan, profile: profile)
        // A truck and a parcel.
        var parcel = image
        parcel.view = .top
        XCTAssertThrowsError(try PairedComparison.compare(image, parcel)) { error in
            XCTAssertTrue("\(error)".contains("cannot be compared"), "\(error)")
        }
        // A third of the length: not the same vehicle.
        let third = image.width / 3
        let short = AttenuationImage(width: third, height: image.height,
                                     values: (0..<image.height).flatMap { y in image.values[(y * image.width)..<(y * image.width + third)] },
                                     pitchMM: image.pitchMM, geometry: image.geometry, modality: image.modality, view: image.view)
        XCTAssertThrowsError(try PairedComparison.compare(image, short)) { error in
            XCTAssertTrue("\(error)".contains("not the same vehicle"), "\(error)")
        }
        // An empty scan.
        var air = image
        air.values = [Float](repeating: 0, count: image.values.count)
        air.low = nil
        XCTAssertThrowsError(try PairedComparison.compare(image, air)) { error in
            XCTAssertTrue("\(error)".contains("no vehicle"), "\(error)")
        }
    }

    /// The pairing store's format: what is read back compares as the original does.
    func testAnEncodedImageReadsBackWithinHalfPrecisionAndTruncationIsRefused() throws {
        let (a, _) = try pair { _ in true }
        let (scan, profile) = try load(a)
        let image = AttenuationImage(scan, profile: profile)
        let bytes = image.encoded()
        let back = try XCTUnwrap(AttenuationImage(encoded: bytes))
        XCTAssertEqual(back.width, image.width)
        XCTAssertEqual(back.geometry, image.geometry)
        XCTAssertEqual(back.modality, image.modality)
        XCTAssertNil(back.low)
        for (x, y) in zip(back.values, image.values) { XCTAssertEqual(x, y, accuracy: max(1e-3, abs(y) * 1e-3)) }
        XCTAssertNil(AttenuationImage(encoded: Array(bytes.dropLast())))
        XCTAssertNil(AttenuationImage(encoded: Array("width=3\n".utf8)))
    }

    func overlaps(_ r: PixelRect, _ box: PixelBox) -> Bool {
        r.x < Double(box.x + box.width) && Double(box.x) < r.x + r.width && r.y < Double(box.y + box.height) && Double(box.y) < r.y + r.height
    }

    func interpolate(_ samples: [Double], at k: Double) -> Double {
        let i = min(samples.count - 2, max(0, Int(k)))
        return samples[i] + (samples[i + 1] - samples[i]) * (k - Double(i))
    }

    /// The fractional sample index where a monotone sampled function equals `value`.
    func invert(_ samples: [Double], _ value: Double) -> Double? {
        let sign: Double = samples.last! > samples.first! ? 1 : -1
        for i in 1..<samples.count where (samples[i] - value) * sign >= 0 {
            guard (samples[i - 1] - value) * sign <= 0 else { return nil }
            return Double(i - 1) + (value - samples[i - 1]) / (samples[i] - samples[i - 1])
        }
        return nil
    }
}
