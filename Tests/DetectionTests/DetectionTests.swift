import Foundation
import Profiles
import XCTest

@testable import Detection

/// Decoding, suppression and tile merging against cases computed by hand.
final class DetectionTests: XCTestCase {
    /// Three anchors, two classes: rows cx, cy, w, h, p(class 0), p(class 1).
    let output: [Float] = [
        100, 50, 300,   // cx
        40, 20, 10,     // cy
        20, 10, 8,      // w
        10, 6, 4,       // h
        0.9, 0.2, 0.3,  // class 0
        0.1, 0.7, 0.35, // class 1
    ]

    func testDecodingKeepsTheBestClassAboveItsThreshold() {
        let d = YOLODecoder.decode(output, classes: 2, anchors: 3, thresholds: [0.5, 0.4])
        XCTAssertEqual(d, [
            Detection(classIndex: 0, confidence: 0.9, box: PixelRect(x: 90, y: 35, width: 20, height: 10)),
            Detection(classIndex: 1, confidence: 0.7, box: PixelRect(x: 45, y: 17, width: 10, height: 6)),
        ])
        // Anchor 2's best class (1, 0.35) is below class 1's threshold of 0.4.
    }

    func testIoUByHand() {
        // 10x10 boxes overlapping in a 5x10 strip: 50 / (100 + 100 - 50).
        XCTAssertEqual(Detection.iou(PixelRect(x: 0, y: 0, width: 10, height: 10), PixelRect(x: 5, y: 0, width: 10, height: 10)),
                       1.0 / 3.0, accuracy: 1e-12)
        XCTAssertEqual(Detection.iou(PixelRect(x: 0, y: 0, width: 1, height: 1), PixelRect(x: 2, y: 2, width: 1, height: 1)), 0)
    }

    func testSuppressionIsPerClass() {
        let a = Detection(classIndex: 0, confidence: 0.9, box: PixelRect(x: 0, y: 0, width: 10, height: 10))
        let b = Detection(classIndex: 0, confidence: 0.8, box: PixelRect(x: 1, y: 0, width: 10, height: 10))  // IoU 0.82
        let c = Detection(classIndex: 1, confidence: 0.7, box: PixelRect(x: 1, y: 0, width: 10, height: 10))  // other class
        let d = Detection(classIndex: 0, confidence: 0.6, box: PixelRect(x: 5, y: 0, width: 10, height: 10))  // IoU 1/3
        XCTAssertEqual(NonMaximumSuppression.apply([d, c, b, a], iou: 0.5), [a, c, d])
    }

    func testOverlappingTilesReportAnObjectOnceInReceivedPixels() {
        // Image 100 wide, tiles 64 wide with overlap 28: origins x = 0 and 36. An object at
        // prepared x 40...50 is seen by both tiles (at 40 in the first, 4 in the second).
        let tiles = TileGrid(imageWidth: 100, imageHeight: 64, tileWidth: 64, tileHeight: 64, overlap: 28)
        XCTAssertEqual(tiles.xs, [0, 36])
        let seenFirst = Detection(classIndex: 0, confidence: 0.8, box: PixelRect(x: 40, y: 10, width: 10, height: 6))
        let seenSecond = Detection(classIndex: 0, confidence: 0.9, box: PixelRect(x: 4.5, y: 10, width: 10, height: 6))
        // Prepared at half the received resolution, and flipped vertically on receipt.
        let geometry = ScanGeometry(receivedWidth: 200, receivedHeight: 128, flipHorizontal: false, flipVertical: true,
                                    transposed: false, scaleX: 0.5, scaleY: 0.5)
        let merged = TileMerger.merge([[seenFirst], [seenSecond]], tiles: tiles, geometry: geometry, iou: 0.5)
        XCTAssertEqual(merged.count, 1)
        // The second tile's view wins (higher confidence): prepared x 40.5, y 10 -> received x 81,
        // y = 128 - 20 - 12 = 96, size 20 x 12.
        XCTAssertEqual(merged[0].box, PixelRect(x: 81, y: 96, width: 20, height: 12))
    }

    func testManifestLoaderNamesFileAndField() throws {
        let json = """
        {"name": "cargo-threat", "version": "1.0.0",
         "input": {"name": "images", "width": 640, "height": 640, "channels": ["high", "low"]},
         "output": {"name": "output0", "format": "yolov8", "classes": ["firearm", "blade"]},
         "thresholds": {"firearm": 0.5, "blade": 0.6}, "nmsIoU": 0.5, "profiles": ["cargo-de-linac"]}
        """
        let m = try ModelManifest.parse(Data(json.utf8), file: "manifest.json")
        XCTAssertEqual(m.id, "cargo-threat@1.0.0")
        XCTAssertEqual(m.thresholds["blade"], 0.6)
        let broken = json.replacingOccurrences(of: "\"blade\": 0.6", with: "\"blade\": 1.6")
        XCTAssertThrowsError(try ModelManifest.parse(Data(broken.utf8), file: "manifest.json")) { error in
            XCTAssertEqual("\(error)", "manifest.json: thresholds.blade: 1.6 is outside 0…1")
        }
    }

    func testManifestModelPitchTilesAndFindingKinds() throws {
        let json = """
        {"name": "cargo-threat", "version": "1.0.0",
         "input": {"name": "images", "width": 1024, "height": 512, "channels": ["high", "low"], "pitchMM": 10, "overlap": 128},
         "output": {"name": "detections", "format": "yolov8", "classes": ["pistol", "car"], "findings": "threats",
                    "kinds": {"car": "concealment"}},
         "thresholds": {"pistol": 0.25, "car": 0.25}, "nmsIoU": 0.5, "profiles": ["cargo-de-linac"]}
        """
        let m = try ModelManifest.parse(Data(json.utf8), file: "m.json")
        XCTAssertEqual(m.pitchMM, 10)
        XCTAssertEqual(m.tileOverlap, 128)
        XCTAssertEqual(m.purpose, .threats)
        XCTAssertEqual(m.kind(of: "car"), "concealment")
        XCTAssertEqual(m.kind(of: "pistol"), "threat")
        let badKind = json.replacingOccurrences(of: "\"concealment\"", with: "\"harmless\"")
        XCTAssertThrowsError(try ModelManifest.parse(Data(badKind.utf8), file: "m.json")) { error in
            XCTAssertEqual("\(error)", "m.json: output.kinds.car: 'harmless' is not one of threat, concealment")
        }
        let badOverlap = json.replacingOccurrences(of: "\"overlap\": 128", with: "\"overlap\": 400")
        XCTAssertThrowsError(try ModelManifest.parse(Data(badOverlap.utf8), file: "m.json"))
        let goods = json.replacingOccurrences(of: "\"findings\": \"threats\"", with: "\"findings\": \"goods\"")
        XCTAssertEqual(try ModelManifest.parse(Data(goods.utf8), file: "m.json").purpose, .goods)
    }
}
