import XCTest

@testable import Simulator

/// Objects keep their proportions on scanners whose pixels are not square (6 mm along travel by
/// 5 mm across on cargo-de-mobile): a box in cm spans its size in each axis's own pitch.
final class SceneGeometryTests: XCTestCase {
    func testABoxSpansItsSizeInEachAxissOwnPitch() {
        var scene = Scene(width: 400, height: 300, pitchCM: 0.6, pitchYCM: 0.5)
        scene.box("iron", density: 7.874, x: 30, y: 20, width: 60, height: 60, depthCM: 1)
        let box = scene.pixels(x: 30, y: 20, width: 60, height: 60)
        XCTAssertEqual(box.width, 100)   // 60 cm / 0.6 cm
        XCTAssertEqual(box.height, 120)  // 60 cm / 0.5 cm
        let layer = scene.layers["iron"]!
        let filled = layer.indices.filter { layer[$0] > 0 }
        XCTAssertEqual(filled.count, 100 * 120)
        // A wheel (a circle in cm) is an ellipse in pixels, taller than wide here.
        var wheel = Scene(width: 400, height: 300, pitchCM: 0.6, pitchYCM: 0.5)
        wheel.disc("rubber", density: 1, centreX: 100, centreY: 60, radius: 30, depthCM: 1)
        let pixels = wheel.layers["rubber"]!.indices.filter { wheel.layers["rubber"]![$0] > 0 }
        let columns = Set(pixels.map { $0 % 400 }), rows = Set(pixels.map { $0 / 400 })
        XCTAssertEqual(Double(columns.count), 60 / 0.6, accuracy: 2)
        XCTAssertEqual(Double(rows.count), 60 / 0.5, accuracy: 2)
    }
}
