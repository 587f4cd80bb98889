import XCTest
import Detection
import Profiles
@testable import Pipeline

final class DeclarationCheckTests: XCTestCase {
    let manifest = try! ModelManifest.parse(Data("""
        {"name": "cargo-empty", "version": "1.0.0",
         "input": {"name": "images", "width": 512, "height": 128, "channels": ["high", "low"], "pitchMM": 40, "overlap": 0},
         "output": {"name": "detections", "format": "yolov8", "classes": ["bulk", "textiles"], "findings": "goods"},
         "thresholds": {"bulk": 0.5, "textiles": 0.4}, "nmsIoU": 0.5, "profiles": ["cargo-de-linac"]}
        """.utf8), file: "m.json")

    func goods(_ label: String, _ c: Double, x: Double) -> ModelRunner.Candidate {
        .init(label: label, confidence: c, box: PixelRect(x: x, y: 10, width: 100, height: 50))
    }

    func testDeclaredEmptyWithGoodsIsNotEmptyOverTheWholeLoad() {
        let f = DeclarationCheck.findings(goods: [goods("bulk", 0.8, x: 0), goods("textiles", 0.6, x: 300)],
                                          declaration: Declaration(category: "empty", declaredEmpty: true), manifest: manifest)
        XCTAssertEqual(f.count, 1)
        XCTAssertEqual(f[0].kind, "not-empty")
        XCTAssertEqual(f[0].confidence, 0.8)
        XCTAssertEqual(f[0].box, PixelRect(x: 0, y: 10, width: 400, height: 50))
    }

    func testDeclaredEmptyAndEmptyIsQuiet() {
        XCTAssertTrue(DeclarationCheck.findings(goods: [], declaration: Declaration(declaredEmpty: true), manifest: manifest).isEmpty)
    }

    func testOtherGoodsThanDeclaredIsAMismatch() {
        let f = DeclarationCheck.findings(goods: [goods("bulk", 0.9, x: 0)], declaration: Declaration(category: "textiles"), manifest: manifest)
        XCTAssertEqual(f.map(\.kind), ["declaration-mismatch"])
        XCTAssertEqual(f.map(\.label), ["bulk"])
    }

    func testDeclaredGoodsSeenAnywhereIsConsistent() {
        let f = DeclarationCheck.findings(goods: [goods("bulk", 0.9, x: 0), goods("textiles", 0.45, x: 0)],
                                          declaration: Declaration(category: "textiles"), manifest: manifest)
        XCTAssertTrue(f.isEmpty)
        XCTAssertTrue(DeclarationCheck.findings(goods: [goods("bulk", 0.9, x: 0)], declaration: nil, manifest: manifest).isEmpty)
    }

    func testNewestModelVersionIsInService() {
        XCTAssertTrue(InstalledModels.isOlder("1.9.0", than: "1.10.0"))
        XCTAssertFalse(InstalledModels.isOlder("2.0.0", than: "1.10.0"))
    }
}
