import Compute
import XCTest

@testable import Engine

/// The direct kernel against im2col + SGEMM on the same random layer: every shape a thin layer
/// takes (pixel and filter tails, stride 2, asymmetric pads, 1x1 to 7x7, batch 2, fused activation).
final class DirectConvolutionTests: XCTestCase {
    func geometry(batch: Int = 1, channels: Int, height: Int, width: Int, filters: Int, kernel: (Int, Int), stride: Int,
                  pads: (top: Int, left: Int, bottom: Int, right: Int)) -> Convolution.Geometry {
        var g = Convolution.Geometry()
        (g.batch, g.channels, g.height, g.width, g.filters) = (batch, channels, height, width, filters)
        (g.kh, g.kw, g.strideH, g.strideW) = (kernel.0, kernel.1, stride, stride)
        (g.padTop, g.padLeft, g.padBottom, g.padRight) = pads
        g.outH = (height + pads.top + pads.bottom - kernel.0) / stride + 1
        g.outW = (width + pads.left + pads.right - kernel.1) / stride + 1
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
            ("1x1 s2", geometry(channels: 6, height: 9, width: 40, filters: 8, kernel: (1, 1), stride: 2, pads: (0, 0, 0, 0)), .none),
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
                // Written so that a NaN (an output never written) counts as a mismatch.
                let mismatches = zip(viaDirect, viaGEMM).filter { !(abs($0 - $1) <= 1e-5 * max(1, abs($1))) }.count
                XCTAssertEqual(mismatches, 0, "\(name), \(threads) threads")
            }
        }
    }

    func testWideLayersStayOnGEMM() {
        // 128 filters over a 1152-long patch: OpenBLAS's blocking pays there.
        let g = geometry(channels: 128, height: 40, width: 40, filters: 128, kernel: (3, 3), stride: 1, pads: (1, 1, 1, 1))
        XCTAssertNil(DirectConvolution(g))
    }
}
