import Foundation
import XCTest

@testable import Profiles

/// The loader accepts the documented schema and names the file and field of every mistake.
final class ProfileLoadingTests: XCTestCase {
    static var valid: [String: Any] { [
        "id": "test-de", "vendor": "generic", "model": "Test dual-energy portal", "description": "For tests.",
        "sources": ["none: a test fixture"], "modality": "DR", "view": "side", "bitsStored": 16,
        "channels": [
            ["role": "high", "energy": ["peak": 6.0, "unit": "MeV"], "air": 60000, "dark": 1000],
            ["role": "low", "energy": ["peak": 4.0, "unit": "MeV"], "air": 50000, "dark": 900],
        ],
        "pixelPitch": ["alongTravelMM": 5.0, "acrossTravelMM": 4.0], "detectorPixels": 1280, "travelAxis": "x",
        "flips": ["horizontal": false, "vertical": true],
        "preprocessing": [
            ["op": "airNormalise"], ["op": "logAttenuation", "minTransmission": 0.0001],
            ["op": "clamp", "min": 0, "max": 9.2], ["op": "resample", "pitchMM": 5.0],
            ["op": "tile", "width": 640, "height": 640, "overlap": 64],
        ],
    ] }

    func parse(_ object: [String: Any]) throws -> ScannerProfile {
        let data = try JSONSerialization.data(withJSONObject: object)
        return try ScannerProfile.parse(data, file: "vendors/test-de.json", expectedID: "test-de")
    }

    func assertRejects(_ object: [String: Any], _ expected: String, line: UInt = #line) {
        XCTAssertThrowsError(try parse(object), line: line) { error in
            XCTAssertEqual("\(error)", expected, line: line)
        }
    }

    func testValidProfileLoads() throws {
        let p = try parse(Self.valid)
        XCTAssertEqual(p.channels.map(\.role), [.high, .low])
        XCTAssertEqual(p.channels[1].air, 50000)
        XCTAssertEqual(p.preprocessing.last, .tile(width: 640, height: 640, overlap: 64))
        XCTAssertTrue(p.flipVertical)
    }

    func testUnknownKeyIsNamed() {
        var o = Self.valid
        o["pixelPich"] = 3
        assertRejects(o, "vendors/test-de.json: pixelPich: unknown key")
    }

    func testNestedUnknownKeyIsNamedWithItsPath() {
        var o = Self.valid
        var channels = o["channels"] as! [[String: Any]]
        channels[1]["gain"] = 2
        o["channels"] = channels
        assertRejects(o, "vendors/test-de.json: channels[1].gain: unknown key")
    }

    func testMissingFieldIsNamed() {
        var o = Self.valid
        o.removeValue(forKey: "detectorPixels")
        assertRejects(o, "vendors/test-de.json: detectorPixels: missing")
    }

    func testAirAboveFullScaleIsRefused() {
        var o = Self.valid
        var channels = o["channels"] as! [[String: Any]]
        channels[0]["air"] = 70000
        o["channels"] = channels
        assertRejects(o, "vendors/test-de.json: channels[0].air: 70000 is outside 1…65535")
    }

    func testDarkMustBeBelowAir() {
        var o = Self.valid
        var channels = o["channels"] as! [[String: Any]]
        channels[1]["dark"] = 50000
        o["channels"] = channels
        assertRejects(o, "vendors/test-de.json: channels[1].dark: 50000 must be below air (50000)")
    }

    func testStepOrderIsEnforced() {
        var o = Self.valid
        o["preprocessing"] = [["op": "logAttenuation", "minTransmission": 0.001]]
        assertRejects(o, "vendors/test-de.json: preprocessing[0].op: logAttenuation needs airNormalise before it")
        o["preprocessing"] = [["op": "tile", "width": 64, "height": 64, "overlap": 8], ["op": "airNormalise"]]
        assertRejects(o, "vendors/test-de.json: preprocessing[0].op: tile must be the last step")
        o["preprocessing"] = [["op": "tile", "width": 64, "height": 64, "overlap": 40]]
        assertRejects(o, "vendors/test-de.json: preprocessing[0].overlap: 40 must be less than half the tile's smaller side (64)")
    }

    func testWrongTypesAndChoices() {
        var o = Self.valid
        o["bitsStored"] = "16"
        assertRejects(o, "vendors/test-de.json: bitsStored: expected a whole number")
        o = Self.valid
        o["flips"] = ["horizontal": 0, "vertical": true]
        assertRejects(o, "vendors/test-de.json: flips.horizontal: expected true or false")
        o = Self.valid
        o["view"] = "front"
        assertRejects(o, "vendors/test-de.json: view: 'front' is not one of side, top, volume")
    }

    func testIdMustMatchFileName() {
        var o = Self.valid
        o["id"] = "other"
        assertRejects(o, "vendors/test-de.json: id: 'other' does not match the file name 'test-de'")
    }

    func testCTNeedsSlicePitchAndNoAirValues() {
        var o = Self.valid
        o["modality"] = "CT"
        o["view"] = "volume"
        o["channels"] = [["role": "single", "energy": ["peak": 160, "unit": "kV"]]]
        o["preprocessing"] = [["op": "rescale", "scale": 0.001, "offset": 1]]
        assertRejects(o, "vendors/test-de.json: pixelPitch.sliceMM: missing (required for CT)")
        o["pixelPitch"] = ["alongTravelMM": 1, "acrossTravelMM": 1, "sliceMM": 1]
        XCTAssertNoThrow(try parse(o))
    }

    /// Every profile shipped in ScannerProfiles/ loads.
    func testShippedProfilesLoad() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("ScannerProfiles").path
        let catalog = try ProfileCatalog(directory: root)
        XCTAssertGreaterThanOrEqual(catalog.profiles.count, 4)
        let kinds = Set(catalog.profiles.values.map { "\($0.modality.rawValue)-\($0.view.rawValue)-\($0.channels.count)" })
        XCTAssertTrue(kinds.contains("DR-side-2"), "a dual-energy side-view cargo profile")
        XCTAssertTrue(kinds.contains("DR-top-1"), "a single-energy top-view vehicle profile")
        XCTAssertTrue(kinds.contains("CT-volume-1"), "a parcel CT profile")
    }
}
