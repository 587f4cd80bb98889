import Foundation
import XCTest

@testable import Profiles

/// The central bounds and the sites' files: what a site may set, and the errors a wrong file gives.
final class ThresholdPolicyTests: XCTestCase {
    var folder: String!

    override func setUpWithError() throws {
        folder = NSTemporaryDirectory() + "vigil-policy-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder + "/sites", withIntermediateDirectories: true)
        try #"{"models": {"m": {"pistol": {"min": 0.1, "max": 0.5}, "blade": {"min": 0.3, "max": 0.9}}}}"#
            .write(toFile: folder + "/policy.json", atomically: true, encoding: .utf8)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: folder) }

    func testValuesInsideTheBoundsPassAndOthersNameTheBounds() throws {
        let policy = try ThresholdPolicy.load(directory: folder)
        XCTAssertNoThrow(try policy.check(model: "m", label: "pistol", value: 0.1))
        XCTAssertNoThrow(try policy.check(model: "m", label: "pistol", value: 0.5))
        XCTAssertThrowsError(try policy.check(model: "m", label: "pistol", value: 0.51)) {
            XCTAssertTrue("\($0)".contains("[0.1, 0.5]"), "\($0)")
        }
        XCTAssertThrowsError(try policy.check(model: "m", label: "pistol", value: .nan))
        XCTAssertThrowsError(try policy.check(model: "m", label: "rifle", value: 0.2)) { XCTAssertTrue("\($0)".contains("no class rifle")) }
        XCTAssertThrowsError(try policy.check(model: "x", label: "pistol", value: 0.2)) { XCTAssertTrue("\($0)".contains("model x")) }
        XCTAssertEqual(policy.floor(model: "m"), 0.1)
    }

    func testSiteFilesAreReadAndAValueOutsideTheBoundsNamesFileAndField() throws {
        try #"{"site": "narva", "thresholds": {"m": {"blade": 0.4}}}"#.write(toFile: folder + "/sites/narva.json", atomically: true, encoding: .utf8)
        XCTAssertEqual(try ThresholdPolicy.load(directory: folder).siteFiles["narva"], ["m": ["blade": 0.4]])
        try #"{"site": "narva", "thresholds": {"m": {"blade": 0.95}}}"#.write(toFile: folder + "/sites/narva.json", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ThresholdPolicy.load(directory: folder)) { error in
            let e = error as? ConfigurationError
            XCTAssertEqual(e?.field, "thresholds.m.blade")
            XCTAssertTrue(e?.file.hasSuffix("sites/narva.json") ?? false)
        }
    }

    func testTheShippedPolicyCoversEveryBundledModelClass() throws {
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let policy = try ThresholdPolicy.load(directory: repo.appendingPathComponent("ScannerProfiles").path)
        for manifest in try FileManager.default.subpathsOfDirectory(atPath: repo.appendingPathComponent("Models").path)
            where manifest.hasSuffix("/manifest.json") && !manifest.contains("training") {
            let data = try Data(contentsOf: repo.appendingPathComponent("Models/\(manifest)"))
            let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            let name = try XCTUnwrap(json["name"] as? String)
            let thresholds = try XCTUnwrap(json["thresholds"] as? [String: Double])
            for (label, calibrated) in thresholds {
                let b = try XCTUnwrap(policy.bounds[name]?[label], "\(name)/\(label) has no bounds")
                XCTAssertTrue(b.min <= calibrated && calibrated <= b.max, "\(name)/\(label): calibrated \(calibrated) outside \(b)")
            }
        }
    }
}
