import Compute
import XCTest

@testable import Engine

/// The direct kernel against im2col + SGEMM on the same random layer: every shape a thin layer
/// takes (pixel and filter tails, stride 2, asymmetric pads, 1x1 to 7x7, batch 2, fused activation).
final class DirectConvolutionTests: XCTestCase {
    func geometry(batch: Int = 1, channels: Int, height: Int, width: Int, filters: Int, kernel: (Int, Int), stride: Int,
                  strideW: Int? = nil, dilation: Int = 1, pads: (top: Int, left: Int, bottom: Int, right: Int)) -> Convolution.Geometry {
        var g = Convolution.Geometry()
        (g.batch, g.channels, g.height, g.width, g.filters) = (batch, channels, height, width, filters)
        (g.kh, g.kw, g.strideH, g.strideW) = (kernel.0, kernel.1, stride, strideW ?? stride)
        (g.dilationH, g.dilationW) = (dilation, dilation)
        (g.padTop, g.padLeft, g.padBottom, g.padRight) = pads
        g.outH = (height + pads.top + pads.bottom - dilation * (kernel.0 - 1) - 1) / stride + 1
        g.outW = (width + pads.left + pads.right - dilation * (kernel.1 - 1) - 1) / g.strideW + 1
        return g
    }

    func testDirectEqualsGEMMOnEveryTailStrideAndPadding() throws {
        try XCTSkipUnless(DirectConvolution.supported, "this CPU has no AVX-512: the direct kernel is never chosen")
        let cases: [(String, Convolution.Geometry, Activation)] = [
            ("3x3 s1, 53 px and 13 filters (both tails)", geometry(channels: 5, height: 9, width: 53, filters: 13, kernel: (3, 3), stride: 1,
                                                                    pads: (1, 1, 1, 1)), .none),
            ("3x3 s2, odd sizes, SiLU", geometry(channels: 2, height: 17, width: 101, filters: 12, kernel: (3, 3), stride: 2,
                                                 pads: (1, 1, 1, 1)), .silu),
            ("5x5 asymmetric pads, batch 2", geometry(batch: 2, channels: 3, height: 12, width: 70, filters: 9, kernel: (5, 5), stride: 1,
                                                      pads: (2, 1, 0, 3)), .relu),
            ("7x7 s2 stem", geometry(channels: 3, height: 20, width: 99, filters: 16, kernel: (7, 7), stride: 2, pads: (3, 3, 3, 3)), .none),
            ("1x1 s1 read in place, 11 filters", geometry(channels: 37, height: 7, width: 51, filters: 11, kernel: (1, 1), stride: 1,
                                                            pads: (0, 0, 0, 0)), .hardSwish),
            ("1x1 s1 with padding", geometry(channels: 6, height: 9, width: 40, filters: 8, kernel: (1, 1), stride: 1, pads: (1, 0, 2, 3)), .none),
            ("3x3 dilation 2", geometry(channels: 7, height: 15, width: 60, filters: 10, kernel: (3, 3), stride: 1, dilation: 2,
                                        pads: (2, 2, 2, 2)), .none),
            ("3x3 strides 2 x 1, odd width", geometry(channels: 5, height: 16, width: 67, filters: 9, kernel: (3, 3), stride: 2, strideW: 1,
                                                     pads: (1, 1, 1, 1)), .relu),
            ("5x5 s3 dilation 2", geometry(channels: 3, height: 31, width: 160, filters: 8, kernel: (5, 5), stride: 3, dilation: 2,
                                           pads: (4, 4, 4, 4)), .none),
            ("3x3, 96 filters over a 1152-long patch", geometry(channels: 128, height: 12, width: 44, filters: 96, kernel: (3, 3), stride: 1,
                                                               pads: (1, 1, 1, 1)), .silu),
            ("filter tiles: 80 filters on a 7x7 image, 200-long patch", geometry(channels: 200, height: 7, width: 7, filters: 80, kernel: (1, 1),
                                                                             stride: 1, pads: (0, 0, 0, 0)), .relu),
            ("filter tiles: 3x3 s2 to 5x5, 48 filters, Tanh", geometry(channels: 33, height: 10, width: 10, filters: 48,
                                                                                       kernel: (3, 3), stride: 2, pads: (1, 1, 1, 1)), .tanh),
            ("pixel tiles, Tanh", geometry(channels: 4, height: 20, width: 50, filters: 12, kernel: (3, 3), stride: 1,
                                                            pads: (1, 1, 1, 1)), .tanh),
            ("pixel tiles, LeakyReLU", geometry(channels: 4, height: 20, width: 50, filters: 12, kernel: (3, 3),
                                                                         stride: 1, pads: (1, 1, 1, 1)), .leakyRelu(0.1)),
            ("filter tiles, Clip", geometry(channels: 64, height: 7, width: 7, filters: 128, kernel: (3, 3), stride: 1,
                                                            pads: (1, 1, 1, 1)), .clip(-0.5, 0.5)),
            ("3x1 exactly one tile", geometry(channels: 4, height: 6, width: 48, filters: 24, kernel: (3, 1), stride: 1,
                                              pads: (1, 0, 1, 0)), .none),
        ]
        var generator = SystemRandomNumberGenerator()
        for (name, g, activation) in cases {
            let direct = try XCTUnwrap(DirectConvolution(g), name)
            let input = (0..<(g.batch * g.channels * g.height * g.width)).map { _ in Float.random(in: -1...1, using: &generator) }
            let weights = (0..<(g.filters * g.patch)).map { _ in Float.random(in: -1...1, using: &generator) }
            let bias = (0..<g.filters).map { _ in Float.random(in: -1...1, using: &generator) }
            let outCount = g.batch * g.filters * g.columns
            var viaDirect = [Float](repeating: .nan, count: outCount), viaGEMM = [Float](repeating: .nan, count: outCount)
            for threads in [1, 2] {
                let pool = WorkerPool(threads: threads)
                var scratch = [Float](repeating: .nan, count: max(direct.scratch, threads * g.patch * g.columns))
                var x = input, w = weights, b = bias
                x.withUnsafeMutableBufferPointer { x in w.withUnsafeMutableBufferPointer { w in b.withUnsafeMutableBufferPointer { b in
                    scratch.withUnsafeMutableBufferPointer { s in
                        viaDirect.withUnsafeMutableBufferPointer { y in
                            direct.run(x.baseAddress!, w.baseAddress!, b.baseAddress!, y.baseAddress!, activation, pool, scratch: s.baseAddress!)
                        }
                        viaGEMM.withUnsafeMutableBufferPointer { y in
                            Convolution.gemmConvolution(g, x.baseAddress!, w.baseAddress!, b.baseAddress!, y.baseAddress!, activation, pool,
                                                        scratch: s.baseAddress!, chunk: (g.columns + threads - 1) / threads, splitFilters: false)
                        }
                    }
                } } }
                // Written so that a NaN (an output never written) counts as a mismatch. Both sides
                // round each of `patch` products, in different orders: the bound grows with its root.
                let tolerance = 1e-6 * Float(g.patch).squareRoot()
                let mismatches = zip(viaDirect, viaGEMM).filter { !(abs($0 - $1) <= tolerance * max(1, abs($1))) }
                XCTAssertEqual(mismatches.count, 0, "\(name), \(threads) threads: e.g. \(mismatches.prefix(3))")
            }
        }
    }

    func testSmallImagesAndGroupsStayOnGEMM() {
        // 8 filters over a 7 x 7 output: half of every filter tile's lanes and a third of every
        // pixel tile's would be idle.
        XCTAssertTrue(DirectConvolution(geometry(channels: 64, height: 7, width: 7, filters: 8, kernel: (3, 3), stride: 1,
                                                 pads: (1, 1, 1, 1))) == nil)
        var grouped = geometry(channels: 64, height: 40, width: 40, filters: 64, kernel: (3, 3), stride: 1, pads: (1, 1, 1, 1))
        grouped.group = 2
        XCTAssertTrue(DirectConvolution(grouped) == nil)
        XCTAssertTrue(DirectConvolution(geometry(channels: 64, height: 56, width: 56, filters: 128, kernel: (1, 1), stride: 2,
                                                 pads: (0, 0, 0, 0))) == nil)
    }

    func testEachTilingIsChosenWhereItKeepsItsLanesBusy() throws {
        try XCTSkipUnless(DirectConvolution.supported, "this CPU has no AVX-512: the direct kernel is never chosen")
        let wideImage = try XCTUnwrap(DirectConvolution(geometry(channels: 16, height: 80, width: 80, filters: 32, kernel: (3, 3), stride: 1,
                                                                 pads: (1, 1, 1, 1))))
        XCTAssertEqual(wideImage.tiling, .pixelTiles)
        let deepLayer = try XCTUnwrap(DirectConvolution(geometry(channels: 512, height: 7, width: 7, filters: 512, kernel: (3, 3), stride: 1,
                                                                 pads: (1, 1, 1, 1))))
        XCTAssertEqual(deepLayer.tiling, .filterTiles)
        // 64 filters on 20 x 20: two padding columns in 22 and the tails idle a sixth of the pixel lanes.
        let smallImage = try XCTUnwrap(DirectConvolution(geometry(channels: 64, height: 20, width: 20, filters: 64, kernel: (3, 3), stride: 1,
                                                                  pads: (1, 1, 1, 1))))
        XCTAssertEqual(smallImage.tiling, .filterTiles)
    }
}
