import XCTest

@testable import Engine

/// How element-wise loops are laid out: the fewer and longer the rows, the closer to memory speed.
final class BroadcastTests: XCTestCase {
    func testSameShapesBecomeOneRow() {
        let shape = [1, 64, 56, 56], strides = Shapes.strides(shape)
        let c = ElementwiseOperators.coalesced(shape, strides, strides)
        XCTAssertEqual(c.shape, [64 * 56 * 56])
        XCTAssertEqual(c.sa, [1])
        XCTAssertEqual(c.sb, [1])
    }

    func testPerChannelBiasBecomesARowPerChannel() {
        let shape = [2, 64, 7, 9]
        let c = ElementwiseOperators.coalesced(shape, Shapes.strides(shape), Shapes.broadcastStrides([1, 64, 1, 1], to: shape))
        XCTAssertEqual(c.shape, [2, 64, 63])
        XCTAssertEqual(c.sa, [64 * 63, 63, 1])
        XCTAssertEqual(c.sb, [0, 1, 0])
    }

    func testBroadcastAlongTheMiddleStaysApart() {
        // [4, 1, 5] + [4, 3, 5]: a repeats its rows along axis 1, so no axis merges with it.
        let shape = [4, 3, 5]
        let c = ElementwiseOperators.coalesced(shape, Shapes.broadcastStrides([4, 1, 5], to: shape), Shapes.strides(shape))
        XCTAssertEqual(c.shape, [4, 3, 5])
        XCTAssertEqual(c.sa, [5, 0, 1])
    }
}
